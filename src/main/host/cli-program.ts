/**
 * The `layerwise` command line: import, train, runs, datasets, serve. Every command
 * opens the data directory through createApp, so it shares the database with the UI.
 *
 *   layerwise import <path> [--name N] [--label-pattern P] [--dry-run]
 *   layerwise train --dataset <id|name> --preset <preset> | --spec <file> [--epochs …] [--set PATH=VALUE …]  (cli-set.ts)
 *   layerwise spec --preset <preset> --input-size HxWxC --classes K [--out FILE] | layerwise spec <run> [--out FILE]
 *   layerwise spec --pretrained <file.tflite> --dataset <id|name> | --classes K [--freeze likeImagenet|unlikeImagenet|features|none] [--labels FILE] [--dropout R] [--out FILE]  (services/pretrained.ts)
 *   layerwise resume <run>
 *   layerwise describe --spec <file> | --preset <preset> --input-size HxWxC --classes K
 *   layerwise sweep --spec <file> --grid PATH=V1,V2 [--random N --range PATH=LO:HI[:log]] [--seeds K] [--concurrency C]  (cli-sweep.ts)
 *   layerwise runs [--dataset <id|name>]  (cli-lists.ts, with datasets and split)
 *   layerwise compare <run> <run>... [--json]
 *   layerwise attack <run> [--method fgsm,pgd] [--eps 0,1,2,4,8] [--steps K] [--split test] [--target none|next|CLASS] [--json]  (cli-attack.ts)
 *   layerwise export <run> --format onnx|tfjs [--out DIR] [--zip]  |  layerwise predict <run> FILE|DIR... [--top 5] [--json|--csv]  (cli-export.ts)
 *   layerwise executor show | set local|slurm [--partition …] [--stage DIR] …  |  layerwise engine-job DIR  (cli-executor.ts)
 *   layerwise datasets
 *   layerwise split <id|name> [--train 80 --val 10 --test 10 --seed 0 | --mode given]
 *   layerwise serve [--port 7700] [--host 127.0.0.1] [--token T | --no-token] [--demo]
 * all with --data-dir (default LAYERWISE_HOME or ~/.layerwise).
 */
import { Command, CommanderError, Option } from 'commander';
import cliProgress from 'cli-progress';
import type { DatasetDetail, DatasetSummary, ImportPreview, Metric, RunSummary } from '../../shared/api';
import { resolveDataDir } from '../paths';
import { ApiError } from '../../shared/errors';
import { METRIC, type MetricName } from '../../shared/metrics';
import { createApp, type App, type AppOptions } from '../services/app';
import { serveUntilSignalled } from './serve';
import { isLoopback } from './server';
import { bnUnsettledWarning, defaultLearningRate, parseRunSpec, RUN_DEFAULTS, type RunSpecInput } from '../../shared/spec';
import { duration, fmt, int, num, parseInputSize, pct } from './cli-args';
import { registerListCommands } from './cli-lists';
import { findDataset, modelRunSpec, presetRunSpec, waitForImport, type PresetRunOptions } from './workflows';
import { importNoticeLines, previewLines } from './cli-import';
import { checkRunSpec, inFile, mergeRunSpec, modelOfFile, PRESETS, readSpecFile, TRAINING_FLAGS, type TrainingFlag } from './cli-spec';
import { registerSpecCommands } from './cli-spec-commands';
import { applySets, checkWithSets, parseSet, type SpecSet } from './cli-set';
import { registerSweepCommand } from './cli-sweep';
import { registerCompareCommand } from './cli-compare';
import { registerAttackCommand } from './cli-attack';
import { registerBaselineCommand } from './cli-baseline';
import { registerExportCommands } from './cli-export';
import { registerExecutorCommands } from './cli-executor';
import type { ExecutorKind } from '../../shared/executor';

export { parseInputSize, table } from './cli-args';

