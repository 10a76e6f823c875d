/**
 * The `layerwise` command line: import, train, runs, datasets, serve. Every command
 * opens the data directory through createApp, so it shares the database with the UI.
 *
 *   layerwise import <path> [--name N]
 *   layerwise train --dataset <id|name> --preset linear|mlp|lenet5 [--epochs …]
 *   layerwise runs [--dataset <id|name>]
 *   layerwise datasets
 *   layerwise split <id|name> [--train 80 --val 10 --test 10 --seed 0 | --mode given]
 *   layerwise serve [--port 7700] [--host 127.0.0.1] [--demo]
 * all with --data-dir (default LAYERWISE_HOME or ~/.layerwise).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import type { DatasetSummary, Metric, RunSummary } from '../../shared/api';
import { resolveDataDir } from '../paths';
import { ApiError } from '../services/api-router';
import { createApp, type App, type AppOptions } from '../services/app';
import { serveUntilSignalled } from './serve';
import { findDataset, presetRunSpec, waitForImport, type PresetRunOptions } from './workflows';

export interface CliIO {
  /** A line for stdout. */
  out(line: string): void;
  /** A line for stderr. */
  err(line: string): void;
  /** Stream for progress bars; bars are drawn only when it is a TTY. Default process.stderr. */
  progressStream?: NodeJS.WriteStream;
  /** Subscribe to the user's interrupt (Ctrl+C); returns the unsubscribe. Default: SIGINT. */
  onInterrupt?(handler: () => void): () => void;
  /** Extra createApp options (tests: engine launcher, cancel timeout). */
  appOptions?: Omit<AppOptions, 'dataDir'>;
}

const defaultIO: CliIO = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
  return n;
};
const num = (min: number, max: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
  return n;
};
/** "32x32x3" → [32, 32, 3]. */
export function parseInputSize(v: string): [number, number, 1 | 3] {
  const m = /^(\d+)x(\d+)x([13])$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError('expected HxWxC, e.g. 28x28x1 or 32x32x3');
  return [Number(m[1]), Number(m[2]), Number(m[3]) as 1 | 3];
}

