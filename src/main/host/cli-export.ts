/**
 * `layerwise export RUN --format onnx|tfjs [--out DIR] [--zip] [--epoch E]`: a run's checkpoint
 * (default the best) as an ONNX or TF.js model with signature.json (services/export.ts).
 * `layerwise predict RUN FILE|DIR... [--top 5] [--json|--csv] [--epoch E]`: image files (folders
 * searched recursively) classified by the run's checkpoint, decoded and preprocessed as its
 * training images were; a table, JSON, or CSV (file, predicted class, its probability, then one
 * probability column per class, then the error). A file that cannot be read or decoded gets its
 * error row and the others are still classified; the exit status is then 1.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { InvalidArgumentError, type Command, type Option } from 'commander';
import type { Result } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import { classifyErrors, predictionsCsv, preprocessText, type ClassifyResult, type ExportFormat } from '../../shared/export';
import type { App } from '../services/app';
import { int, table } from './cli-args';

type WithApp = (dataDir: string | undefined, fn: (app: App) => Promise<number>) => Promise<void>;
interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** File name endings `predict` takes from a folder (a named file is always tried). */
const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.webp', '.tif', '.tiff']);
/** Images per classify request (the API's most; one engine process each). */
const BATCH = 256;

function runIdOf(ref: string): number {
  const runId = Number(ref);
  if (!Number.isInteger(runId) || runId < 1) throw new ApiError('invalid_params', `runId: "${ref}" is not a run id`, 'runId');
  return runId;
}

/** The image files of `paths`: files as given, folders walked (sorted, image endings only). */
export async function imageFilesOf(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (IMAGE_EXT.has(extname(e.name).toLowerCase())) out.push(p);
    }
  };
  for (const p of paths) {
    const abs = resolve(p);
    let s;
    try {
      s = await stat(abs);
    } catch {
      throw new ApiError('invalid_params', `files: ${p} does not exist`, 'files');
    }
    if (s.isDirectory()) await walk(abs);
    else out.push(abs);
  }
  return out;
}

/**
 * Classify `files` (at most the API's 256) with run `runId`: a file that cannot be read gets its
 * error row here (the errno code), the rest go to `runs.classify`, which gives a row each (a
 * prediction, or why that file does not decode); rows in the order of `files`.
 * @throws ApiError from runs.classify (run, epoch) — never for one bad file.
 */
