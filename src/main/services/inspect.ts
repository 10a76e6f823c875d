/**
 * Engine jobs beyond training (issue 10): each `inspect` (and `attack`) job runs in its own
 * engine process started through the app's EngineLauncher, on a run's stored checkpoint (any
 * epoch; by default the best by validation accuracy, else the last). Main resolves what the
 * engine cannot (checkpoint folders from the database, images decoded to the model's input
 * shape as the pack decodes them), streams the engine's progress as `job.progress` events,
 * announces the end as `job.finished`, and keeps the last results in memory for `inspect.result`.
 * Nothing is written to the database: a failed or cancelled job leaves it as it was.
 */
import { dirname } from 'node:path';
import type { EventPayload } from '../../shared/api';
import type { MainToEngine } from '../../shared/engine-protocol';
import { ApiError } from '../../shared/errors';
import { EngineInspectOpSchema, InspectResultSchema, type EngineInspectOp, type EngineJob, type InspectImage, type InspectOpInput, type RunCheckpoints } from '../../shared/inspect';
import { METRIC } from '../../shared/metrics';
import { RunSpecSchema } from '../../shared/spec';
import type { BlobStore } from '../blobs';
import type { Db } from '../db/db';
import type { EngineLauncher, EngineProcess } from '../engine-launcher';
import { Emitter, type ApiEvent, type Disposable } from '../events';
import { pixelsAt, loadPixels } from './pack';

export interface InspectServiceOptions {
  db: Db;
  blobs: BlobStore;
  launcher: EngineLauncher;
  /** Milliseconds a cancelled engine gets before it is killed (default 5 000). */
  cancelTimeoutMs?: number;
}

/** Finished jobs whose results are kept (oldest dropped first). */
const KEEP_RESULTS = 16;

interface Job {
  info: EngineJob;
  engine: EngineProcess | null;
  result: unknown;
  killTimer: NodeJS.Timeout | null;
  cancelRequested: boolean;
  parse: (raw: unknown) => unknown;
}

/** What `launch` needs to start an engine job of any kind. */
export interface LaunchSpec {
  runId: number;
  epoch?: number;
  kind: EngineJob['kind'];
  what: string;
  /** The engine message for this job, given its id and checkpoint folder. */
  message: (jobId: number, checkpointDir: string) => MainToEngine;
  /** Check (and type) the engine's `jobResult`; throw to fail the job. */
  parse: (raw: unknown) => unknown;
}

export class InspectService implements Disposable {
  private readonly events = new Emitter<ApiEvent>();
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  readonly onEvent = this.events.event;

  constructor(private readonly opts: InspectServiceOptions) {}

  /**
   * A run's stored checkpoints: epochs (0-based, ascending), the default one (the epoch the run
   * tested — its early-stopping monitor's best — else the best validation accuracy among them,
   * the earliest on ties, else the last), its class count and class names by index.
   * @throws ApiError not_found (field runId) for an unknown run.
   */
  checkpoints(runId: number): RunCheckpoints & { dirs: Map<number, string> } {
    const run = this.opts.db.prepare('SELECT spec, best_epoch FROM runs WHERE id = ?').get(runId) as { spec: string; best_epoch: number | null } | undefined;
    if (!run) throw new ApiError('not_found', `runId: run ${runId} not found`, 'runId');
    const rows = this.opts.db.prepare('SELECT epoch, path FROM checkpoints WHERE run_id = ? ORDER BY epoch, id').all(runId) as { epoch: number; path: string }[];
    const dirs = new Map(rows.map((r) => [r.epoch, dirname(r.path)]));
    const epochs = [...dirs.keys()];
    const val = this.opts.db.prepare('SELECT epoch, value FROM metrics WHERE run_id = ? AND name = ? AND step IS NULL ORDER BY epoch').all(runId, METRIC.valAccuracy) as { epoch: number; value: number }[];
    let best: number | null = epochs.length ? epochs[epochs.length - 1] : null;
    let bestValue = -Infinity;
    for (const v of val) {
      if (dirs.has(v.epoch) && v.value > bestValue) [best, bestValue] = [v.epoch, v.value];
    }
    // The epoch the run itself tested (its early-stopping monitor's best), when it has a checkpoint.
    if (run.best_epoch !== null && dirs.has(run.best_epoch)) best = run.best_epoch;
    const spec = RunSpecSchema.parse(JSON.parse(run.spec));
    const names = this.opts.db.prepare('SELECT idx, name FROM run_classes WHERE run_id = ? ORDER BY idx').all(runId) as { idx: number; name: string }[];
    const classNames = Array.from({ length: spec.model.numClasses }, (_, i) => names.find((n) => n.idx === i)?.name ?? `class ${i}`);
    return { epochs, best, numClasses: spec.model.numClasses, classNames, dirs };
  }

