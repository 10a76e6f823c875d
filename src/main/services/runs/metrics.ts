/**
 * Metric batching: an engine reports every step's loss and each epoch's metrics; samples
 * are buffered and written in one transaction per flush (every `flushIntervalMs`, and at
 * each epoch end, checkpoint and finish), then announced as one `run.metrics` event per run.
 */
import type { Metric } from '../../../shared/api';
import type { EngineToMain } from '../../../shared/engine-protocol';
import { METRIC, type MetricName } from '../../../shared/metrics';
import type { RunMetric, RunStore } from './store';

type ProgressMessage = Extract<EngineToMain, { type: 'progress' }>;
type MetricsMessage = Extract<EngineToMain, { type: 'metrics' }>;
type DoneMessage = Extract<EngineToMain, { type: 'done' }>;

export class MetricBuffer {
  private pending: RunMetric[] = [];
  private readonly timer: NodeJS.Timeout;

  /**
   * `onFlushed` is called after each flush once per run, with its samples in the order
   * reported; `onError` when a flush could not be written (e.g. SQLITE_FULL), with the runs
   * whose samples were lost — flush() itself never throws, so neither does its timer.
   */
  constructor(
    private readonly store: RunStore,
    flushIntervalMs: number,
    private readonly onFlushed: (runId: number, metrics: Metric[]) => void,
    private readonly onError: (runIds: number[], err: unknown) => void = (ids, err) => console.error(`[layerwise] metrics of runs ${ids.join(', ')} not stored:`, err),
  ) {
    this.timer = setInterval(() => this.flush(), flushIntervalMs);
    this.timer.unref();
  }

  /** Buffer a progress message's samples: every step's loss (`stepLosses`, else `loss`) and the throughput. */
  addProgress(runId: number, msg: ProgressMessage, time: number): void {
    const losses = msg.stepLosses?.length ? msg.stepLosses : [msg.loss];
    losses.forEach((value, i) => this.pending.push({ runId, name: METRIC.loss, epoch: msg.epoch, step: msg.step - losses.length + 1 + i, value, time }));
    this.pending.push({ runId, name: METRIC.samplesPerSec, epoch: msg.epoch, step: msg.step, value: msg.samplesPerSec, time });
  }

  /** Buffer an epoch's metrics (finite values only; step null). */
  addEpoch(runId: number, msg: MetricsMessage, time: number): void {
    const m = (name: MetricName, value: number | null): void => {
      if (value !== null && Number.isFinite(value)) this.pending.push({ runId, name, epoch: msg.epoch, step: null, value, time });
    };
    m(METRIC.trainLoss, msg.trainLoss);
    m(METRIC.trainAccuracy, msg.trainAccuracy);
    m(METRIC.valLoss, msg.valLoss);
    m(METRIC.valAccuracy, msg.valAccuracy);
    m(METRIC.valRobustAccuracy, msg.valRobustAccuracy ?? null);
    m(METRIC.learningRate, msg.learningRate);
    m(METRIC.epochSeconds, msg.seconds);
  }

  /** Buffer the test metrics of a finished run under the epoch whose weights were tested (step null; none without a test split). */
  addTest(runId: number, msg: DoneMessage, time: number): void {
    if (msg.testedEpoch === null || msg.testedEpoch === undefined) return;
    for (const [name, value] of [
      [METRIC.testLoss, msg.testLoss],
      [METRIC.testAccuracy, msg.testAccuracy],
    ] as const) {
      if (value !== null && Number.isFinite(value)) this.pending.push({ runId, name, epoch: msg.testedEpoch, step: null, value, time });
    }
  }

  /** The samples of run `runId` buffered and not yet written, in the order reported (a read never forces a write). */
  pendingFor(runId: number): Metric[] {
    const out: Metric[] = [];
    for (const { runId: id, ...m } of this.pending) if (id === runId) out.push(m);
    return out;
  }

  /** Write the buffered samples of runs that still exist in one transaction, then call `onFlushed` once per run. */
  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const live = new Set<number>();
    for (const m of batch) live.add(m.runId);
    try {
      for (const id of live) if (this.store.status(id) === undefined) live.delete(id); // run deleted (with its dataset) meanwhile
      this.store.insertMetrics(batch.filter((m) => live.has(m.runId)));
    } catch (err) {
      this.onError([...live], err);
      return;
    }
    const byRun = new Map<number, Metric[]>();
    for (const { runId, ...m } of batch) {
      let list = byRun.get(runId);
      if (!list) byRun.set(runId, (list = []));
      list.push(m);
    }
    for (const [runId, metrics] of byRun) this.onFlushed(runId, metrics);
  }

  /** Stop the timer (buffered samples stay until a last flush()). */
  dispose(): void {
    clearInterval(this.timer);
  }
}
