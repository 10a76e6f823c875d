/**
 * `layerwise sweep`: a sweep or ablation from the command line, on the services' one path
 * (`sweeps.create` → the run queue), waiting for its runs and printing the ablation table:
 *
 *   layerwise sweep --spec FILE.json [--dataset D] --grid PATH=V1,V2 [--grid …]
 *                   [--random N --range PATH=LO:HI[:log][:int] [--range …] [--random-seed S]]
 *                   [--ablation] [--seeds K] [--concurrency C] [--name N]
 *
 * FILE is a run spec (as `layerwise train --spec` takes) or a whole SweepSpec (`{ base, grid,
 * random, seeds }`, src/shared/sweep.ts) that the flags add to. Values are JSON where they
 * parse (0.01, true, {"l1":0,"l2":1e-4}), else strings; commas inside brackets, braces or
 * quotes do not split. Ctrl+C cancels the sweep's queued and running runs.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { ExecutorKind } from '../../shared/executor';
import { ApiError } from '../../shared/errors';
import { parseValueList, regularizationAblation, type SweepAxis, type SweepRange, type SweepSpecInput } from '../../shared/sweep';
import type { SweepDetail } from '../../shared/sweep-api';
import { formatDelta, formatMeanSd, sweepProgressText, type AblationRow } from '../../shared/sweep-table';
import type { App } from '../services/app';
import { int, table } from './cli-args';
import { readSpecFile } from './cli-spec';
import { findDataset } from './workflows';

interface SweepFlags {
  spec: string;
  dataset?: string;
  grid: string[];
  random?: number;
  range: string[];
  randomSeed?: number;
  ablation: boolean;
  seeds?: number;
  concurrency?: number;
  name?: string;
  dataDir?: string;
}

/** `PATH=V1,V2,…` → a grid axis. @throws ApiError invalid_params (field grid). */
export function parseGrid(arg: string): SweepAxis {
  const eq = arg.indexOf('=');
  if (eq <= 0 || eq === arg.length - 1) throw new ApiError('invalid_params', `--grid: "${arg}" is not PATH=V1,V2,… (e.g. training.optimizer.learningRate=0.01,0.001)`, 'grid');
  return { path: arg.slice(0, eq).trim(), values: parseValueList(arg.slice(eq + 1)) };
}

/** `PATH=LO:HI[:log][:int]` → a range. @throws ApiError invalid_params (field range). */
export function parseRange(arg: string): SweepRange {
  const m = /^([^=]+)=([^:]+):([^:]+)((?::(?:log|int))*)$/.exec(arg.trim());
  const low = Number(m?.[2]);
  const high = Number(m?.[3]);
  if (!m || !Number.isFinite(low) || !Number.isFinite(high)) throw new ApiError('invalid_params', `--range: "${arg}" is not PATH=LO:HI[:log][:int] (e.g. training.optimizer.learningRate=1e-4:1e-1:log)`, 'range');
  const flags = m[4].split(':').filter(Boolean);
  return { path: m[1].trim(), low, high, log: flags.includes('log'), integer: flags.includes('int') };
}


const pct = (x: number): string => `${(x * 100).toFixed(1)}`;

/** The ablation table as text lines (accuracies in %; Δ against variant 0 with its standard error; `*` the best by val). */
export function ablationLines(rows: readonly AblationRow[]): string[] {
  const body = rows.map((r) => [
    `${r.best ? '*' : ' '}${r.variant}`,
    r.label,
    `${r.completed}/${r.runs}`,
    formatMeanSd(r.val),
    r.baseline ? 'baseline' : formatDelta(r.deltaVal),
    formatMeanSd(r.test),
    r.baseline ? 'baseline' : formatDelta(r.deltaTest),
  ]);
  return table(['#', 'variant', 'done', 'val acc %', 'Δ val', 'test acc %', 'Δ test'], body);
}

/** A sweep file as read: checked by the service (sweeps.create names the field). */
type SweepFile = Omit<SweepSpecInput, 'base'> & { base: Record<string, unknown> };

/**
 * The file as a SweepSpec: a SweepSpec ({ base, … }) as it is, a run spec as its base.
 * @throws ApiError invalid_params (field spec) naming the file when it cannot be read, is not JSON, or is a bare model spec.
 */
function readSweepFile(path: string): SweepFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    readSpecFile(path); // its error names the file and what is wrong (unreadable, not JSON)
  }
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && 'base' in raw) return raw as SweepFile;
  const f = readSpecFile(path);
  if (f.kind !== 'run') throw new ApiError('invalid_params', `${f.path}: a sweep needs a run spec (datasetId, model, training) or a SweepSpec ({ base, grid, … }), not a bare model spec`, 'spec');
  return { base: f.run };
}

