/**
 * Training runs: validate a spec, freeze the dataset version, launch an engine process,
 * persist everything it reports, and never leave a run 'running' once its engine is gone.
 *
 * Lifecycle: start() inserts the run 'queued' (the whole parsed spec as JSON); when a
 * slot is free (concurrency, default 1) the dataset is packed (datasets.prepareTraining),
 * an engine is launched and sent the TrainJob; `ready` → 'running'; `done` →
 * 'completed' / 'cancelled'; `failed`, or an engine exit without `done` → 'failed' with
 * the engine's last error. Runs left 'queued' / 'running' by a crashed process are marked
 * failed when the service starts (unless another live process owns them, see OWNER_FILE).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetDetail, Metric, RunDetail, RunStatus, RunSummary } from '../../shared/api';
import type { EngineToMain, TrainJob } from '../../shared/engine-protocol';
import type { PackMeta } from '../../shared/pack';
import { parseRunSpec, SpecError, type RunSpec } from '../../shared/spec';
import { now, type Db } from '../db/db';
import type { EngineLauncher, EngineProcess, EngineExit } from '../engine-launcher';
import { Emitter, type ApiEvent, type Disposable } from '../events';
import type { DataPaths } from '../paths';
import { ApiError } from './api-router';

/** What the run service needs from the dataset service. */
export interface RunDatasets {
  /** @throws when the dataset does not exist. */
  get(datasetId: number): DatasetDetail | Promise<DatasetDetail>;
  /** Freeze the dataset's current items/labels/splits as a version and pack it at `inputShape` [h, w, c]. */
  prepareTraining(datasetId: number, inputShape: [number, number, 1 | 3]): Promise<{ versionId: number; versionHash: string; packDir: string; meta: PackMeta }>;
}

export interface RunServiceOptions {
  db: Db;
  paths: DataPaths;
  datasets: RunDatasets;
  launcher: EngineLauncher;
  /** Runs training at the same time; further runs wait 'queued'. Default 1. */
  concurrency?: number;
  /** After cancel(), milliseconds to wait for the engine to finish before killing it. Default 10 000. */
  cancelTimeoutMs?: number;
  /** Milliseconds between metric flushes (one transaction each). Default 250. */
  flushIntervalMs?: number;
  /** Stores an engine's `predictions` (the final model's softmax per pack item) and derives suggestions. Optional: without it they are ignored. */
  predictions?: { ingestPredictions(runId: number, msg: { path: string; count: number; numClasses: number }): unknown };
}

/** File in `runs/<id>/` naming the process (pid) that drives the run, so that another process sharing the database does not mark it interrupted. */
export const OWNER_FILE = '.owner';
export const INTERRUPTED = 'interrupted: the app stopped during the run';
const TERMINAL: ReadonlySet<RunStatus> = new Set(['completed', 'failed', 'cancelled']);
/** Minimum milliseconds between two `run.progress` events of one run. */
const PROGRESS_EVENT_MS = 100;
/** Milliseconds an engine may linger after `done` / `failed` before it is killed. */
const EXIT_GRACE_MS = 5000;

interface RunRow {
  id: number;
  dataset_id: number;
  dataset_version_id: number | null;
  dataset_name: string;
  name: string;
  preset: string;
  spec: string;
  status: RunStatus;
  backend: string | null;
  backend_detail: string | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  best_val_accuracy: number | null;
  test_accuracy: number | null;
  test_loss: number | null;
  samples_per_sec: number | null;
}

interface ActiveRun {
  runId: number;
  spec: RunSpec;
  engine: EngineProcess | null;
  cancelRequested: boolean;
  /** Terminal status written; later messages and the exit are ignored. */
  finished: boolean;
  killTimer: NodeJS.Timeout | null;
  lastProgressAt: number;
  subscriptions: Disposable[];
  exited: Promise<void>;
  resolveExited: () => void;
}