/** Flags that shape a preset, refused with --spec (attribute name, flag). */
const PRESET_FLAGS: [string, string][] = [
  ['dropout', '--dropout'],
  ['batchNormalization', '--batch-normalization'],
  ['widthMultiplier', '--width-multiplier'],
];
type TrainFlags = Omit<PresetRunOptions, 'preset'> & { preset?: PresetRunOptions['preset']; spec?: string; dataset?: string; inputSize?: [number, number, 1 | 3]; name?: string; dataDir?: string; set?: SpecSet[] };

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
  const withApp = async (dataDir: string | undefined, fn: (app: App) => Promise<number>, concurrency?: number, executor?: ExecutorKind): Promise<void> => {
    const app = createApp({ ...io.appOptions, ...(concurrency !== undefined ? { concurrency } : {}), ...(executor !== undefined ? { executor } : {}), dataDir: resolveDataDir(dataDir ?? globalDataDir()), host: 'headless' });
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
    .option('--label-pattern <pattern>', "class names from file names: {label}_{n}, {label}.{n}, or a regex with a named group (?<label>…)")
    .option('--dry-run', 'print what the import would store (splits × classes, file types, warnings) and store nothing', false)
    .addOption(dataDirOption())
    .action(async (path: string, o: { name?: string; dataset?: number; labelPattern?: string; dryRun: boolean; dataDir?: string }) =>
      withApp(o.dataDir, async (app) => {
        const { resolve } = await import('node:path');
        if (o.dryRun) {
          const preview = (await app.handle('datasets.previewImport', { path: resolve(path), labelPattern: o.labelPattern, samplesPerClass: 2, thumbnails: false })) as ImportPreview;
          for (const l of previewLines(preview)) io.out(l);
          return 0;
        }
        const { jobId } = (await app.handle('datasets.import', { path: resolve(path), name: o.name, datasetId: o.dataset, labelPattern: o.labelPattern })) as { jobId: number };
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
          io.out(`dataset ${ds.id} "${ds.name}": ${ds.itemCount} images${ds.excludedCount ? ` (${ds.excludedCount} excluded)` : ''}, ${ds.classCount} classes (train ${ds.counts.train}, val ${ds.counts.val}, test ${ds.counts.test})`);
        }
        for (const l of importNoticeLines(job)) io.out(l);
        return job.status === 'done' ? 0 : 1;
      }),
    );

  program
    .command('train')
    .description('train a preset network, or the network of a spec file, on a dataset and print its metrics')
    .option('--dataset <id|name>', 'dataset id or name (required unless the --spec file has a datasetId)')
    .addOption(new Option('--preset <preset>', 'network').choices(PRESETS).conflicts('spec'))
    .option('--spec <file>', 'JSON file holding a run spec or a model spec (`layerwise spec` writes one); flags typed here fill in or override its training')
    // Defaults: RUN_DEFAULTS (src/shared/spec.ts), the New-run form's too.
    .option('--epochs <n>', 'epochs', int(1, 1000), RUN_DEFAULTS.epochs)
    .option('--batch-size <n>', 'mini-batch size', int(1, 4096), RUN_DEFAULTS.batchSize)
    .option('--learning-rate <lr>', `learning rate (default ${defaultLearningRate('adam')} for adam/rmsprop, ${defaultLearningRate('sgd')} for sgd/momentum)`, num(1e-9, 10))
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(['sgd', 'momentum', 'rmsprop', 'adam']).default(RUN_DEFAULTS.optimizer))
    .option('--input-size <HxWxC>', 'input shape, e.g. 28x28x1 (default: the images’ size, at most 64 px a side)', parseInputSize)
    .option('--seed <n>', 'random seed', int(0, 2 ** 31 - 1), RUN_DEFAULTS.seed)
    .option('--max-train-samples <n>', 'cap on training samples per epoch (0 = all)', int(0), RUN_DEFAULTS.maxTrainSamples)
    .option('--dropout <rate>', "dropout rate (default: the preset's; 0 for linear, mlp, lenet5)", num(0, 0.99))
    .option('--batch-normalization', 'batch normalization after each conv / hidden layer (always on in the ResNets and MobileNet)', false)
    .option('--width-multiplier <alpha>', "width multiplier of the deep presets (default: the preset's)", num(0.01, 4))
    .addOption(new Option('--backend <backend>', 'engine backend').choices(['auto', 'gpu', 'cpu']).default(RUN_DEFAULTS.backend))
    .option('--name <name>', 'run name')
    .option('--set <PATH=VALUE>', 'set any spec path, e.g. training.optimizer.learningRate=0.01 or training.earlyStopping.patience=3 (JSON value, else text; repeatable; applied last)', (v: string, all: SpecSet[] = []) => [...all, parseSet(v)])
    .addOption(dataDirOption())
    .action(async (o: TrainFlags, cmd: Command) => {
      if (!o.preset && !o.spec) cmd.error('error: give --preset <preset> or --spec <file>', { exitCode: 2 });
      const typedFlag = (k: string): boolean => cmd.getOptionValueSource(k) === 'cli';
      if (o.spec) {
        for (const [k, flag] of PRESET_FLAGS) if (typedFlag(k)) cmd.error(`error: ${flag} shapes a preset; with --spec, edit the spec file instead`, { exitCode: 2 });
      } else if (!o.dataset) cmd.error('error: required option --dataset <id|name> not specified', { exitCode: 2 });
      const typed = new Set(TRAINING_FLAGS.filter(typedFlag));
      await withApp(o.dataDir, (app) => train(app, o, typed));
    });

  /** The run spec `train` starts: a preset's, or a spec file's with the flags merged in (checked here so errors name the file). */
  const trainSpec = async (app: App, o: TrainFlags, typed: ReadonlySet<TrainingFlag>): Promise<{ ds: DatasetDetail; spec: RunSpecInput; label: string; file?: string }> => {
    const sets = o.set ?? [];
    if (!o.spec) {
      const ds = await findDataset(app, o.dataset as string);
      const preset = presetRunSpec(ds, { ...o, preset: o.preset!, inputShape: o.inputSize });
      const spec = sets.length ? checkWithSets(sets, () => parseRunSpec(applySets(preset as unknown as Record<string, unknown>, sets))) : preset;
      return { ds, spec, label: o.preset! };
    }
    const f = readSpecFile(o.spec);
    const model = modelOfFile(f);
    if (o.inputSize && o.inputSize.join() !== model.inputShape.join()) {
      throw new ApiError('invalid_params', `--input-size: ${o.inputSize.join('x')} differs from ${f.path}'s model.inputShape ${model.inputShape.join('x')}; edit the file or leave the flag out`, 'inputSize');
    }
    const fileId = f.kind === 'run' ? f.run.datasetId : undefined;
    if (!o.dataset && fileId === undefined) throw new ApiError('invalid_params', `--dataset: required (${f.path} has no datasetId)`, 'dataset');
    const ds = await findDataset(app, o.dataset ?? String(fileId));
    const flags = modelRunSpec(ds, model, o);
    const spec = f.kind === 'model' ? flags : { ...mergeRunSpec(f.run, flags, typed), datasetId: o.dataset ? ds.id : fileId };
    const set = sets.length ? applySets(spec as unknown as Record<string, unknown>, sets) : spec;
    return { ds, spec: checkWithSets(sets, () => checkRunSpec(f.path, set)), label: `${model.preset} (${f.path})`, file: f.path };
  };

  const train = async (app: App, o: TrainFlags, typed: ReadonlySet<TrainingFlag>): Promise<number> => {
    const { ds, spec, label, file } = await trainSpec(app, o, typed);
    let runId: number;
    try {
      ({ runId } = (await app.handle('runs.start', { spec, name: o.name })) as { runId: number });
    } catch (e) {
      // A model that does not fit the dataset (its class count) is the file's to fix.
      throw file && e instanceof ApiError && e.field?.startsWith('model') ? inFile(file, e) : e;
    }
    const shape = (spec.model.inputShape as number[]).join('×');
    io.out(`run ${runId}: ${label} on "${ds.name}" (${ds.classCount} classes, input ${shape}), ${spec.training.epochs} epoch${spec.training.epochs === 1 ? '' : 's'}, batch ${spec.training.batchSize}`);
    return follow(app, runId);
  };

  /** Print a run's progress and epochs until it ends (Ctrl+C cancels it, twice stops at once); its exit code. */
  const follow = async (app: App, runId: number): Promise<number> => {

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
          if (m.name === METRIC.epochSeconds) {
            const g = (n: MetricName) => row!.get(n) ?? null;
            print(
              `epoch ${m.epoch + 1}: train loss ${fmt(g(METRIC.trainLoss))} acc ${pct(g(METRIC.trainAccuracy))} | val loss ${fmt(g(METRIC.valLoss))} acc ${pct(g(METRIC.valAccuracy))} | lr ${g(METRIC.learningRate) ?? '—'} | ${duration(g(METRIC.epochSeconds))}`,
            );
          }
        }
      }
    });
    // A run sent to Slurm: its job id once submitted, then each state Slurm reports (the host polls squeue / sacct).
    let jobLine = '';
    const printJob = (): void => {
      const j = app.executor.job(runId);
      if (!j) return;
      if (!jobLine) print(`submitted to Slurm as job ${j.jobId} (partition ${app.executor.get().slurm?.partition ?? "the cluster's default"})`);
      const line = `Slurm job ${j.jobId} ${j.state}${j.node ? ` on ${j.node}` : ''}${j.reason ? ` (reason: ${j.reason})` : ''}`;
      if (line !== jobLine) print(line);
      jobLine = line;
    };
    const jobTimer = setInterval(printJob, 500);
    let final: RunSummary;
    try {
      final = await Promise.race([app.runs.waitFor(runId), forced]);
      // The job's end state comes a poll after the run's end (bounded by the executor's own follow).
      for (let t = 0; jobLine && app.runs.isActive(runId) && t < 130; t++) {
        printJob();
        await new Promise((r) => setTimeout(r, 500));
      }
      printJob();
    } finally {
      clearInterval(jobTimer);
      sub.dispose();
      stopInterrupt();
      multi?.stop();
    }
    io.out(`run ${runId} ${final.status} in ${duration(final.durationSeconds)}${final.backend ? ` on ${final.backend}` : ''}`);
    if (final.status === 'completed') {
      const tested = final.bestEpoch !== null && final.bestEpoch !== undefined ? ` (weights of epoch ${final.bestEpoch + 1}${final.stoppedEarly ? ', stopped early' : ''})` : '';
      io.out(`test accuracy ${pct(final.testAccuracy)}, test loss ${fmt(final.testLoss)}${tested}, best val accuracy ${pct(final.bestValAccuracy)}, ${fmt(final.samplesPerSec, 0)} samples/s`);
      const steps = ((await app.handle('runs.metrics', { runId })) as Metric[]).reduce((n, m) => (m.step !== null && m.step + 1 > n ? m.step + 1 : n), 0);
      const done = app.runs.get(runId).spec;
      const bn = 'model' in done ? bnUnsettledWarning(done.model, steps) : null;
      if (bn) io.err(`warning: ${bn}`);
      return 0;
    }
    if (final.error) io.err(`error: ${final.error}`);
    return final.status === 'cancelled' || interrupted ? 130 : 1;
  };

  registerSpecCommands(program, io, () => (code = 0), { withApp, dataDirOption });

  program
    .command('resume')
    .description('continue a cancelled, interrupted or failed run after its last checkpoint (optimizer state included) and print its metrics')
    .argument('<run>', 'run id', int(1))
    .addOption(dataDirOption())
    .action(async (runId: number, o: { dataDir?: string }) =>
      withApp(o.dataDir, async (app) => {
        const { fromEpoch } = (await app.handle('runs.resume', { runId })) as { fromEpoch: number | null };
        io.out(`run ${runId}: resuming ${fromEpoch === null ? 'from the start (no checkpoint)' : `after epoch ${fromEpoch + 1}`}`);
        return follow(app, runId);
      }),
    );
  registerSweepCommand(program, { ...io, onInterrupt }, (dir, concurrency, fn, executor) => withApp(dir, fn, concurrency, executor), dataDirOption);
  registerExecutorCommands(program, io, withApp, dataDirOption, (c) => (code = c));
  registerCompareCommand(program, io, withApp, dataDirOption);
  registerAttackCommand(program, { ...io, onInterrupt }, withApp, dataDirOption);
  registerBaselineCommand(program, { ...io, onInterrupt }, withApp, dataDirOption);
  registerExportCommands(program, io, withApp, dataDirOption);

  registerListCommands(program, io, withApp, dataDirOption);

  program
    .command('serve')
    .description('serve the app in the browser (headless host)')
    .option('--port <port>', 'port (0 = any free port)', int(0, 65535), 7700)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--token <token>', 'access token to ask for (default: a random one, printed in the URL)')
    .option('--no-token', 'ask for no token (loopback addresses only)')
    .option('--demo', 'on first start, import the sample dataset and train a LeNet-5 on it', false)
    .addOption(dataDirOption())
    .action(async (o: { port: number; host: string; token?: string | false; demo: boolean; dataDir?: string }, cmd: Command) => {
      if (o.token === false && !isLoopback(o.host)) cmd.error(`error: --no-token is allowed on a loopback address only (127.0.0.1, ::1, localhost), not with --host ${o.host}`, { exitCode: 2 });
      if (typeof o.token === 'string' && o.token.length < 8) cmd.error('error: --token must have at least 8 characters', { exitCode: 2 });
      const token = o.token === false ? null : o.token;
      await serveUntilSignalled({ dataDir: o.dataDir ?? globalDataDir(), port: o.port, host: o.host, token, demo: o.demo, log: io.out });
      code = -1; // keep running until a signal
    });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof ApiError) {
      io.err(`error: ${cliMessage(err, program)}`);
      return err.code === 'invalid_params' ? 2 : 1;
    }
    io.err(`error: ${(err as Error).message ?? String(err)}`);
    return 1;
  }
  return code;
}

/**
 * An API error as the CLI prints it. A top-level params field names an API field the user
 * never typed: when a command has the matching option ("labelPattern" → --label-pattern) the
 * message names the option, otherwise that prefix goes ("runId: run 99 not found" → "run 99
 * not found"). A dotted path ("training.batchSize: …", from a spec file) stays: it points into the file.
 */
export function cliMessage(err: ApiError, program: Command): string {
  const f = err.field;
  if (!f || !/^[A-Za-z]\w*$/.test(f) || !err.message.startsWith(`${f}: `)) return err.message;
  const flag = `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const rest = err.message.slice(f.length + 2);
  const has = (c: Command): boolean => c.options.some((o) => o.long === flag) || c.commands.some(has);
  return has(program) ? `${flag}: ${rest}` : rest;
}