function fmt(n: number | null | undefined, digits = 4): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(digits);
}
function pct(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : `${(n * 100).toFixed(2)}%`;
}
function duration(s: number | null): string {
  if (s === null) return '—';
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** A plain text table, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/**
 * Run the CLI with `argv` (as process.argv: node, script, args…).
 * @returns the exit code: 0 success; 1 failure (also a failed run); 2 usage error; 130 a run cancelled by Ctrl+C.
 */
export async function runCli(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const stream = io.progressStream ?? process.stderr;
  const onInterrupt =
    io.onInterrupt ??
    ((h: () => void) => {
      process.on('SIGINT', h);
      return () => void process.off('SIGINT', h);
    });
  let code = 0;
  const withApp = async (dataDir: string | undefined, fn: (app: App) => Promise<number>): Promise<void> => {
    const app = createApp({ ...io.appOptions, dataDir: resolveDataDir(dataDir ?? globalDataDir()), host: 'headless' });
    try {
      code = await fn(app);
    } finally {
      await app.shutdown();
    }
  };
  const dataDirOption = (): Option => new Option('--data-dir <dir>', 'data directory (default: $LAYERWISE_HOME or ~/.layerwise)');
  /** `--data-dir` given before the subcommand (`layerwise --data-dir D runs`); the subcommand's own wins. */
  const globalDataDir = (): string | undefined => (program.opts() as { dataDir?: string }).dataDir;

  const program = new Command('layerwise')
    .description('Layerwise: image-classification workbench (command line)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError()
    .addOption(dataDirOption());

  program
    .command('import')
    .description('import a folder of images (class folders, or train/val/test folders of class folders) or MNIST-style IDX files')
    .argument('<path>', 'folder or file to import')
    .option('--name <name>', 'dataset name (default: the folder name)')
    .option('--dataset <id>', 'add to an existing dataset', int(1))
    .addOption(dataDirOption())
    .action(async (path: string, o: { name?: string; dataset?: number; dataDir?: string }) =>
      withApp(o.dataDir, async (app) => {
        const { resolve } = await import('node:path');
        const { jobId } = (await app.handle('datasets.import', { path: resolve(path), name: o.name, datasetId: o.dataset })) as { jobId: number };
        const bar = stream.isTTY ? new cliProgress.SingleBar({ format: '{phase} [{bar}] {value}/{total} files | skipped {skipped}', hideCursor: true, stream }, cliProgress.Presets.shades_classic) : null;
        let started = false;
        const stopInterrupt = onInterrupt(() => void app.handle('imports.cancel', { jobId }));
        const job = await waitForImport(app, jobId, (p) => {
          if (!bar) return;
          if (!started) {
            bar.start(Math.max(1, p.total), 0, { phase: p.phase, skipped: p.skipped });
            started = true;
          }
          bar.setTotal(Math.max(1, p.total));
          bar.update(p.done, { phase: p.phase, skipped: p.skipped });
        }).finally(() => {
          stopInterrupt();
          if (started) bar?.stop();
        });
        io.out(`import ${job.status}: ${job.imported} images imported, ${job.duplicates} duplicates, ${job.skipped.length} skipped`);
        for (const s of job.skipped.slice(0, 10)) io.out(`  skipped ${s.path}: ${s.reason}`);
        if (job.skipped.length > 10) io.out(`  … and ${job.skipped.length - 10} more`);
        if (job.error) io.err(`error: ${job.error}`);
        if (job.datasetId !== null) {
          const ds = (await app.handle('datasets.get', { datasetId: job.datasetId })) as DatasetSummary;
          io.out(`dataset ${ds.id} "${ds.name}": ${ds.itemCount} images, ${ds.classCount} classes (train ${ds.counts.train}, val ${ds.counts.val}, test ${ds.counts.test})`);
        }
        return job.status === 'done' ? 0 : 1;
      }),
    );

  program
    .command('train')
    .description('train a preset network on a dataset and print its metrics')
    .requiredOption('--dataset <id|name>', 'dataset id or name')
    .addOption(new Option('--preset <preset>', 'network').choices(['linear', 'mlp', 'lenet5']).makeOptionMandatory())
    .option('--epochs <n>', 'epochs', int(1, 1000), 5)
    .option('--batch-size <n>', 'mini-batch size', int(1, 4096), 32)
    .option('--learning-rate <lr>', 'learning rate (default 0.001 for adam/rmsprop, 0.01 for sgd/momentum)', num(1e-9, 10))
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(['sgd', 'momentum', 'rmsprop', 'adam']).default('adam'))
    .option('--input-size <HxWxC>', 'input shape, e.g. 28x28x1 (default: the images’ size, at most 64 px a side)', parseInputSize)
    .option('--seed <n>', 'random seed', int(0, 2 ** 31 - 1), 42)
    .option('--max-train-samples <n>', 'cap on training samples per epoch (0 = all)', int(0), 0)
    .option('--dropout <rate>', 'dropout rate before hidden dense layers', num(0, 0.99), 0)
    .option('--batch-normalization', 'batch normalization after each hidden layer', false)
    .addOption(new Option('--backend <backend>', 'engine backend').choices(['auto', 'gpu', 'cpu']).default('auto'))
    .option('--name <name>', 'run name')
    .addOption(dataDirOption())
    .action(async (o: PresetRunOptions & { dataset: string; inputSize?: [number, number, 1 | 3]; name?: string; dataDir?: string }) =>
      withApp(o.dataDir, (app) => train(app, o)),
    );

  const train = async (app: App, o: PresetRunOptions & { dataset: string; inputSize?: [number, number, 1 | 3]; name?: string }): Promise<number> => {
    const ds = await findDataset(app, o.dataset);
    const spec = presetRunSpec(ds, { ...o, inputShape: o.inputSize });
    const { runId } = (await app.handle('runs.start', { spec, name: o.name })) as { runId: number };
    const shape = (spec.model.inputShape as number[]).join('×');
    io.out(`run ${runId}: ${o.preset} on "${ds.name}" (${ds.classCount} classes, input ${shape}), ${spec.training.epochs} epoch${spec.training.epochs === 1 ? '' : 's'}, batch ${spec.training.batchSize}`);

    const tty = Boolean(stream.isTTY);
    const multi = tty
      ? new cliProgress.MultiBar(
          { format: 'epoch {epoch}/{epochs} [{bar}] {percentage}% | loss {loss} | {sps} samples/s | ETA {etaText}', hideCursor: true, clearOnComplete: false, stream },
          cliProgress.Presets.shades_classic,
        )
      : null;
    let bar: cliProgress.SingleBar | null = null;
    const print = (line: string): void => {
      if (multi && bar) multi.log(`${line}\n`);
      else io.out(line);
    };
    let interrupted = false;
    let force: (s: RunSummary) => void = () => undefined;
    const forced = new Promise<RunSummary>((resolve) => (force = resolve));
    const stopInterrupt = onInterrupt(() => {
      if (interrupted) {
        // Second Ctrl+C: stop now (the engine is killed, the run recorded as interrupted).
        print('stopping now');
        app.runs.dispose();
        const { spec: _spec, ...summary } = app.runs.get(runId);
        force(summary);
        return;
      }
      interrupted = true;
      print('cancelling the run (Ctrl+C; press again to stop at once)…');
      void app.handle('runs.cancel', { runId }).catch(() => undefined);
    });
    const epochs = new Map<number, Map<string, number>>();
    const sub = app.onEvent((e) => {
      if (e.event === 'run.status' && e.payload.runId === runId && e.payload.status === 'running') print(`training on ${e.payload.backend ?? 'unknown backend'}`);
      if (e.event === 'run.progress' && e.payload.runId === runId && multi) {
        const p = e.payload;
        const payload = { epoch: p.epoch + 1, epochs: p.epochs, loss: fmt(p.loss), sps: p.samplesPerSec.toFixed(0), etaText: duration(p.etaSeconds) };
        if (!bar) bar = multi.create(p.totalSteps, p.step + 1, payload);
        else {
          bar.setTotal(p.totalSteps);
          bar.update(p.step + 1, payload);
        }
      }
      if (e.event === 'run.metrics' && e.payload.runId === runId) {
        for (const m of e.payload.metrics as Metric[]) {
          if (m.step !== null || m.epoch === null) continue;
          let row = epochs.get(m.epoch);
          if (!row) epochs.set(m.epoch, (row = new Map()));
          row.set(m.name, m.value);
          if (m.name === 'epoch_seconds') {
            const g = (n: string) => row!.get(n) ?? null;
            print(
              `epoch ${m.epoch + 1}: train loss ${fmt(g('train_loss'))} acc ${pct(g('train_accuracy'))} | val loss ${fmt(g('val_loss'))} acc ${pct(g('val_accuracy'))} | lr ${g('learning_rate') ?? '—'} | ${duration(g('epoch_seconds'))}`,
            );
          }
        }
      }
    });
    let final: RunSummary;
    try {
      final = await Promise.race([app.runs.waitFor(runId), forced]);
    } finally {
      sub.dispose();
      stopInterrupt();
      multi?.stop();
    }
    io.out(`run ${runId} ${final.status} in ${duration(final.durationSeconds)}${final.backend ? ` on ${final.backend}` : ''}`);
    if (final.status === 'completed') {
      io.out(`test accuracy ${pct(final.testAccuracy)}, test loss ${fmt(final.testLoss)}, best val accuracy ${pct(final.bestValAccuracy)}, ${fmt(final.samplesPerSec, 0)} samples/s`);
      return 0;
    }
    if (final.error) io.err(`error: ${final.error}`);
    return final.status === 'cancelled' || interrupted ? 130 : 1;
  };

  program
    .command('runs')
    .description('list runs')
    .option('--dataset <id|name>', 'only runs of this dataset')
    .addOption(dataDirOption())
    .action(async (o: { dataset?: string; dataDir?: string }) =>
      withApp(o.dataDir, async (app) => {
        const datasetId = o.dataset ? (await findDataset(app, o.dataset)).id : undefined;
        const runs = (await app.handle('runs.list', datasetId === undefined ? {} : { datasetId })) as RunSummary[];
        if (runs.length === 0) {
          io.out('no runs yet: start one with `layerwise train --dataset <id> --preset linear`');
          return 0;
        }
        const rows = runs.map((r) => [String(r.id), r.name, r.datasetName, r.preset, r.status, pct(r.testAccuracy), pct(r.bestValAccuracy), duration(r.durationSeconds), r.backend ?? '—']);
        for (const l of table(['id', 'name', 'dataset', 'preset', 'status', 'test acc', 'best val', 'time', 'backend'], rows)) io.out(l);
        return 0;
      }),
    );

  program
    .command('datasets')
    .description('list datasets')
    .addOption(dataDirOption())
    .action(async (o: { dataDir?: string }) =>
      withApp(o.dataDir, async (app) => {
        const list = (await app.handle('datasets.list', {})) as DatasetSummary[];
        if (list.length === 0) io.out('no datasets yet: `layerwise import <folder>`');
        else {
          const rows = list.map((d) => [String(d.id), d.name, String(d.itemCount), String(d.classCount), `${d.counts.train}/${d.counts.val}/${d.counts.test}`, d.typicalShape ? d.typicalShape.join('×') : '—']);
          for (const l of table(['id', 'name', 'images', 'classes', 'train/val/test', 'shape'], rows)) io.out(l);
        }
        return 0;
      }),
    );

  program
    .command('split')
    .description('reassign the splits of a dataset: random percentages (seeded, stratified per class) or the splits the files came with')
    .argument('<dataset>', 'dataset id or name')
    .addOption(new Option('--mode <mode>', 'random, or given (the folders’ own train/val/test)').choices(['random', 'given']).default('random'))
    .option('--train <pct>', 'percentage for training', num(0, 100), 80)
    .option('--val <pct>', 'percentage for validation', num(0, 100), 10)
    .option('--test <pct>', 'percentage for testing', num(0, 100), 10)
    .option('--val-from-train <pct>', "given mode: percentage of train moved to val when the source has no val split", num(0, 90), 10)
    .option('--seed <n>', 'random seed', int(0, 2 ** 31 - 1), 0)
    .addOption(dataDirOption())
    .action(async (ref: string, o: { mode: 'random' | 'given'; train: number; val: number; test: number; valFromTrain: number; seed: number; dataDir?: string }) =>
      withApp(o.dataDir, async (app) => {
        const ds = await findDataset(app, ref);
        const split = { mode: o.mode, train: o.train, val: o.val, test: o.test, valFromTrain: o.valFromTrain, seed: o.seed };
        const d = (await app.handle('datasets.setSplit', { datasetId: ds.id, split })) as DatasetSummary;
        io.out(`dataset ${d.id} "${d.name}": train ${d.counts.train}, val ${d.counts.val}, test ${d.counts.test}`);
        return 0;
      }),
    );

  program
    .command('serve')
    .description('serve the app in the browser (headless host)')
    .option('--port <port>', 'port (0 = any free port)', int(0, 65535), 7700)
    .option('--host <address>', 'address to listen on; anything but loopback requires the printed token', '127.0.0.1')
    .option('--demo', 'on first start, import the sample dataset and train a LeNet-5 on it', false)
    .addOption(dataDirOption())
    .action(async (o: { port: number; host: string; demo: boolean; dataDir?: string }) => {
      await serveUntilSignalled({ dataDir: o.dataDir ?? globalDataDir(), port: o.port, host: o.host, demo: o.demo, log: io.out });
      code = -1; // keep running until a signal
    });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof ApiError) {
      io.err(`error: ${err.message}`);
      return err.code === 'invalid_params' ? 2 : 1;
    }
    io.err(`error: ${(err as Error).message ?? String(err)}`);
    return 1;
  }
  return code;
}
