/**
 * Shared by bench/time-to-accuracy.bench.ts and bench/parity.bench.ts: the app through its
 * real services (createApp on a temporary data directory: import, split, runs), our engine's
 * own evaluation of a run's per-epoch checkpoints, and bench/torch_train.py (the plain
 * PyTorch script) as a child process speaking JSON lines.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../src/engine/backend';
import { buildModel } from '../src/engine/model';
import { readPack, type LoadedPack } from '../src/engine/pack-reader';
import { deriveSeed, Rng } from '../src/engine/random';
import { evaluate } from '../src/engine/train';
import { createApp, type App } from '../src/main/services/app';
import { learningRateAt, parseRunSpec, toGraph, type RunSpec, type RunSpecInput } from '../src/shared/spec';
import { toB64 } from './common';

export const ROOT = join(__dirname, '..');
/** Threads for our engine and for PyTorch alike: LAYERWISE_THREADS, else all cores. */
export const THREADS = process.env.LAYERWISE_THREADS ? Number(process.env.LAYERWISE_THREADS) : availableParallelism();

/**
 * The Python that has PyTorch (Debian's python3-torch lives in the system Python; a
 * pyenv/venv python3 on PATH may lack it). LAYERWISE_PYTHON, when set, is the only one tried.
 * @returns the interpreter, or null with `why` to print.
 */
export function findTorchPython(): { python: string | null; why: string } {
  const candidates = process.env.LAYERWISE_PYTHON ? [process.env.LAYERWISE_PYTHON] : ['/usr/bin/python3', 'python3'];
  const python = candidates.find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
  return python ? { python, why: '' } : { python: null, why: 'PyTorch is missing (python3 -c "import torch" failed). Install it: apt-get install -y python3-torch (or set LAYERWISE_PYTHON)' };
}

/** A temporary data directory with the app's services on it; `close()` shuts them down and removes it. */
export interface BenchApp {
  app: App;
  root: string;
  close(): Promise<void>;
}