  /**
   * Start an inspect job on run `runId` at checkpoint `epoch` (default: the best). Images are
   * decoded here first (items of the run's dataset, or dropped files), so a bad image is refused
   * before any engine starts.
   * @returns the job id; progress and the end arrive as `job.progress` / `job.finished`.
   * @throws ApiError invalid_params naming the field (epoch without a checkpoint, an item of another dataset, an undecodable file).
   */
  async start(params: { runId: number; epoch?: number; op: InspectOpInput }): Promise<{ jobId: number }> {
    const { runId, op } = params;
    const cps = this.checkpoints(runId);
    const spec = RunSpecSchema.parse(JSON.parse((this.opts.db.prepare('SELECT spec FROM runs WHERE id = ?').get(runId) as { spec: string }).spec));
    const [h, w, c] = spec.model.inputShape;
    const pixels = async (im: InspectImage, field: string): Promise<{ dataBase64: string; label: string }> => {
      if ('itemId' in im) {
        const row = this.opts.db.prepare('SELECT blob_hash, original_name, dataset_id FROM items WHERE id = ?').get(im.itemId) as { blob_hash: string; original_name: string; dataset_id: number } | undefined;
        if (!row || row.dataset_id !== spec.datasetId) throw new ApiError('invalid_params', `${field}.itemId: item ${im.itemId} is not in run ${runId}'s dataset`, `${field}.itemId`);
        return { dataBase64: (await loadPixels(this.opts.blobs, row.blob_hash, h, w, c)).toString('base64'), label: `#${im.itemId} ${row.original_name}` };
      }
      try {
        return { dataBase64: (await pixelsAt(Buffer.from(im.dataBase64, 'base64'), h, w, c, im.name)).toString('base64'), label: im.name };
      } catch (e) {
        throw new ApiError('invalid_params', `${field}: ${im.name} is not an image this app reads (${(e as Error).message})`, `${field}.dataBase64`);
      }
    };
    let engineOp: EngineInspectOp;
    if (op.op === 'activations') engineOp = { op: 'activations', image: await pixels(op.image, 'op.image') };
    else if (op.op === 'saliency') {
      const images = [];
      for (const [i, im] of op.images.entries()) images.push(await pixels(im, `op.images.${i}`));
      engineOp = EngineInspectOpSchema.parse({ ...op, images });
    } else if (op.op === 'histograms') engineOp = EngineInspectOpSchema.parse({ ...op, checkpoints: [...cps.dirs].map(([epoch, dir]) => ({ epoch, dir })) });
    else engineOp = { op: 'filters' };
    return this.launch({
      runId,
      epoch: params.epoch,
      kind: 'inspect',
      what: op.op,
      // The range the run's model was trained in (a pre-trained backbone's, else [0, 1]), as src/engine/pretrained.ts inputRangeOf.
      message: (jobId, checkpointDir) => ({ type: 'inspect', jobId, checkpointDir, op: engineOp, inputRange: spec.pretrained?.inputRange ?? 'unit' }),
      parse: (raw) => InspectResultSchema.parse(raw),
    });
  }

