/**
 * Training runs: validate a spec, freeze the dataset version, launch an engine process,
 * persist everything it reports, and never leave a run 'running' once its engine is gone.
 *
 * Lifecycle: start() inserts the run 'queued' (the whole parsed spec as JSON); when a
 * slot is free (concurrency, default from the cores: ./threads.ts) the dataset is packed (datasets.prepareTraining),
 * an engine is launched and sent the TrainJob; `ready` → 'running'; `done` →
 * 'completed' / 'cancelled'; `failed`, or an engine exit without `done` → 'failed' with
 * the engine's last error. Each run records its owner process in the database; runs whose
 * owner is gone are marked interrupted when the service starts and every
 * heartbeat after (./recovery.ts); runs of another live process are never touched, and
 * cancelling one writes a request that its owner carries out with its next heartbeat.
 *
 * This file holds the public RunService and its queue; the seams beside it: ./store.ts
 * (the rows), ./engine.ts (engine supervision: messages, exits, kill timers),
 * ./metrics.ts (metric batching), ./recovery.ts (run ownership and interrupted runs).
 * (~410 lines: the queue and the public methods share the active-run map and the
 * statements; what could stand alone already does.)
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { DatasetDetail, Metric, RunDetail, RunStatus, RunSummary } from '../../../shared/api';
import type { MetricName } from '../../../shared/metrics';
import type { TrainJob } from '../../../shared/engine-protocol';
import { ApiError } from '../../../shared/errors';
import type { LrRangeResult } from '../../../shared/lr-range';
import type { AugmentPreview } from '../../../shared/augment-preview';
import type { PackMeta } from '../../../shared/pack';
import { presetLabel } from '../../../shared/model-name';
import { SpecError, type RunSpec } from '../../../shared/spec';
import type { Db } from '../../db/db';
import { failureReason } from '../../db/disk-full';
import { readSetting, SETTING, writeSetting } from '../../db/settings';
import { ownerOf, type Owner } from '../../db/owners';
import type { EngineExit, EngineLauncher, EngineProcess } from '../../engine-launcher';
import type { GpuInfo } from '../../gpu-probe';
import { Emitter, type ApiEvent, type Disposable } from '../../events';
import type { DataPaths } from '../../paths';
import { RunAnnotations } from './annotations';
import { RunCompare, type CompareResult } from './compare';
import { activeRun, handleEngineMessage, killAfter, releaseRun, exitReason, type ActiveRun, type EngineMessageSink } from './engine';
import { MetricBuffer } from './metrics';
import { lastWholeCheckpoint } from './resume';
import { runAugmentPreview, runLrRange } from './lr-range';
import { defaultConcurrency, engineThreads } from './threads';
import { INTERRUPTED, planSweep, requestCancelFromOwner } from './recovery';
import { runSummary, RunStore, type RunResults, type RunRow } from './store';
import { assertBackend, assertPretrainedFile, assertTrainable, rawDatasetId } from './validate';
import { baselineJob, baselineRunRow, readBaselineReport, readInferenceTiming } from './baseline';
import type { InferenceTiming } from '../../../shared/pipelines';
import { isBaselineSpec, parseAnyRunSpec, type AnyRunSpec, type BaselineReport } from '../../../shared/run-kinds';

export { exitReason } from './engine';
export { INTERRUPTED } from './recovery';

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
  /** Runs training at the same time; further runs wait 'queued'. Default: defaultConcurrency() of the machine's cores (./threads.ts). Each engine gets floor(cores / concurrency) threads. */
  concurrency?: number;
  /** Take over the queued runs of processes that are gone (the host and the desktop app; not a CLI command passing by): the queue survives a restart. Default false. */
  adoptQueued?: boolean;
  /** After cancel(), milliseconds to wait for the engine to finish before killing it. Default 10 000. */
  cancelTimeoutMs?: number;
  /** Milliseconds between metric flushes (one transaction each). Default 250. */
  flushIntervalMs?: number;
  /** Milliseconds between heartbeats and recovery sweeps (default HEARTBEAT_MS, src/main/db/owners.ts). */
  heartbeatMs?: number;
  /** Stores an engine's `predictions` (the final model's softmax per pack item) and derives suggestions. Optional: without it they are ignored. */
  predictions?: { ingestPredictions(runId: number, msg: { path: string; count: number; numClasses: number }): unknown };
  /** Whether a usable GPU exists (asked only when a run requests backend 'gpu'; see gpu-probe.ts). Absent: 'gpu' is not checked here. */
  gpu?: () => Promise<GpuInfo>;
  /** Launches network training runs when it differs from `launcher` (the executor: local or Slurm, services/executors/); classic and features runs always use `launcher`. Default: `launcher`. */
  trainingLauncher?: EngineLauncher;
  /** Runs trained elsewhere (Slurm jobs) that outlive their host: followed again instead of marked interrupted (services/executors/). */
  reattach?: RunReattach;
}