interface PendingMetric extends Metric {
  runId: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The reason recorded for an engine that exited without `done`. */
export function exitReason(exit: EngineExit): string {
  const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
  const tail = exit.stderrTail.trim();
  return tail ? `engine exited with ${how}: ${tail.slice(-1500)}` : `engine exited with ${how}`;
}

function prepareStatements(db: Db) {
  return {
    insertRun: db.prepare(
      `INSERT INTO runs (dataset_id, name, preset, spec, seed, status, created_at) VALUES (@datasetId, @name, @preset, @spec, @seed, 'queued', @createdAt)`,
    ),
    setVersion: db.prepare(`UPDATE runs SET dataset_version_id = ? WHERE id = ?`),
    setRunning: db.prepare(`UPDATE runs SET status = 'running', backend = ?, backend_detail = ?, started_at = ? WHERE id = ?`),
    setFinished: db.prepare(
      `UPDATE runs SET status = @status, error = @error, finished_at = @finishedAt,
         test_accuracy = COALESCE(@testAccuracy, test_accuracy), test_loss = COALESCE(@testLoss, test_loss),
         samples_per_sec = COALESCE(@samplesPerSec, samples_per_sec) WHERE id = @id`,
    ),
    setBestVal: db.prepare(`UPDATE runs SET best_val_accuracy = MAX(COALESCE(best_val_accuracy, -1), ?) WHERE id = ?`),
    insertMetric: db.prepare(`INSERT INTO metrics (run_id, name, epoch, step, value, time) VALUES (?, ?, ?, ?, ?, ?)`),
    insertCheckpoint: db.prepare(`INSERT INTO checkpoints (run_id, epoch, path, created_at) VALUES (?, ?, ?, ?)`),
    getRun: db.prepare(`SELECT r.*, d.name AS dataset_name FROM runs r JOIN datasets d ON d.id = r.dataset_id WHERE r.id = ?`),
    status: db.prepare(`SELECT status FROM runs WHERE id = ?`),
    listAll: db.prepare(`SELECT r.*, d.name AS dataset_name FROM runs r JOIN datasets d ON d.id = r.dataset_id ORDER BY r.id DESC`),
    listByDataset: db.prepare(`SELECT r.*, d.name AS dataset_name FROM runs r JOIN datasets d ON d.id = r.dataset_id WHERE r.dataset_id = ? ORDER BY r.id DESC`),
    metrics: db.prepare(`SELECT name, epoch, step, value, time FROM metrics WHERE run_id = ? ORDER BY rowid`),
    datasetExists: db.prepare(`SELECT id FROM datasets WHERE id = ?`),
  };
}

export class RunService implements Disposable {
  private readonly db: Db;
  private readonly paths: DataPaths;
  private readonly datasets: RunDatasets;
  private readonly launcher: EngineLauncher;
  private readonly predictions: RunServiceOptions['predictions'];
  private readonly concurrency: number;
  private readonly cancelTimeoutMs: number;
  private readonly emitter = new Emitter<ApiEvent>();
  private readonly active = new Map<number, ActiveRun>();
  private readonly queue: number[] = [];
  private pending: PendingMetric[] = [];
  private readonly flushTimer: NodeJS.Timeout;
  private disposed = false;
  private readonly stmt: ReturnType<typeof prepareStatements>;

  /** Every run event: `run.status`, `run.progress`, `run.metrics`. */
  readonly onEvent = this.emitter.event;

  constructor(opts: RunServiceOptions) {
    this.db = opts.db;
    this.paths = opts.paths;
    this.datasets = opts.datasets;
    this.launcher = opts.launcher;
    this.predictions = opts.predictions;
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.cancelTimeoutMs = opts.cancelTimeoutMs ?? 10_000;
    this.stmt = prepareStatements(this.db);
    this.flushTimer = setInterval(() => this.flush(), opts.flushIntervalMs ?? 250);
    this.flushTimer.unref();
    this.recoverInterrupted();
  }

