/**
 * Engine supervision: the state of a run whose engine process this service drives, what
 * each engine message does to it (status, metrics, checkpoints, predictions, the end),
 * and the timers that kill an engine that does not stop by itself.
 */
import type { RunStatus } from '../../../shared/api';
import type { EngineToMain } from '../../../shared/engine-protocol';
import type { AnyRunSpec } from '../../../shared/run-kinds';
import { now } from '../../db/db';
import { diskFullText } from '../../db/disk-full';
import type { EngineExit, EngineProcess } from '../../engine-launcher';
import type { Disposable } from '../../events';
import type { MetricBuffer } from './metrics';
import type { RunResults, RunStore } from './store';

/** Minimum milliseconds between two `run.progress` events of one run. */
const PROGRESS_EVENT_MS = 100;
/** Milliseconds an engine may linger after `done` / `failed` before it is killed. */
export const EXIT_GRACE_MS = 5000;

/** A run this service drives, from preparing its dataset until its engine has exited. */
export interface ActiveRun {
  runId: number;
  spec: AnyRunSpec;
  engine: EngineProcess | null;
  cancelRequested: boolean;
  /** Terminal status written; later messages and the exit are ignored. */
  finished: boolean;
  killTimer: NodeJS.Timeout | null;
  lastProgressAt: number;
  subscriptions: Disposable[];
  /** Resolves once the run is released (its engine exited, or it never got one). */
  exited: Promise<void>;
  resolveExited: () => void;
}

/** A fresh ActiveRun, without an engine yet. */
export function activeRun(runId: number, spec: AnyRunSpec): ActiveRun {
  let resolveExited!: () => void;
  const exited = new Promise<void>((r) => (resolveExited = r));
  return { runId, spec, engine: null, cancelRequested: false, finished: false, killTimer: null, lastProgressAt: 0, subscriptions: [], exited, resolveExited };
}

/** The reason recorded for an engine that exited without `done`. */
export function exitReason(exit: EngineExit): string {
  const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
  const tail = exit.stderrTail.trim();
  return tail ? `engine exited with ${how}: ${tail.slice(-1500)}` : `engine exited with ${how}`;
}

/** Kill the run's engine (SIGKILL) if it is still there after `ms` milliseconds; replaces an earlier kill timer. */
export function killAfter(run: ActiveRun, ms: number): void {
  if (run.killTimer) clearTimeout(run.killTimer);
  run.killTimer = setTimeout(() => run.engine?.kill('SIGKILL'), ms);
  run.killTimer.unref();
}

/** Clear the run's timer and engine subscriptions and resolve `exited`. */
export function releaseRun(run: ActiveRun): void {
  if (run.killTimer) clearTimeout(run.killTimer);
  run.killTimer = null;
  for (const s of run.subscriptions.splice(0)) s.dispose();
  run.resolveExited();
}

/** What handling an engine message may do. */
export interface EngineMessageSink {
  store: RunStore;
  metrics: MetricBuffer;
  predictions?: { ingestPredictions(runId: number, msg: { path: string; count: number; numClasses: number }): unknown };
  /** Write a terminal status and announce it. */
  finish(runId: number, status: RunStatus, error: string | null, results: RunResults): void;
  fireStatus(runId: number, status: RunStatus, backend: string | null, error: string | null): void;
  fireProgress(payload: Omit<Extract<EngineToMain, { type: 'progress' }>, 'type'> & { runId: number }): void;
  /** A baseline job's phase and count (`jobProgress` of src/engine/baseline/job.ts). */
  fireBaselineProgress?(payload: { runId: number; phase: string; done: number; total: number }): void;
  /** The run's folder (`runs/<id>/`), named when the engine failed writing into it. */
  runDir(runId: number): string;
}

/**
 * Apply one engine message to its run: `ready` → 'running'; progress and epoch metrics
 * buffered (a `run.progress` event at most every 100 ms, and for the last step);
 * checkpoints recorded; predictions stored before `done`; `done` / `failed` finish the
 * run and give the engine EXIT_GRACE_MS to exit. A run deleted meanwhile (with its
 * dataset) has its engine killed.
 */
export function handleEngineMessage(sink: EngineMessageSink, run: ActiveRun, msg: EngineToMain): void {
  const t = now();
  const id = run.runId;
  if (sink.store.status(id) === undefined) {
    // The run was deleted (with its dataset) while training: stop the engine.
    run.finished = true;
    run.engine?.kill('SIGKILL');
    return;
  }
  switch (msg.type) {
    case 'ready':
      sink.store.setRunning(id, msg.backend, msg.detail ?? null, t);
      sink.fireStatus(id, 'running', msg.backend, null);
      break;
    case 'progress': {
      // Every step's loss (the engine throttles its messages, not its numbers); throughput per message.
      sink.metrics.addProgress(id, msg, t);
      const ms = Date.now();
      if (ms - run.lastProgressAt >= PROGRESS_EVENT_MS || msg.step + 1 >= msg.totalSteps) {
        run.lastProgressAt = ms;
        const { type: _type, ...rest } = msg;
        sink.fireProgress({ runId: id, ...rest });
      }
      break;
    }
    case 'jobProgress':
      sink.fireBaselineProgress?.({ runId: id, phase: msg.phase, done: msg.done, total: msg.total });
      break;
    case 'metrics':
      sink.metrics.addEpoch(id, msg, t);
      sink.metrics.flush();
      if (msg.valAccuracy !== null) sink.store.recordValAccuracy(id, msg.valAccuracy);
      break;
    case 'checkpoint':
      sink.metrics.flush();
      sink.store.insertCheckpoint(id, msg.epoch, msg.path, t);
      break;
    case 'predictions':
      // Stored before `done` completes the run, so a completed run has its predictions and suggestions.
      try {
        sink.predictions?.ingestPredictions(id, msg);
      } catch (err) {
        console.error(`[layerwise] run ${id}: storing predictions failed:`, err);
      }
      break;
    case 'done':
      if (!msg.cancelled) sink.metrics.addTest(id, msg, t);
      sink.metrics.flush();
      sink.finish(id, msg.cancelled ? 'cancelled' : 'completed', null, {
        testAccuracy: msg.testAccuracy,
        testLoss: msg.testLoss,
        samplesPerSec: msg.samplesPerSec,
        ...(msg.cancelled ? {} : { testedEpoch: msg.testedEpoch ?? null, stoppedEarly: msg.stoppedEarly ?? false }),
      });
      killAfter(run, EXIT_GRACE_MS);
      break;
    case 'failed':
      sink.metrics.flush();
      // A full disk is named as such, with the file the engine was writing.
      sink.finish(id, 'failed', diskFullText(msg.error, sink.runDir(id)), {});
      killAfter(run, EXIT_GRACE_MS);
      break;
  }
}