/** Follows runs whose engine is not a child of the host (a Slurm job) after the host that started them went away. */
export interface RunReattach {
  /** Whether the run has a job still worth following. */
  hasLiveJob(runId: number): boolean;
  /** An engine process following the run's job (its messages from the start), and the epoch the job continues after (-1: from the start). */
  reattach(runId: number): { engine: EngineProcess; resumeAfter: number } | null;
}

const TERMINAL: ReadonlySet<RunStatus> = new Set(['completed', 'failed', 'cancelled', 'interrupted']);

export class RunService implements Disposable {
  private readonly paths: DataPaths;
  private readonly datasets: RunDatasets;
  private readonly launcher: EngineLauncher;
  private readonly trainingLauncher: EngineLauncher;
  private readonly reattacher: RunReattach | undefined;
  private concurrencySetting: number;
  private readonly db: Db;
  private readonly adoptQueued: boolean;
  private readonly cancelTimeoutMs: number;
  private readonly emitter = new Emitter<ApiEvent>();
  private readonly active = new Map<number, ActiveRun>();
  private readonly queue: number[] = [];
  private readonly store: RunStore;
  private readonly annotations: RunAnnotations;
  private readonly comparer: RunCompare;
  private readonly metricBuffer: MetricBuffer;
  private readonly sink: EngineMessageSink;
  private readonly gpu: (() => Promise<GpuInfo>) | undefined;
  private readonly owner: Owner;
  private readonly sweepTimer: NodeJS.Timeout;
  /** Terminal statuses that could not be written (disk full): retried by each sweep. */
  private readonly unrecorded = new Map<number, { status: RunStatus; error: string | null; results: RunResults }>();
  private disposed = false;

  /** Every run event: `run.status`, `run.progress`, `run.metrics`. */
  readonly onEvent = this.emitter.event;

  constructor(opts: RunServiceOptions) {
    this.paths = opts.paths;
    this.datasets = opts.datasets;
    this.launcher = opts.launcher;
    this.trainingLauncher = opts.trainingLauncher ?? opts.launcher;
    this.reattacher = opts.reattach;
    this.db = opts.db;
    this.concurrencySetting = Math.max(1, Math.floor(opts.concurrency ?? readSetting(opts.db, SETTING.queueConcurrency, z.number().int().min(1)) ?? defaultConcurrency()));
    this.adoptQueued = opts.adoptQueued ?? false;
    this.cancelTimeoutMs = opts.cancelTimeoutMs ?? 10_000;
    this.gpu = opts.gpu;
    this.store = new RunStore(opts.db);
    this.annotations = new RunAnnotations(opts.db);
    this.comparer = new RunCompare(opts.db);
    this.metricBuffer = new MetricBuffer(
      this.store,
      opts.flushIntervalMs ?? 250,
      (runId, metrics) => {
        if (!this.disposed) this.emitter.fire({ event: 'run.metrics', payload: { runId, metrics } });
      },
      (runIds, err) => {
        for (const id of runIds) this.failActive(id, err);
      },
    );
    this.sink = {
      store: this.store,
      metrics: this.metricBuffer,
      predictions: opts.predictions,
      finish: (runId, status, error, results) => this.finish(runId, status, error, results),
      fireStatus: (runId, status, backend, error) => this.fireStatus(runId, status, backend, error),
      fireProgress: (payload) => this.emitter.fire({ event: 'run.progress', payload }),
      fireBaselineProgress: (payload) => this.emitter.fire({ event: 'run.baselineProgress', payload }),
      runDir: (runId) => join(this.paths.runs, String(runId)),
    };
    this.owner = ownerOf(opts.db, opts.heartbeatMs);
    this.store.reserveIdsPastFolders(this.paths.runs);
    this.sweep();
    this.sweepTimer = setInterval(() => this.sweep(), this.owner.heartbeatMs);
    this.sweepTimer.unref();
  }