/** createApp on a fresh temporary data directory (engines: the TypeScript sources under tsx, as tests run them). */
export function openBenchApp(prefix: string): BenchApp {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const app = createApp({ dataDir: root, sampleDatasetPath: null });
  return {
    app,
    root,
    async close() {
      await app.shutdown(5000);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Import `path` through the import job, then set the dataset's split to the files' own
 * (train / test as given, no val carved from train: both engines then train on the same
 * items and test on the same ones).
 * @returns the dataset id, the import's wall-clock seconds and the split counts.
 * @throws Error when the import does not finish as 'done'.
 */
export async function importGiven(app: App, path: string): Promise<{ datasetId: number; seconds: number; counts: { train: number; val: number; test: number } }> {
  const t0 = performance.now();
  const { jobId } = await app.datasets.startImport({ path });
  const job = await app.datasets.waitForImport(jobId);
  if (job.status !== 'done' || job.datasetId == null) throw new Error(`import of ${path}: ${job.status}${job.error ? `: ${job.error}` : ''}`);
  const seconds = (performance.now() - t0) / 1000;
  const d = await app.datasets.get(job.datasetId);
  const detail = app.datasets.setSplit(job.datasetId, { ...d.split, mode: 'given', valFromTrain: 0 });
  return { datasetId: job.datasetId, seconds, counts: detail.counts };
}

export interface FinishedRun {
  runId: number;
  spec: RunSpec;
  status: string;
  error: string | null;
  testAccuracy: number | null;
  /** Per epoch: the engine's own seconds (epoch start → its metrics, as stored in 'epoch_seconds'). */
  epochSeconds: number[];
  /** Per epoch: seconds from runs.start to the epoch's checkpoint file (modification time). */
  sinceStart: number[];
  /** Seconds from runs.start to the run's end as seen here. */
  totalSeconds: number;
  /** Per epoch: the mean training loss (stored 'train_loss'). */
  trainLoss: number[];
  /** The loss of the first training step (stored 'loss' metric, step 0). */
  firstStepLoss: number | null;
  /** The run's epoch checkpoints (model.json paths) in epoch order. */
  checkpoints: string[];
}

/**
 * Start a run through RunService.start and wait for its end; read its metrics and checkpoints back.
 * @throws Error when the spec is refused.
 */
export async function trainThroughApp(app: App, input: RunSpecInput, name: string): Promise<FinishedRun> {
  const spec = parseRunSpec(input);
  const t0 = Date.now();
  const { runId } = await app.runs.start({ spec: input, name });
  const done = await app.runs.waitFor(runId);
  const totalSeconds = (Date.now() - t0) / 1000;
  const metrics = app.runs.metrics(runId);
  const epochSeconds = metrics.filter((m) => m.name === 'epoch_seconds' && m.step == null).sort((a, b) => a.epoch! - b.epoch!).map((m) => m.value);
  const trainLoss = metrics.filter((m) => m.name === 'train_loss' && m.step == null).sort((a, b) => a.epoch! - b.epoch!).map((m) => m.value);
  const first = metrics.find((m) => m.name === 'loss' && m.step === 0);
  const rows = app.db.prepare('SELECT epoch, path FROM checkpoints WHERE run_id = ? ORDER BY epoch').all(runId) as { epoch: number; path: string }[];
  const checkpoints = rows.map((r) => (r.path.endsWith('.json') ? r.path : join(r.path, 'model.json')));
  const sinceStart = checkpoints.map((p) => (statSync(p).mtimeMs - t0) / 1000);
  return { runId, spec, status: done.status, error: done.error ?? null, testAccuracy: done.testAccuracy ?? null, epochSeconds, sinceStart, totalSeconds, trainLoss, firstStepLoss: first?.value ?? null, checkpoints };
}

let backendReady: Promise<unknown> | null = null;
/** Our engine's backend in this process (wasm with the native kernels, as the engine's 'cpu' choice). */
export function ensureBackend(): Promise<unknown> {
  backendReady ??= initBackend('cpu', { threads: THREADS });
  return backendReady;
}

/**
 * Test accuracy of a saved checkpoint by the engine's own evaluation (src/engine/train.ts
 * `evaluate`: inference mode, the native executor where it covers the model) on the pack's test split.
 */
export async function checkpointTestAccuracy(modelJson: string, pack: LoadedPack): Promise<number> {
  await ensureBackend();
  const mj = JSON.parse(readFileSync(modelJson, 'utf8'));
  const w = readFileSync(join(modelJson, '..', mj.weightsManifest[0].paths[0]));
  const model = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: mj.modelTopology, weightSpecs: mj.weightsManifest[0].weights, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.length) }));
  try {
    return (await evaluate(model, pack, pack.indices.test))!.accuracy;
  } finally {
    model.dispose();
  }
}

/** The pack a run of `spec` trains on (built now if missing, then reused by the run) and its folder. */
export async function packFor(app: App, spec: RunSpecInput): Promise<{ dir: string; pack: LoadedPack; seconds: number }> {
  const t0 = performance.now();
  const parsed = parseRunSpec(spec);
  const p = await app.datasets.prepareTraining(parsed.datasetId, parsed.model.inputShape);
  return { dir: p.packDir, pack: readPack(p.packDir), seconds: (performance.now() - t0) / 1000 };
}

/**
 * The items our engine visits in each epoch, as src/engine/train.ts draws them: the seeded
 * Fisher–Yates shuffle of the pack's train indices (deriveSeed(seed, 'shuffle', epoch)), cut
 * to maxTrainSamples when set. @returns epochs × n int32, row-major.
 */
export function epochOrders(pack: LoadedPack, spec: RunSpec): Int32Array {
  const t = spec.training;
  const n = t.maxTrainSamples > 0 ? Math.min(t.maxTrainSamples, pack.indices.train.length) : pack.indices.train.length;
  const out = new Int32Array(t.epochs * n);
  for (let e = 0; e < t.epochs; e++) out.set(new Rng(deriveSeed(spec.seed, 'shuffle', e)).shuffle(Int32Array.from(pack.indices.train)).subarray(0, n), e * n);
  return out;
}

/** The initial weights our engine draws for `spec` (buildModel with the run's seed), per node in tfjs order, as torch_train.py's weightsFile. */
export async function initialWeights(spec: RunSpec): Promise<Record<string, { shape: number[]; data: string }[]>> {
  await ensureBackend();
  const model = buildModel(spec.model, spec.seed);
  try {
    const out: Record<string, { shape: number[]; data: string }[]> = {};
    for (const layer of model.layers) {
      const ws = layer.getWeights();
      if (ws.length > 0) out[layer.name] = ws.map((t) => ({ shape: t.shape, data: toB64(t.dataSync() as Float32Array) }));
    }
    return out;
  } finally {
    model.dispose();
  }
}

