/**
 * The composition root: the one place where the services are created and wired.
 * The Electron shell, the headless host and the CLI each call createApp and talk to the
 * same database through it.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { version } from '../../../package.json';
import type { Result } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import type { BlobStore } from '../blobs';
import { openDatabase, type Db } from '../db/db';
import { defaultEngineEntry, NodeEngineLauncher, type EngineLauncher } from '../engine-launcher';
import { Emitter, type ApiEvent, type Disposable } from '../events';
import { cachedGpuProbe, type GpuInfo } from '../gpu-probe';
import { dataPaths, type DataPaths } from '../paths';
import { createApiHandler, type ApiHandler, type ApiHandlerOptions } from './api-router';
import { DatasetService } from './datasets';
import { AttackService } from './attack';
import { ExportService } from './export';
import { InspectService } from './inspect';
import { LabelService } from './labels';
import { QualityService } from './quality';
import { RunService } from './runs';
import { SweepService } from './sweeps';
import { ExecutorService } from './executors';
import type { ExecutorKind } from '../../shared/executor';

export interface AppOptions {
  /** The data directory (created if missing). */
  dataDir: string;
  /** How engines are started. Default: child_process.fork of out/main/engine.js (or the TypeScript sources, with tsx). */
  launcher?: EngineLauncher;
  /** Which shell hosts the app, reported by `system.info`. Default 'headless'. */
  host?: 'electron' | 'headless';
  /** Folder of the bundled sample dataset; default: resources/sample/fashion-mnist-test found above this file. */
  sampleDatasetPath?: string | null;
  /** Runs trained at once (default: from the machine's cores, src/main/services/runs/threads.ts). */
  concurrency?: number;
  /** Take over the queue of processes that are gone, and leave the queue queued on shutdown (the host and the desktop app): the queue survives a restart. Default false (CLI commands). */
  adoptQueued?: boolean;
  /** Milliseconds a cancelled engine gets before it is killed (default 10 000). */
  cancelTimeoutMs?: number;
  /** Milliseconds between heartbeats and recovery sweeps of imports and runs (default HEARTBEAT_MS in db/owners.ts). */
  heartbeatMs?: number;
  /** Options of the API handler (e.g. validateResults in tests). */
  api?: ApiHandlerOptions;
  /** Whether a usable GPU exists; default: asked once of an engine process from `launcher` (gpu-probe.ts). */
  gpu?: () => Promise<GpuInfo>;
  /** Train with this executor whatever the data directory's setting says (the CLI's `--executor`; services/executors/). */
  executor?: ExecutorKind;
}

export interface App extends Disposable {
  readonly db: Db;
  readonly paths: DataPaths;
  readonly blobs: BlobStore;
  readonly datasets: DatasetService;
  readonly runs: RunService;
  readonly labels: LabelService;
  readonly quality: QualityService;
  /** Engine jobs on checkpoints (inspect, attack). */
  readonly inspect: InspectService;
  /** Adversarial-example jobs (through inspect's job plumbing). */
  readonly attack: AttackService;
  /** Export (ONNX, TF.js) and classifying new images (issue 13). */
  readonly exports: ExportService;
  readonly sweeps: SweepService;
  /** Where runs train: local or Slurm (issue 12). */
  readonly executor: ExecutorService;
  /** The API: one request → its result; rejects with ApiError. */
  readonly handle: ApiHandler;
  /** Every API event of every service. */
  readonly onEvent: (listener: (e: ApiEvent) => void) => Disposable;
  /** The file to serve for an image, or null (bad hash, nothing stored). */
  imageFile(hash: string, kind: 'thumb' | 'full'): string | null;
  /** As imageFile, making a thumbnail that is still pending first (DatasetService.servedFile): what the transports serve. */
  servedFile(hash: string, kind: 'thumb' | 'full'): Promise<string | null>;
  /** Cancel imports and runs (with `adoptQueued`: queued runs stay queued, running ones are marked interrupted) and wait (up to `timeoutMs` milliseconds) for the engines to exit; then call dispose(). */
  shutdown(timeoutMs?: number): Promise<void>;
}