  /**
   * One recovery pass (at start and every heartbeat): unfinished runs whose owner is gone
   * → 'failed' (INTERRUPTED); cancel requests for this process's runs → cancel(); terminal
   * statuses that could not be written before → written now. Never throws (logs instead).
   */
  sweep(): void {
    if (this.disposed) return;
    try {
      for (const [id, f] of this.unrecorded) {
        this.store.setFinished(id, f.status, f.error, f.results);
        this.unrecorded.delete(id);
      }
      const plan = planSweep(this.owner, this.store.unfinished(), (id) => this.isActive(id), this.adoptQueued);
      for (const id of plan.interrupted) {
        // A job on a cluster trains on without its host: a queue-owning service follows it again, others leave it.
        if (this.reattacher?.hasLiveJob(id)) {
          if (this.adoptQueued) this.reattach(id);
        } else this.finish(id, 'interrupted', INTERRUPTED, {});
      }
      for (const id of plan.cancel) this.cancel(id);
      for (const id of plan.adopt) {
        if (this.reattacher?.hasLiveJob(id)) this.reattach(id);
        else if (this.store.claimQueued(id, this.store.owner(id) ?? null, this.owner.id)) this.queue.push(id);
      }
      if (plan.adopt.length > 0) this.pump();
    } catch (err) {
      console.error('[layerwise] run recovery sweep failed:', (err as Error).message);
    }
  }

  /**
   * Validate and queue a run; it starts as soon as a slot is free.
   * @returns the new run's id (status 'queued').
   * @throws ApiError invalid_params naming the field, and nothing is written, for: a
   *   dataset with fewer than two labeled classes (`datasetId`, checked before the spec so
   *   the cause is named, not the model's class count; see validate.ts), an invalid spec
   *   (SpecError), a missing dataset, a class-count mismatch, a dataset without training
   *   items, backend 'gpu' where the host found no usable GPU (`backend`).
   */
  async start(params: { spec: unknown; name?: string }): Promise<{ runId: number }> {
    this.assertLive();
    const early = rawDatasetId(params.spec);
    if (early !== null && this.store.datasetExists(early)) assertTrainable(await this.datasets.get(early));
    const any = parseAnyRunSpec(params.spec);
    if (!this.store.datasetExists(any.datasetId)) throw new SpecError(`datasetId: there is no dataset ${any.datasetId}`, 'datasetId');
    const ds = await this.datasets.get(any.datasetId);
    assertTrainable(ds);
    if (isBaselineSpec(any)) return this.queueRun(any, await baselineRunRow(any, ds, params.name));
    const spec = any;
    if (ds.classCount !== spec.model.numClasses) {
      throw new SpecError(`model.numClasses: the dataset "${ds.name}" has ${ds.classCount} classes but the model outputs ${spec.model.numClasses}`, 'model.numClasses');
    }
    if (ds.counts.train < 1) throw new SpecError(`datasetId: the dataset "${ds.name}" has no training items; assign a split first`, 'datasetId');
    if (spec.backend === 'gpu' && this.gpu) assertBackend(spec.backend, await this.gpu());
    await assertPretrainedFile(spec.pretrained);
    return this.queueRun(spec, { name: params.name?.trim() || `${presetLabel(spec.model.preset, undefined, spec.pretrained?.backbone)} on ${ds.name}`, preset: spec.model.preset });
  }