  /**
   * Start an engine job of any kind on a run's checkpoint (`epoch`, default the best): the
   * plumbing `start` and the attack jobs share.
   * @throws ApiError not_found (runId) / invalid_params (epoch) when there is no such checkpoint.
   */
  launch(spec: LaunchSpec): { jobId: number } {
    const cps = this.checkpoints(spec.runId);
    const epoch = spec.epoch ?? cps.best;
    const dir = epoch === null ? undefined : cps.dirs.get(epoch);
    if (epoch === null || dir === undefined) {
      throw new ApiError('invalid_params', `epoch: run ${spec.runId} has ${cps.epochs.length ? `checkpoints of epochs ${cps.epochs.join(', ')} only` : 'no checkpoint yet'}`, 'epoch');
    }
    const jobId = this.nextId++;
    const job: Job = {
      info: { jobId, runId: spec.runId, kind: spec.kind, what: spec.what, epoch, status: 'running', phase: 'starting', done: 0, total: 1, error: null },
      engine: null,
      result: undefined,
      killTimer: null,
      cancelRequested: false,
      parse: spec.parse,
    };
    this.jobs.set(jobId, job);
    const engine = this.opts.launcher.launch();
    job.engine = engine;
    engine.onMessage((msg) => {
      if (job.info.status !== 'running') return;
      if (msg.type === 'ready') this.progress(job, 'loading', 0, 1);
      else if (msg.type === 'jobProgress') this.progress(job, msg.phase, msg.done, msg.total);
      else if (msg.type === 'jobResult') {
        try {
          job.result = job.parse(msg.result);
          this.finish(job, 'completed', null);
        } catch (e) {
          this.finish(job, 'failed', `the engine's answer breaks the contract: ${(e as Error).message.slice(0, 500)}`);
        }
      } else if (msg.type === 'jobCancelled') this.finish(job, 'cancelled', null);
      else if (msg.type === 'failed') this.finish(job, 'failed', msg.error);
    });
    engine.onExit((exit) => {
      if (job.killTimer) clearTimeout(job.killTimer);
      job.engine = null;
      if (job.info.status === 'running') {
        const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
        this.finish(job, job.cancelRequested ? 'cancelled' : 'failed', job.cancelRequested ? null : `engine exited with ${how}${exit.stderrTail ? `: ${exit.stderrTail.slice(-1500)}` : ''}`);
      }
    });
    engine.send(spec.message(jobId, dir));
    return { jobId };
  }

  /**
   * A job's state.
   * @throws ApiError not_found (field jobId).
   */
  get(jobId: number): EngineJob {
    return { ...this.job(jobId).info };
  }

  /**
   * A completed job's result (kept for the last KEEP_RESULTS jobs), checked to be of `kind`.
   * @throws ApiError not_found (jobId) for an unknown or dropped job, conflict (jobId) for one not completed or of another kind.
   */
  result(jobId: number, kind: EngineJob['kind']): unknown {
    const job = this.job(jobId);
    if (job.info.kind !== kind) throw new ApiError('conflict', `jobId: job ${jobId} is an ${job.info.kind} job`, 'jobId');
    if (job.info.status !== 'completed') throw new ApiError('conflict', `jobId: job ${jobId} is ${job.info.status}${job.info.error ? `: ${job.info.error}` : ''}`, 'jobId');
    return job.result;
  }

  private job(jobId: number): Job {
    const job = this.jobs.get(jobId);
    if (!job) throw new ApiError('not_found', `jobId: job ${jobId} not found`, 'jobId');
    return job;
  }

  /** Ask a running job to stop (the engine stops between images; killed after cancelTimeoutMs). @returns ok false when it is no longer running. */
  cancel(jobId: number): { ok: boolean } {
    const job = this.job(jobId);
    if (job.info.status !== 'running' || !job.engine) return { ok: false };
    job.cancelRequested = true;
    job.engine.send({ type: 'cancel' });
    const engine = job.engine;
    job.killTimer = setTimeout(() => engine.kill('SIGKILL'), this.opts.cancelTimeoutMs ?? 5000);
    job.killTimer.unref();
    return { ok: true };
  }

  /** Kill every running job's engine (shutdown). */
  dispose(): void {
    for (const job of this.jobs.values()) {
      if (job.killTimer) clearTimeout(job.killTimer);
      job.engine?.kill('SIGKILL');
    }
    this.events.dispose();
  }

  private progress(job: Job, phase: string, done: number, total: number): void {
    Object.assign(job.info, { phase, done, total });
    this.fire('job.progress', { ...job.info });
  }

  private finish(job: Job, status: EngineJob['status'], error: string | null): void {
    Object.assign(job.info, { status, error });
    if (status === 'completed') job.info.done = job.info.total;
    this.fire('job.finished', { ...job.info });
    if (job.engine && !job.engine.exited) {
      const engine = job.engine;
      job.killTimer = setTimeout(() => engine.kill('SIGKILL'), 5000);
      job.killTimer.unref();
    }
    const finished = [...this.jobs.values()].filter((j) => j.info.status !== 'running');
    for (const old of finished.slice(0, Math.max(0, finished.length - KEEP_RESULTS))) this.jobs.delete(old.info.jobId);
  }

  private fire<E extends 'job.progress' | 'job.finished'>(event: E, payload: EventPayload<E>): void {
    this.events.fire({ event, payload } as ApiEvent);
  }
}