  /**
   * Validate and queue a run; it starts as soon as a slot is free.
   * @returns the new run's id (status 'queued').
   * @throws SpecError naming the field for an invalid spec, a missing dataset, a class-count
   *   mismatch or a dataset without training items. Nothing is written in that case.
   */
  async start(params: { spec: unknown; name?: string }): Promise<{ runId: number }> {
    this.assertLive();
    const spec = parseRunSpec(params.spec);
    if (!this.stmt.datasetExists.get(spec.datasetId)) throw new SpecError(`datasetId: there is no dataset ${spec.datasetId}`);
    const ds = await this.datasets.get(spec.datasetId);
    if (ds.classCount !== spec.model.numClasses) {
      throw new SpecError(`model.numClasses: the dataset "${ds.name}" has ${ds.classCount} classes but the model outputs ${spec.model.numClasses}`);
    }
    if (ds.counts.train < 1) throw new SpecError(`datasetId: the dataset "${ds.name}" has no training items; assign a split first`);
    this.assertLive();
    const info = this.stmt.insertRun.run({
      datasetId: spec.datasetId,
      name: params.name?.trim() || `${spec.model.preset} on ${ds.name}`,
      preset: spec.model.preset,
      spec: JSON.stringify(spec),
      seed: spec.seed,
      createdAt: now(),
    });
    const runId = Number(info.lastInsertRowid);
    const dir = join(this.paths.runs, String(runId));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, OWNER_FILE), JSON.stringify({ pid: process.pid }));
    this.fireStatus(runId, 'queued', null, null);
    this.queue.push(runId);
    this.pump();
    return { runId };
  }

  /**
   * Cancel a run: a queued one is marked 'cancelled' at once; a running engine is asked to
   * stop (it saves nothing more and reports `done` with cancelled) and killed if it has not
   * exited within `cancelTimeoutMs`.
   * @returns ok: false when the run had already finished (or is driven by another process).
   * @throws ApiError not_found when there is no such run.
   */
  cancel(runId: number): { ok: boolean } {
    this.assertLive();
    const row = this.stmt.status.get(runId) as { status: RunStatus } | undefined;
    if (!row) throw new ApiError('not_found', `run ${runId} not found`, 'runId');
    const q = this.queue.indexOf(runId);
    if (q >= 0) {
      this.queue.splice(q, 1);
      this.finish(runId, 'cancelled', null, {});
      return { ok: true };
    }
    const run = this.active.get(runId);
    if (!run || run.finished) return { ok: false };
    if (run.cancelRequested) return { ok: true };
    run.cancelRequested = true;
    if (run.engine) {
      run.engine.send({ type: 'cancel' });
      run.killTimer = setTimeout(() => run.engine?.kill('SIGKILL'), this.cancelTimeoutMs);
      run.killTimer.unref();
    }
    // Still preparing the dataset: startRun() sees cancelRequested and stops there.
    return { ok: true };
  }

  /** Runs, newest first, optionally of one dataset. */
  list(params: { datasetId?: number } = {}): RunSummary[] {
    this.flush();
    const rows = (params.datasetId === undefined ? this.stmt.listAll.all() : this.stmt.listByDataset.all(params.datasetId)) as RunRow[];
    return rows.map((r) => this.summary(r));
  }

  /** One run with its spec. @throws ApiError not_found. */
  get(runId: number): RunDetail {
    const row = this.stmt.getRun.get(runId) as RunRow | undefined;
    if (!row) throw new ApiError('not_found', `run ${runId} not found`, 'runId');
    return { ...this.summary(row), spec: JSON.parse(row.spec) as RunSpec };
  }

  /** Every metric sample of a run in the order written (step metrics and epoch metrics interleaved). @throws ApiError not_found. */
  metrics(runId: number): Metric[] {
    if (!this.stmt.status.get(runId)) throw new ApiError('not_found', `run ${runId} not found`, 'runId');
    this.flush();
    return this.stmt.metrics.all(runId) as Metric[];
  }

  /**
   * Resolve with the run's summary once it has reached a terminal status
   * (completed / failed / cancelled). @throws ApiError not_found.
   */
  waitFor(runId: number): Promise<RunSummary> {
    return new Promise((resolve, reject) => {
      let sub: Disposable | null = null;
      const check = (): boolean => {
        try {
          const s = this.get(runId);
          if (TERMINAL.has(s.status)) {
            sub?.dispose();
            const { spec: _spec, ...summary } = s;
            resolve(summary);
            return true;
          }
        } catch (err) {
          sub?.dispose();
          reject(err);
          return true;
        }
        return false;
      };
      if (check()) return;
      sub = this.onEvent((e) => {
        if (e.event === 'run.status' && e.payload.runId === runId && TERMINAL.has(e.payload.status)) check();
      });
    });
  }

  /** True while this service drives the run (queued here, preparing or training). */
  isActive(runId: number): boolean {
    return this.active.has(runId) || this.queue.includes(runId);
  }

  /**
   * Stop cleanly: queued runs are cancelled, running ones are asked to cancel and killed
   * after `timeoutMs` milliseconds (default: cancelTimeoutMs). Resolves once every engine has exited.
   */
  async shutdown(timeoutMs = this.cancelTimeoutMs): Promise<void> {
    if (this.disposed) return;
    for (const id of [...this.queue]) this.cancel(id);
    const waits: Promise<void>[] = [];
    for (const run of this.active.values()) {
      if (!run.finished && !run.cancelRequested) {
        run.cancelRequested = true;
        run.engine?.send({ type: 'cancel' });
      }
      const t = setTimeout(() => run.engine?.kill('SIGKILL'), timeoutMs);
      t.unref();
      waits.push(run.exited.finally(() => clearTimeout(t)));
    }
    await Promise.all(waits);
    this.flush();
  }

  /**
   * Release everything at once (safe to call twice): engines still running are killed
   * and their runs marked failed as interrupted. Call shutdown() first for a clean stop.
   */
  dispose(): void {
    if (this.disposed) return;
    clearInterval(this.flushTimer);
    this.flush();
    for (const id of this.queue.splice(0)) this.finish(id, 'failed', INTERRUPTED, {});
    for (const run of [...this.active.values()]) {
      if (!run.finished) this.finish(run.runId, 'failed', INTERRUPTED, {});
      this.release(run);
      run.engine?.kill('SIGKILL');
    }
    this.disposed = true;
    this.emitter.dispose();
  }

  // ---------------------------------------------------------------------------------

  private assertLive(): void {
    if (this.disposed) throw new ApiError('conflict', 'the run service has stopped');
  }

  private summary(r: RunRow): RunSummary {
    const end = r.finished_at ?? (r.status === 'running' ? now() : null);
    return {
      id: r.id,
      name: r.name,
      datasetId: r.dataset_id,
      datasetName: r.dataset_name,
      datasetVersionId: r.dataset_version_id,
      preset: r.preset,
      status: r.status,
      backend: r.backend,
      backendDetail: r.backend_detail,
      error: r.error,
      createdAt: r.created_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      durationSeconds: r.started_at !== null && end !== null ? Math.max(0, end - r.started_at) : null,
      bestValAccuracy: r.best_val_accuracy,
      testAccuracy: r.test_accuracy,
      testLoss: r.test_loss,
      samplesPerSec: r.samples_per_sec,
    };
  }

  /** Mark runs that a dead process left queued/running as failed. */
  private recoverInterrupted(): void {
    const rows = this.db.prepare(`SELECT id FROM runs WHERE status IN ('queued', 'running')`).all() as { id: number }[];
    for (const { id } of rows) {
      let owner: number | null = null;
      try {
        owner = (JSON.parse(readFileSync(join(this.paths.runs, String(id), OWNER_FILE), 'utf8')) as { pid: number }).pid;
      } catch {
        owner = null;
      }
      if (owner !== null && owner !== process.pid && isAlive(owner)) continue;
      this.finish(id, 'failed', INTERRUPTED, {});
    }
  }

  private pump(): void {
    while (!this.disposed && this.active.size < this.concurrency && this.queue.length > 0) {
      const runId = this.queue.shift()!;
      void this.startRun(runId);
    }
  }

  private async startRun(runId: number): Promise<void> {
    const row = this.stmt.getRun.get(runId) as RunRow | undefined;
    if (!row) return;
    const spec = JSON.parse(row.spec) as RunSpec;
    let resolveExited!: () => void;
    const exited = new Promise<void>((r) => (resolveExited = r));
    const run: ActiveRun = { runId, spec, engine: null, cancelRequested: false, finished: false, killTimer: null, lastProgressAt: 0, subscriptions: [], exited, resolveExited };
    this.active.set(runId, run);
    try {
      const prepared = await this.datasets.prepareTraining(spec.datasetId, spec.model.inputShape);
      if (this.disposed) return;
      this.stmt.setVersion.run(prepared.versionId, runId);
      if (prepared.meta.numClasses !== spec.model.numClasses) {
        throw new Error(`model.numClasses: the packed dataset has ${prepared.meta.numClasses} classes but the model outputs ${spec.model.numClasses}`);
      }
      if (run.cancelRequested) {
        this.finish(runId, 'cancelled', null, {});
        this.release(run);
        return;
      }
      const outDir = join(this.paths.runs, String(runId));
      mkdirSync(outDir, { recursive: true });
      const engine = this.launcher.launch();
      run.engine = engine;
      run.subscriptions.push(
        engine.onMessage((msg) => this.onEngineMessage(run, msg)),
        engine.onExit((exit) => this.onEngineExit(run, exit)),
      );
      const job: TrainJob = { type: 'train', runId, spec, packDir: prepared.packDir, outDir };
      engine.send(job);
    } catch (err) {
      if (this.disposed) return;
      this.finish(runId, 'failed', `preparing the dataset failed: ${(err as Error).message}`, {});
      this.release(run);
    }
  }

  private onEngineMessage(run: ActiveRun, msg: EngineToMain): void {
    if (this.disposed || run.finished) return;
    const t = now();
    const id = run.runId;
    if (!this.stmt.status.get(id)) {
      // The run was deleted (with its dataset) while training: stop the engine.
      run.finished = true;
      run.engine?.kill('SIGKILL');
      return;
    }
    switch (msg.type) {
      case 'ready':
        this.stmt.setRunning.run(msg.backend, msg.detail ?? null, t, id);
        this.fireStatus(id, 'running', msg.backend, null);
        break;
      case 'progress': {
        // Every step's loss (the engine throttles its messages, not its numbers); throughput per message.
        const losses = msg.stepLosses?.length ? msg.stepLosses : [msg.loss];
        losses.forEach((value, i) => this.pending.push({ runId: id, name: 'loss', epoch: msg.epoch, step: msg.step - losses.length + 1 + i, value, time: t }));
        this.pending.push({ runId: id, name: 'samples_per_sec', epoch: msg.epoch, step: msg.step, value: msg.samplesPerSec, time: t });
        const ms = Date.now();
        if (ms - run.lastProgressAt >= PROGRESS_EVENT_MS || msg.step + 1 >= msg.totalSteps) {
          run.lastProgressAt = ms;
          const { type: _type, ...rest } = msg;
          this.emitter.fire({ event: 'run.progress', payload: { runId: id, ...rest } });
        }
        break;
      }
      case 'metrics': {
        const m = (name: string, value: number | null): void => {
          if (value !== null && Number.isFinite(value)) this.pending.push({ runId: id, name, epoch: msg.epoch, step: null, value, time: t });
        };
        m('train_loss', msg.trainLoss);
        m('train_accuracy', msg.trainAccuracy);
        m('val_loss', msg.valLoss);
        m('val_accuracy', msg.valAccuracy);
        m('learning_rate', msg.learningRate);
        m('epoch_seconds', msg.seconds);
        this.flush();
        if (msg.valAccuracy !== null) this.stmt.setBestVal.run(msg.valAccuracy, id);
        break;
      }
      case 'checkpoint':
        this.flush();
        this.stmt.insertCheckpoint.run(id, msg.epoch, msg.path, t);
        break;
      case 'predictions':
        // Stored before `done` completes the run, so a completed run has its predictions and suggestions.
        try {
          this.predictions?.ingestPredictions(id, msg);
        } catch (err) {
          console.error(`[layerwise] run ${id}: storing predictions failed:`, err);
        }
        break;
      case 'done':
        this.flush();
        this.finish(id, msg.cancelled ? 'cancelled' : 'completed', null, { testAccuracy: msg.testAccuracy, testLoss: msg.testLoss, samplesPerSec: msg.samplesPerSec });
        this.expectExit(run);
        break;
      case 'failed':
        this.flush();
        this.finish(id, 'failed', msg.error, {});
        this.expectExit(run);
        break;
    }
  }

  /** After `done` / `failed` the engine should exit by itself; kill it if it lingers. */
  private expectExit(run: ActiveRun): void {
    if (run.killTimer) clearTimeout(run.killTimer);
    run.killTimer = setTimeout(() => run.engine?.kill('SIGKILL'), EXIT_GRACE_MS);
    run.killTimer.unref();
  }

  private onEngineExit(run: ActiveRun, exit: EngineExit): void {
    if (this.disposed) return;
    if (!run.finished) {
      this.flush();
      if (run.cancelRequested) this.finish(run.runId, 'cancelled', null, {});
      else this.finish(run.runId, 'failed', exitReason(exit), {});
    }
    this.release(run);
    this.pump();
  }

  private release(run: ActiveRun): void {
    if (run.killTimer) clearTimeout(run.killTimer);
    run.killTimer = null;
    for (const s of run.subscriptions.splice(0)) s.dispose();
    if (this.active.get(run.runId) === run) this.active.delete(run.runId);
    run.resolveExited();
  }

  private finish(runId: number, status: RunStatus, error: string | null, results: { testAccuracy?: number | null; testLoss?: number | null; samplesPerSec?: number }): void {
    const run = this.active.get(runId);
    if (run) run.finished = true;
    this.stmt.setFinished.run({
      id: runId,
      status,
      error,
      finishedAt: now(),
      testAccuracy: results.testAccuracy ?? null,
      testLoss: results.testLoss ?? null,
      samplesPerSec: results.samplesPerSec ?? null,
    });
    const backend = (this.stmt.getRun.get(runId) as RunRow | undefined)?.backend ?? null;
    this.fireStatus(runId, status, backend, error);
  }

  private fireStatus(runId: number, status: RunStatus, backend: string | null, error: string | null): void {
    if (!this.disposed) this.emitter.fire({ event: 'run.status', payload: { runId, status, backend, error } });
  }

  /** Write buffered metric samples in one transaction and announce them. */
  private flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const live = new Set<number>();
    for (const m of batch) live.add(m.runId);
    for (const id of live) if (!this.stmt.status.get(id)) live.delete(id); // run deleted (with its dataset) meanwhile
    this.db.transaction(() => {
      for (const m of batch) if (live.has(m.runId)) this.stmt.insertMetric.run(m.runId, m.name, m.epoch, m.step, m.value, m.time);
    })();
    if (this.disposed) return;
    const byRun = new Map<number, Metric[]>();
    for (const { runId, ...m } of batch) {
      let list = byRun.get(runId);
      if (!list) byRun.set(runId, (list = []));
      list.push(m);
    }
    for (const [runId, metrics] of byRun) this.emitter.fire({ event: 'run.metrics', payload: { runId, metrics } });
  }
}