  /** Insert a checked spec's run row (queued) and queue it. */
  private queueRun(spec: AnyRunSpec, row: { name: string; preset: string }): { runId: number } {
    this.assertLive();
    const runId = this.store.insert({
      datasetId: spec.datasetId,
      name: row.name,
      preset: row.preset,
      spec: JSON.stringify(spec),
      seed: spec.seed,
      ownerId: this.owner.id,
    });
    // A fresh id: anything in its folder is left over from before ids were AUTOINCREMENT.
    rmSync(join(this.paths.runs, String(runId)), { recursive: true, force: true });
    this.fireStatus(runId, 'queued', null, null);
    this.queue.push(runId);
    this.pump();
    return { runId };
  }

  /**
   * Cancel a run: a queued one is marked 'cancelled' at once; a running engine is asked to
   * stop (it saves nothing more and reports `done` with cancelled) and killed if it has not
   * exited within `cancelTimeoutMs`. A run of another process: when that process is gone
   * or stuck (stale heartbeat) the run is marked 'cancelled' here at once; when it is
   * alive, a cancel request is written that it carries out with its next heartbeat.
   * @returns ok: false when the run had already finished.
   * @throws ApiError not_found when there is no such run.
   */
  cancel(runId: number): { ok: boolean } {
    this.assertLive();
    const status = this.store.status(runId);
    if (status === undefined) throw new ApiError('not_found', `run ${runId} not found`, 'runId');
    const q = this.queue.indexOf(runId);
    if (q >= 0) {
      this.queue.splice(q, 1);
      this.finish(runId, 'cancelled', null, {});
      return { ok: true };
    }
    const run = this.active.get(runId);
    if (!run) {
      if (TERMINAL.has(status)) return { ok: false };
      // Another process's run: a request to a live owner, else cancelled here.
      if (!requestCancelFromOwner(this.store, this.owner, runId)) this.finish(runId, 'cancelled', null, {});
      return { ok: true };
    }
    if (run.finished) return { ok: false };
    if (run.cancelRequested) return { ok: true };
    run.cancelRequested = true;
    if (run.engine) {
      run.engine.send({ type: 'cancel' });
      killAfter(run, this.cancelTimeoutMs);
    }
    // Still preparing the dataset: startRun() sees cancelRequested and stops there.
    return { ok: true };
  }

  /**
   * Resume a cancelled, interrupted or failed run under its id: it is queued again and
   * its engine continues after the last whole checkpoint (`runs/<id>/epoch-<e>/`, ./resume.ts)
   * with the weights, optimizer state, step count and monitors saved there; without one it
   * starts from epoch 0. Metrics and checkpoint rows after that epoch are dropped first. The
   * dataset must still freeze to the run's version (checked when it starts).
   * @returns the epoch it continues after (null: from the start).
   * @throws ApiError not_found; conflict (field runId) when the run is completed, queued or running.
   */
  resume(runId: number): { runId: number; fromEpoch: number | null } {
    this.assertLive();
    const status = this.store.status(runId);
    if (status === undefined) throw new ApiError('not_found', `run ${runId} not found`, 'runId');
    if (status === 'completed') throw new ApiError('conflict', `runId: run ${runId} is completed; re-run it (runs.rerun) or clone it instead`, 'runId');
    // An engine that reported its end may still be exiting: its run is finished, and its exit no longer touches the run.
    const live = this.active.get(runId);
    if (!TERMINAL.has(status) || this.queue.includes(runId) || (live && !live.finished)) {
      throw new ApiError('conflict', `runId: run ${runId} is ${status}; only a cancelled, interrupted or failed run can be resumed`, 'runId');
    }
    const fromEpoch = lastWholeCheckpoint(join(this.paths.runs, String(runId)));
    this.store.requeueForResume(runId, fromEpoch ?? -1, this.owner.id);
    this.fireStatus(runId, 'queued', null, null);
    this.queue.push(runId);
    this.pump();
    return { runId, fromEpoch };
  }