function findUp(from: string, rel: string): string | null {
  let dir = resolve(from);
  for (;;) {
    const p = join(dir, rel);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/**
 * Open the database in `dataDir` (migrating it), create the services and the API handler.
 * @throws Error when the database cannot be opened or its schema is newer than this build.
 */
export function createApp(options: AppOptions): App {
  const paths = dataPaths(options.dataDir);
  const db = openDatabase(paths.db);
  const disposables: Disposable[] = [];
  try {
    const datasets = new DatasetService({ db, paths, heartbeatMs: options.heartbeatMs });
    const blobs = datasets.blobs;
    disposables.push(datasets);
    const quality = new QualityService({ db, blobs, versions: datasets.versions, previews: datasets.previews });
    const labels = new LabelService({
      db,
      blobs,
      classInfo: (datasetId, classId) => {
        const c = datasets.get(datasetId).classes.find((x) => x.id === classId);
        if (!c) throw new ApiError('not_found', `classId: class ${classId} not found`, 'classId');
        return c;
      },
    });
    disposables.push(labels);
    const launcher = options.launcher ?? new NodeEngineLauncher(defaultEngineEntry());
    // Asked of an engine once, on the first system.info or 'gpu' run (src/main never loads WebGPU).
    const gpu: () => Promise<GpuInfo> = options.gpu ?? cachedGpuProbe(launcher);
    const executor = new ExecutorService({ db, runsDir: paths.runs, local: launcher, override: options.executor });
    const runs = new RunService({ db, paths, datasets, launcher, trainingLauncher: executor.trainingLauncher(), reattach: executor, concurrency: options.concurrency, adoptQueued: options.adoptQueued, cancelTimeoutMs: options.cancelTimeoutMs, heartbeatMs: options.heartbeatMs, predictions: quality, gpu });
    disposables.push(runs);

    const inspect = new InspectService({ db, blobs, launcher });
    disposables.push(inspect);
    const attack = new AttackService({ db, cacheDir: paths.cache, inspect, datasets, prepareTraining: (id, shape) => datasets.prepareTraining(id, shape) });
    disposables.push(attack);
    const exports = new ExportService({ db, launcher, inspect });

    const events = new Emitter<ApiEvent>();
    disposables.push(datasets.onEvent((e: ApiEvent) => events.fire(e)), runs.onEvent((e) => events.fire(e)), labels.onEvent((e) => events.fire(e)), inspect.onEvent((e) => events.fire(e)), events);

    const sampleDatasetPath = options.sampleDatasetPath !== undefined ? options.sampleDatasetPath : findUp(__dirname, 'resources/sample/fashion-mnist-test');
    const systemInfo = async (): Promise<Result<'system.info'>> => ({ version, dataDir: paths.root, host: options.host ?? 'headless', sampleDatasetPath, gpu: await gpu() });
    const sweeps = new SweepService(db, runs);
    const handle = createApiHandler({ systemInfo, datasets, runs, labels, quality, sweeps, inspect, attack, exports, executor }, options.api);

    let disposed = false;
    const dispose = (): void => {
      if (disposed) return;
      disposed = true;
      for (const d of disposables.reverse()) {
        try {
          d.dispose();
        } catch (err) {
          console.error('[layerwise] dispose failed:', err);
        }
      }
      db.close();
    };

    return {
      db,
      paths,
      blobs,
      datasets,
      runs,
      labels,
      quality,
      sweeps,
      executor,
      inspect,
      attack,
      exports,
      handle,
      onEvent: events.event,
      imageFile: (hash, kind) => blobs.imageFile(hash, kind),
      servedFile: (hash, kind) => datasets.servedFile(hash, kind),
      async shutdown(timeoutMs?: number) {
        if (disposed) return;
        await runs.shutdown(timeoutMs, { keepQueue: options.adoptQueued });
        datasets.dispose(); // cancels imports
        await datasets.idle();
        dispose();
      },
      dispose,
    };
  } catch (err) {
    for (const d of disposables.reverse()) d.dispose();
    db.close();
    throw err;
  }
}