/** The sweep of the file and the flags, unchecked (sweeps.create checks it and names the field). @throws ApiError invalid_params naming the flag or file. */
async function sweepOfFlags(app: App, o: SweepFlags): Promise<SweepFile> {
  const sweep = readSweepFile(o.spec);
  if (o.dataset) sweep.base = { ...sweep.base, datasetId: (await findDataset(app, o.dataset)).id };
  if (sweep.base.datasetId === undefined) throw new ApiError('invalid_params', `--dataset: required (${o.spec} has no datasetId)`, 'dataset');
  let grid = [...(sweep.grid ?? [])];
  if (o.ablation) grid = [...(regularizationAblation(sweep.base as never).grid ?? []), ...grid];
  grid.push(...o.grid.map(parseGrid));
  const out: SweepFile = { ...sweep, grid };
  if (o.random !== undefined || o.range.length > 0) {
    if (o.random === undefined || o.range.length === 0) throw new ApiError('invalid_params', '--random N and --range PATH=LO:HI go together', o.random === undefined ? 'random' : 'range');
    out.random = { samples: o.random, ranges: o.range.map(parseRange), ...(o.randomSeed !== undefined ? { seed: o.randomSeed } : {}) };
  }
  if (o.seeds !== undefined) out.seeds = o.seeds;
  return out;
}

/**
 * Add `sweep` to the program. `withApp` opens the data directory (with the queue's concurrency) and
 * sets the exit code to what the action returns: 0 when every run completed, 1 when one failed, 130 cancelled by Ctrl+C.
 */
export function registerSweepCommand(
  program: Command,
  io: { out(line: string): void; err(line: string): void; onInterrupt?(h: () => void): () => void },
  withApp: (dataDir: string | undefined, concurrency: number | undefined, fn: (app: App) => Promise<number>, executor?: ExecutorKind) => Promise<void>,
  dataDirOption: () => Option,
): void {
  const collect = (v: string, prev: string[]): string[] => [...prev, v];
  program
    .command('sweep')
    .description('train a sweep (grid, seeded random ranges, seeds) or the regularization ablation of a spec, and print the ablation table')
    .requiredOption('--spec <file>', 'run spec JSON (as `train --spec`) or a SweepSpec JSON ({ base, grid, random, seeds })')
    .option('--dataset <id|name>', "dataset (default: the spec's datasetId)")
    .option('--grid <PATH=V1,V2>', 'a grid axis: spec path and values (repeatable; model.dropoutRate and model.batchNormalization rewrite the model)', collect, [])
    .option('--random <n>', 'draws of the --range fields', int(1, 1000))
    .option('--range <PATH=LO:HI[:log][:int]>', 'a range to draw from, uniform or log-uniform (repeatable)', collect, [])
    .option('--random-seed <n>', "seed of the draws (default: the spec's seed)", int(0, 2 ** 31 - 1))
    .option('--ablation', 'add the regularization ablation: dropout × batch normalization × none/L1/L2 × augmentation', false)
    .option('--seeds <k>', 'repeats of each variant with seeds seed, seed+1, …', int(1, 100))
    .option('--concurrency <c>', 'runs trained at once (default: from the cores)', int(1, 64))
    .option('--name <name>', 'sweep name')
    .addOption(new Option('--executor <kind>', "train on this machine or as Slurm jobs (default: the stored setting, `layerwise executor show`)").choices(['local', 'slurm']))
    .addOption(dataDirOption())
    .action(async (o: SweepFlags & { executor?: ExecutorKind }) =>
      withApp(o.dataDir, o.concurrency, async (app) => {
        const spec = await sweepOfFlags(app, o);
        const { sweepId, runIds } = (await app.handle('sweeps.create', { spec, name: o.name })) as { sweepId: number; runIds: number[] };
        const first = (await app.handle('sweeps.get', { sweepId })) as SweepDetail;
        const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
        io.out(`sweep ${sweepId} "${first.name}": ${plural(first.variants, 'variant')} × ${plural(first.seeds, 'seed')} = ${plural(runIds.length, 'run')}, ${app.runs.concurrency} at a time`);
        let interrupted = false;
        const stop = io.onInterrupt?.(() => {
          interrupted = true;
          io.out('cancelling the sweep (Ctrl+C)…');
          void app.handle('sweeps.cancel', { sweepId }).catch(() => undefined);
        });
        let done = 0;
        try {
          await Promise.all(
            runIds.map(async (id) => {
              const r = await app.runs.waitFor(id);
              const d = (await app.handle('sweeps.get', { sweepId })) as SweepDetail;
              const mine = d.runList.find((x) => x.runId === id);
              const v = mine ? d.variantList[mine.variant] : undefined;
              const acc = r.status === 'completed' ? `: val ${r.bestValAccuracy === null ? '—' : pct(r.bestValAccuracy)} %, test ${r.testAccuracy === null ? '—' : pct(r.testAccuracy)} %` : r.error ? `: ${r.error}` : '';
              io.out(`[${++done}/${runIds.length}] run ${id} ${r.status} (${v?.label ?? '?'}, seed ${mine?.seed ?? '?'})${acc}`);
            }),
          );
        } finally {
          stop?.();
        }
        const d = (await app.handle('sweeps.get', { sweepId })) as SweepDetail;
        for (const l of ablationLines(d.table)) io.out(l);
        io.out(`runs: ${sweepProgressText(d)}`);
        return interrupted ? 130 : d.counts.completed === d.runs ? 0 : 1;
      }, o.executor),
    );
}