  /**
   * A new run with the stored spec and seed of `runId` (defaults of fields added since filled
   * in), named "<name> (re-run)" unless `name` is given. @throws as start(); ApiError not_found.
   */
  async rerun(params: { runId: number; name?: string }): Promise<{ runId: number }> {
    const row = this.store.row(params.runId);
    if (!row) throw new ApiError('not_found', `run ${params.runId} not found`, 'runId');
    return this.start({ spec: JSON.parse(row.spec) as unknown, name: params.name ?? `${row.name} (re-run)` });
  }

  /**
   * The learning-rate range test (Smith 2017) for a spec: a short engine job, nothing stored
   * (./lr-range.ts). @returns the loss by rate and the suggested rate.
   * @throws SpecError / ApiError invalid_params naming the field; ApiError internal when the engine fails.
   */
  lrRange(params: { spec: unknown; params?: unknown }): Promise<LrRangeResult> {
    this.assertLive();
    return runLrRange({ launcher: this.launcher, datasets: this.datasets }, params);
  }

  /**
   * The first `count` training images of a spec as the engine will train on them (its shuffle,
   * augmentation code and seed; ./lr-range.ts runAugmentPreview): a short engine job, nothing stored.
   * @throws SpecError naming the field; ApiError internal when the engine fails.
   */
  augmentPreview(params: { spec: unknown; count?: number }): Promise<AugmentPreview> {
    this.assertLive();
    return runAugmentPreview({ launcher: this.launcher, datasets: this.datasets }, params);
  }

  /** Runs, newest first, optionally of one dataset. */
  list(params: { datasetId?: number } = {}): RunSummary[] {
    const tags = this.annotations.allTags();
    return this.store.list(params.datasetId).map((r) => ({ ...runSummary(r), tags: tags.get(r.id) ?? [] }));
  }

  /** One run with its spec. @throws ApiError not_found. */
  /** What a features or classic run's engine job recorded (`<run>/baseline.json`); null for a network or before it ended. @throws ApiError not_found for an unknown run. */
  baselineReport(runId: number): BaselineReport | null {
    if (!this.store.row(runId)) throw new ApiError('not_found', `run ${runId} not found`, 'runId');
    return readBaselineReport(join(this.paths.runs, String(runId)));
  }

  /** A network run's final prediction pass timing (`<run>/inference.json`); null when none was written (a baseline, a run before this was recorded, a Slurm run). */
  inferenceTiming(runId: number): InferenceTiming | null {
    return readInferenceTiming(join(this.paths.runs, String(runId)));
  }

  get(runId: number): RunDetail {
    const row = this.store.row(runId);
    if (!row) throw new ApiError('not_found', `run ${runId} not found`, 'runId');
    return { ...runSummary(row), tags: this.annotations.tagsOf(runId), spec: JSON.parse(row.spec) as RunSpec };
  }

  /**
   * Several runs for Compare (./compare.ts): details in the order asked, the metrics `names`
   * (default all) in columns, sample counts per run and metric. A run id that is not there
   * (deleted) is left out and named in `missing`, so a saved Compare link still shows the others.
   * @throws ApiError invalid_params (runIds) when the answer would be too large.
   */
  compare(params: { runIds: number[]; names?: MetricName[]; offset?: number; limit?: number }): CompareResult & { missing: number[] } {
    const missing = params.runIds.filter((id) => !this.store.row(id));
    const details = params.runIds.filter((id) => !missing.includes(id)).map((id) => this.get(id));
    return { ...this.comparer.compare(details, params.names, (id) => this.metricBuffer.pendingFor(id), params), missing };
  }

  /** Set a run's tags (trimmed, the whole set) and / or its note. @throws ApiError not_found. */
  update(params: { runId: number; tags?: string[]; note?: string }): RunDetail {
    if (!this.store.row(params.runId)) throw new ApiError('not_found', `run ${params.runId} not found`, 'runId');
    this.annotations.update(params.runId, { tags: params.tags, note: params.note });
    return this.get(params.runId);
  }