async function classifyFiles(app: App, runId: number, files: readonly string[], top: number, epoch: number | undefined): Promise<ClassifyResult> {
  const read = await Promise.all(
    files.map(async (f) => {
      try {
        return { name: f, dataBase64: (await readFile(f)).toString('base64') };
      } catch (e) {
        return { name: f, error: `unreadable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
      }
    }),
  );
  const images = read.flatMap((x) => ('dataBase64' in x ? [x] : []));
  const params = { runId, top, ...(epoch !== undefined ? { epoch: epoch - 1 } : {}) };
  // With no readable file, one image-less call still checks the run and epoch (and names them).
  const r = (await app.handle('runs.classify', { ...params, images: images.length ? images : [{ name: '-', dataBase64: '' }] })) as Result<'runs.classify'>;
  let next = 0;
  return { ...r, images: read.map((x) => ('dataBase64' in x ? r.images[next++] : x)) };
}

/** Add `export` and `predict` to the program; they open the data directory through `withApp`. */
export function registerExportCommands(program: Command, io: Io, withApp: WithApp, dataDirOption: () => Option): void {
  program
    .command('export')
    .description('write a run as an ONNX or TF.js model with signature.json (classes, input, preprocessing)')
    .argument('<run>', 'run id')
    .requiredOption('--format <format>', 'onnx or tfjs', (v: string): ExportFormat => {
      if (v !== 'onnx' && v !== 'tfjs') throw new InvalidArgumentError('expected onnx or tfjs');
      return v;
    })
    .option('--out <dir>', 'folder to write (default: <run folder>/export/<format>-epoch-<n>)')
    .option('--zip', 'also write <dir>.zip', false)
    .option('--epoch <e>', "checkpoint epoch, 1-based like the run page (default the tested epoch: the early-stopping monitor's best, else the last)", int(1))
    .addOption(dataDirOption())
    .action(async (ref: string, o: { format: ExportFormat; out?: string; zip: boolean; epoch?: number; dataDir?: string }) =>
      withApp(o.dataDir, async (app) => {
        const r = (await app.handle('runs.export', { runId: runIdOf(ref), format: o.format, zip: o.zip, ...(o.out ? { outDir: resolve(o.out) } : {}), ...(o.epoch !== undefined ? { epoch: o.epoch - 1 } : {}) })) as Result<'runs.export'>;
        io.out(`run ${r.signature.run.id}, epoch ${r.signature.run.epoch + 1} → ${r.dir}: ${r.files.join(', ')}${r.zip ? `; ${r.zip}` : ''}`);
        const p = r.signature.preprocessing;
        io.out(`input ${r.signature.input.name} [batch, ${r.signature.input.shape.slice(1).join(', ')}] float32 NHWC, ${p.channelOrder}; resize ${p.resize.rule} (centre crop) to ${p.resize.width}×${p.resize.height}; ${preprocessText(p)}`);
        io.out(`classes: ${r.signature.classes.join(', ')}`);
        return 0;
      }),
    );

  program
    .command('predict')
    .description('classify image files (or folders of them) with a run: top-k classes and probabilities')
    .argument('<run>', 'run id')
    .argument('<files...>', 'image files or folders')
    .option('--top <k>', 'classes listed per image', int(1, 100), 5)
    .option('--json', 'print JSON', false)
    .option('--csv', 'print CSV: file, predicted, probability, p(class)…', false)
    .option('--epoch <e>', "checkpoint epoch, 1-based like the run page (default the tested epoch: the early-stopping monitor's best, else the last)", int(1))
    .addOption(dataDirOption())
    .action(async (ref: string, paths: string[], o: { top: number; json: boolean; csv: boolean; epoch?: number; dataDir?: string }) =>
      withApp(o.dataDir, async (app) => {
        const runId = runIdOf(ref);
        if (o.json && o.csv) throw new ApiError('invalid_params', 'format: give --json or --csv, not both', 'format');
        const files = await imageFilesOf(paths);
        if (files.length === 0) throw new ApiError('invalid_params', `files: no image files in ${paths.join(', ')}`, 'files');
        let all: ClassifyResult | null = null;
        for (let from = 0; from < files.length; from += BATCH) {
          const r = await classifyFiles(app, runId, files.slice(from, from + BATCH), o.top, o.epoch);
          if (all) all.images.push(...r.images);
          else all = r;
        }
        const r = all!;
        if (o.json) io.out(JSON.stringify({ runId, ...r, epoch: r.epoch + 1 }, null, 2)); // 1-based like the run page
        else if (o.csv) for (const l of predictionsCsv(r)) io.out(l);
        else {
          io.out(`run ${runId}, epoch ${r.epoch + 1}: ${r.images.length} image${r.images.length === 1 ? '' : 's'}`);
          const rows = r.images.map((im) =>
            'error' in im ? [im.name, '—', '', `error: ${im.error}`] : [im.name, im.top[0].name, `${(100 * im.top[0].probability).toFixed(1)}%`, im.top.slice(1).map((t) => `${t.name} ${(100 * t.probability).toFixed(1)}%`).join(', ')],
          );
          for (const l of table(['file', 'class', 'p', 'next'], rows)) io.out(l);
        }
        // As cp or grep: every file is reported, and the status says some could not be done.
        const failed = classifyErrors(r);
        if (failed > 0) {
          io.err(`${failed} of ${r.images.length} file${r.images.length === 1 ? '' : 's'} could not be classified`);
          return 1;
        }
        return 0;
      }),
    );
}