/**
 * The environment PyTorch runs in: OMP_WAIT_POLICY=PASSIVE unless set. Its OpenMP threads
 * otherwise spin between parallel regions, and on this shared 2-core machine (other jobs
 * running) that made a ResNet-20 step 5–7× slower (8.8–13 s against 1.5–1.9 s measured side
 * by side): a figure of the machine's load, not of PyTorch. Our engine's pool spins ≈ 50–100 µs,
 * then sleeps (native/src/thread_pool.cc kSpin).
 */
export function torchEnv(): NodeJS.ProcessEnv {
  return { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' };
}

/** What torch_train.py reports per epoch. */
export interface TorchEpoch {
  epoch: number;
  trainLoss: number;
  /** null on epochs not evaluated (evalEachEpoch false: only the last is). */
  testAccuracy: number | null;
  /** This epoch's training seconds; trainSeconds: the sum so far (test evaluation not counted). */
  seconds: number;
  trainSeconds: number;
  firstStepLoss: number;
}

export interface TorchResult {
  /** params: as describeModel counts (incl. batch-norm moving statistics); trainableParams without them. */
  ready: { torch: string; threads: number; params: number; trainableParams: number; setupSeconds: number };
  epochs: TorchEpoch[];
  /** Seconds from spawning the script to its last epoch line. */
  wallSeconds: number;
}

/**
 * Run bench/torch_train.py with `config` (see its docstring) plus the spec's graph,
 * optimizer, learning rates per epoch and L2; extra files (order, weights) are written into a temp folder.
 * @throws Error with the script's stderr when it exits non-zero.
 */
export async function trainTorch(python: string, spec: RunSpec, config: { data: Record<string, unknown>; order?: Int32Array; weights?: Record<string, unknown>; stopAt?: number; epochs?: number; evalEachEpoch?: boolean }): Promise<TorchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'layerwise-torch-'));
  try {
    const t = spec.training;
    const epochs = config.epochs ?? t.epochs;
    const g = toGraph(spec.model);
    const cfg: Record<string, unknown> = {
      threads: THREADS,
      seed: spec.seed,
      graph: { inputShape: g.inputShape, numClasses: g.numClasses, nodes: g.nodes.map((n) => ({ name: n.name, layer: n.layer, inputs: n.inputs })), output: g.output },
      data: config.data,
      optimizer: t.optimizer,
      learningRates: Array.from({ length: epochs }, (_, e) => learningRateAt(t.optimizer.learningRate, t.learningRateSchedule, e, epochs)),
      l2: t.regularization.l2,
      batchSize: t.batchSize,
      epochs,
      stopAt: config.stopAt ?? null,
      evalEachEpoch: config.evalEachEpoch ?? true,
    };
    if (t.regularization.l1 > 0) throw new Error('trainTorch: L1 is not built in torch_train.py');
    if (config.order) {
      cfg.orderFile = join(dir, 'order.i32');
      writeFileSync(cfg.orderFile as string, Buffer.from(config.order.buffer, config.order.byteOffset, config.order.byteLength));
    }
    if (config.weights) {
      cfg.weightsFile = join(dir, 'weights.json');
      writeFileSync(cfg.weightsFile as string, JSON.stringify(config.weights));
    }
    const cfgPath = join(dir, 'config.json');
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const t0 = performance.now();
    const proc = spawn(python, [join(ROOT, 'bench', 'torch_train.py'), cfgPath], { cwd: ROOT, env: torchEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const result: TorchResult = { ready: null as unknown as TorchResult['ready'], epochs: [], wallSeconds: 0 };
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const msg = JSON.parse(line);
      if (msg.event === 'ready') result.ready = msg;
      else if (msg.event === 'epoch') {
        result.epochs.push(msg);
        result.wallSeconds = (performance.now() - t0) / 1000;
      }
    });
    const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
    if (code !== 0) throw new Error(`bench/torch_train.py exited with ${code}:\n${stderr.split('\n').slice(-15).join('\n')}`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** "12.3 %" */
export const pct = (x: number | null | undefined): string => (x == null ? '—' : `${(x * 100).toFixed(1)} %`);