  /**
   * Delete a finished run: its rows (metrics, checkpoints, predictions, suggestions, tags) and its folder.
   * @throws ApiError not_found; conflict (field runId) while it is queued or running (cancel it first).
   */
  delete(runId: number): { ok: true } {
    this.assertLive();
    const status = this.store.status(runId);
    if (status === undefined) throw new ApiError('not_found', `run ${runId} not found`, 'runId');
    if (!TERMINAL.has(status) || this.isActive(runId)) throw new ApiError('conflict', `runId: run ${runId} is ${status}; cancel it before deleting it`, 'runId');
    this.annotations.delete(runId, this.paths.runs);
    return { ok: true };
  }

  /** Every metric sample of a run in the order written (step metrics and epoch metrics interleaved). @throws ApiError not_found. */
  metrics(runId: number): Metric[] {
    if (this.store.status(runId) === undefined) throw new ApiError('not_found', `run ${runId} not found`, 'runId');
    // Written ones, then the buffered ones: reads do not turn into writes (and `run.metrics` events) under load.
    return [...this.store.metrics(runId), ...this.metricBuffer.pendingFor(runId)];
  }

  /**
   * Resolve with the run's summary once it has reached a terminal status
   * (completed / failed / cancelled). @throws ApiError not_found.
   */
  waitFor(runId: number): Promise<RunSummary> {
    return new Promise((resolve, reject) => {
      let sub: Disposable | null = null;
      // `told`: the terminal status announced, when the disk was too full to store it yet.
      const check = (told?: { status: RunStatus; error: string | null }): boolean => {
        try {
          const s = this.get(runId);
          if (TERMINAL.has(s.status) || told) {
            sub?.dispose();
            const { spec: _spec, ...summary } = s;
            resolve(TERMINAL.has(s.status) ? summary : { ...summary, ...told });
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
        if (e.event === 'run.status' && e.payload.runId === runId && TERMINAL.has(e.payload.status)) check(e.payload);
      });
    });
  }

  /** Runs trained at once. */
  get concurrency(): number {
    return this.concurrencySetting;
  }

  /**
   * Change how many runs train at once (≥ 1), stored in the data directory (settings
   * `queue.concurrency`) so the next host or app starts with it; queued runs start at once
   * when slots open, engines already running keep their threads.
   */
  setConcurrency(n: number): void {
    this.concurrencySetting = Math.max(1, Math.floor(n));
    writeSetting(this.db, SETTING.queueConcurrency, this.concurrencySetting);
    this.pump();
  }

  /** True while this service drives the run (queued here, preparing or training). */
  isActive(runId: number): boolean {
    return this.active.has(runId) || this.queue.includes(runId);
  }

  /**
   * Stop cleanly: queued runs are cancelled, running ones are asked to cancel and killed
   * after `timeoutMs` milliseconds (default: cancelTimeoutMs). Resolves once every engine has exited.
   */
  async shutdown(timeoutMs = this.cancelTimeoutMs, opts: { keepQueue?: boolean } = {}): Promise<void> {
    if (this.disposed) return;
    if (opts.keepQueue) return this.suspend();
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
    this.metricBuffer.flush();
  }

  /**
   * Stop for a restart: queued runs (and runs still preparing) stay 'queued' in the database,
   * owned by no one, for the next service with `adoptQueued`; running engines are killed and
   * their runs marked interrupted (INTERRUPTED). Resolves once every engine has exited.
   */
  private async suspend(): Promise<void> {
    const keep = this.queue.splice(0);
    const waits: Promise<void>[] = [];
    this.metricBuffer.flush();
    for (const run of [...this.active.values()]) {
      if (run.finished) continue;
      if (run.engine?.detach) {
        // A cluster job trains on: the next host follows it again (sweep → reattach).
        run.finished = true;
        this.store.releaseOwner(run.runId);
        run.engine.detach();
        continue;
      }
      if (this.store.status(run.runId) === 'queued') {
        run.finished = true; // startRun stops where it is
        keep.push(run.runId);
      } else this.finish(run.runId, 'interrupted', INTERRUPTED, {});
      if (run.engine) {
        waits.push(run.exited);
        run.engine.kill('SIGKILL');
      } else this.release(run);
    }
    this.store.releaseQueued(keep);
    await Promise.all(waits);
  }

  /**
   * Release everything at once (safe to call twice): engines still running are killed
   * and their runs marked interrupted. Call shutdown() first for a clean stop.
   */
  dispose(): void {
    if (this.disposed) return;
    clearInterval(this.sweepTimer);
    this.metricBuffer.dispose();
    this.metricBuffer.flush();
    for (const id of this.queue.splice(0)) this.finish(id, 'interrupted', INTERRUPTED, {});
    for (const run of [...this.active.values()]) {
      if (!run.finished) this.finish(run.runId, 'interrupted', INTERRUPTED, {});
      this.release(run);
      run.engine?.kill('SIGKILL');
    }
    this.disposed = true;
    this.emitter.dispose();
    this.owner.release();
  }

  // ---- the queue -------------------------------------------------------------------

  private assertLive(): void {
    if (this.disposed) throw new ApiError('conflict', 'the run service has stopped');
  }

  private pump(): void {
    while (!this.disposed && this.active.size < this.concurrencySetting && this.queue.length > 0) {
      const runId = this.queue.shift()!;
      void this.startRun(runId);
    }
  }

  /**
   * The spec stored with a run, parsed as a run is started or followed (a spec stored before
   * fields were added gets their defaults). @returns null, the run failed with the reason, when it no longer parses.
   */
  private storedSpec(row: RunRow): AnyRunSpec | null {
    try {
      return parseAnyRunSpec(JSON.parse(row.spec));
    } catch (err) {
      this.finish(row.id, 'failed', `the stored spec is no longer valid: ${(err as Error).message}`, {});
      return null;
    }
  }

  /** Pack the run's dataset version, launch an engine and send it the job; a failure before the engine runs fails the run. */
  private async startRun(runId: number): Promise<void> {
    const row = this.store.row(runId);
    if (!row) return;
    const spec = this.storedSpec(row);
    if (!spec) return;
    const run = activeRun(runId, spec);
    this.active.set(runId, run);
    try {
      if (isBaselineSpec(spec)) {
        const prepared = await this.datasets.prepareTraining(spec.datasetId, spec.inputShape);
        if (this.disposed || run.finished) return;
        this.store.setVersion(runId, prepared.versionId);
        if (run.cancelRequested) {
          this.finish(runId, 'cancelled', null, {});
          this.release(run);
          return;
        }
        const outDir = join(this.paths.runs, String(runId));
        mkdirSync(outDir, { recursive: true });
        // Classic and features runs are short CPU feature jobs: on this machine whatever the executor (Slurm takes network runs only).
        const engine = this.launcher.launch({ env: { LAYERWISE_THREADS: String(engineThreads(Math.min(this.concurrencySetting, this.active.size + this.queue.length))) } });
        this.follow(run, engine);
        engine.send(baselineJob(runId, spec, prepared.packDir, outDir, this.paths.cache));
        return;
      }
      const prepared = await this.datasets.prepareTraining(spec.datasetId, spec.model.inputShape);
      if (this.disposed || run.finished) return;
      const resuming = (row.resumed ?? 0) > 0;
      if (resuming && row.dataset_version_id !== null && row.dataset_version_id !== prepared.versionId) {
        throw new ApiError('conflict', `datasetId: the dataset changed since run ${runId} started (version ${row.dataset_version_id} → ${prepared.versionId}); re-run or clone it instead`, 'datasetId');
      }
      this.store.setVersion(runId, prepared.versionId);
      if (prepared.meta.numClasses !== spec.model.numClasses) {
        throw new ApiError('invalid_params', `model.numClasses: the packed dataset has ${prepared.meta.numClasses} classes but the model outputs ${spec.model.numClasses}`, 'model.numClasses');
      }
      if (run.cancelRequested) {
        this.finish(runId, 'cancelled', null, {});
        this.release(run);
        return;
      }
      const outDir = join(this.paths.runs, String(runId));
      mkdirSync(outDir, { recursive: true });
      // A resumed run continues after its last whole checkpoint, read now (it may have been queued before a restart).
      const resumeAfter = resuming ? lastWholeCheckpoint(outDir) : null;
      const slots = Math.min(this.concurrencySetting, this.active.size + this.queue.length);
      const engine = this.trainingLauncher.launch({ env: { LAYERWISE_THREADS: String(engineThreads(slots)) } });
      this.follow(run, engine);
      const job: TrainJob = { type: 'train', runId, spec, packDir: prepared.packDir, outDir, ...(resumeAfter !== null ? { resume: { epoch: resumeAfter } } : {}) };
      engine.send(job);
    } catch (err) {
      if (this.disposed || run.finished) return;
      this.finish(runId, 'failed', `preparing the dataset failed: ${(err as Error).message}`, {});
      this.release(run);
    }
  }

  /**
   * Follow the job of a run another (gone) host drove: claim the run, drop the metrics and
   * checkpoint rows its job's messages will write again (after the epoch it resumed from), and
   * supervise the engine process as if launched here.
   */
  private reattach(runId: number): void {
    if (this.active.has(runId)) return;
    const row = this.store.row(runId);
    const found = row ? this.reattacher?.reattach(runId) : null;
    if (!row || !found) return;
    const spec = this.storedSpec(row);
    if (!spec) {
      found.engine.kill();
      return;
    }
    this.store.reattach(runId, found.resumeAfter, this.owner.id);
    const run = activeRun(runId, spec);
    this.active.set(runId, run);
    this.follow(run, found.engine);
  }

  /** Supervise `engine` as the engine of `run`: its messages and its exit. */
  private follow(run: ActiveRun, engine: EngineProcess): void {
    const runId = run.runId;
    {
      run.engine = engine;
      run.subscriptions.push(
        engine.onMessage((msg) => {
          if (this.disposed || run.finished) return;
          try {
            handleEngineMessage(this.sink, run, msg);
          } catch (err) {
            // e.g. SQLITE_FULL storing its metrics: the run fails with the reason, the host stays up.
            this.failActive(runId, err);
          }
        }),
        engine.onExit((exit) => this.onEngineExit(run, exit)),
      );
    }
  }

  private onEngineExit(run: ActiveRun, exit: EngineExit): void {
    if (this.disposed) return;
    if (!run.finished) {
      this.metricBuffer.flush();
      if (run.cancelRequested) this.finish(run.runId, 'cancelled', null, {});
      else this.finish(run.runId, 'failed', exitReason(exit), {});
    }
    this.release(run);
    this.pump();
  }

  /** Fail a run this process drives because storing its results failed (`err`), and stop its engine. */
  private failActive(runId: number, err: unknown): void {
    const run = this.active.get(runId);
    if (!run || run.finished) return;
    this.finish(runId, 'failed', failureReason(err, this.paths.db), {});
    run.engine?.kill('SIGKILL');
  }

  private release(run: ActiveRun): void {
    if (this.active.get(run.runId) === run) this.active.delete(run.runId);
    releaseRun(run);
  }

  private finish(runId: number, status: RunStatus, error: string | null, results: RunResults): void {
    const run = this.active.get(runId);
    if (run) run.finished = true;
    let backend: string | null = null;
    try {
      backend = this.store.setFinished(runId, status, error, results);
    } catch (err) {
      // Disk full (or the database closed): announce it now, write it with the next sweep.
      console.error(`[layerwise] run ${runId}: recording status ${status} failed:`, (err as Error).message);
      this.unrecorded.set(runId, { status, error, results });
    }
    this.fireStatus(runId, status, backend, error);
  }

  private fireStatus(runId: number, status: RunStatus, backend: string | null, error: string | null): void {
    if (!this.disposed) this.emitter.fire({ event: 'run.status', payload: { runId, status, backend, error } });
  }
}
