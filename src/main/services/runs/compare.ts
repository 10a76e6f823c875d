/**
 * Compare's reads: several runs in one request, their metrics in columns (the Compare page
 * draws 20 runs × 50,000 points) and their summary figures (epochs finished, the epoch of
 * the best validation accuracy). Samples still buffered (./metrics.ts) are included.
 */
import type { CompareRun, Metric, MetricColumns, RunDetail } from '../../../shared/api';
import { MAX_COMPARE_SAMPLES } from '../../../shared/compare';
import { ApiError } from '../../../shared/errors';
import { METRIC, METRIC_NAMES, type MetricName } from '../../../shared/metrics';
import type { Db } from '../../db/db';

export interface CompareResult {
  runs: CompareRun[];
  metrics: MetricColumns[];
  sampleCounts: { runId: number; name: MetricName; count: number }[];
}

export class RunCompare {
  private readonly stmt;

  constructor(db: Db) {
    this.stmt = {
      counts: db.prepare(`SELECT name, COUNT(*) AS n FROM metrics WHERE run_id = ? GROUP BY name`),
      series: db.prepare(`SELECT epoch, step, value, time FROM metrics WHERE run_id = ? AND name = ? ORDER BY rowid LIMIT ? OFFSET ?`).raw(),
      epochsDone: db.prepare(`SELECT COUNT(DISTINCT epoch) FROM metrics WHERE run_id = ? AND name = '${METRIC.trainLoss}' AND step IS NULL`).pluck(),
      bestValEpoch: db.prepare(`SELECT epoch FROM metrics WHERE run_id = ? AND name = '${METRIC.valAccuracy}' AND step IS NULL ORDER BY value DESC, epoch LIMIT 1`).pluck(),
    };
  }

  /**
   * The runs (details given, in that order) with their summary figures, the samples of the
   * metrics `names` (default all) in columns and every run's sample count per metric.
   * `pendingFor(runId)`: samples buffered and not yet written. `slice`: only samples
   * [offset, offset + limit) of each column (written ones first, then the buffered ones).
   * @throws ApiError invalid_params (field runIds) when the samples asked for exceed MAX_COMPARE_SAMPLES: ask for fewer runs or metrics at a time.
   */
  compare(details: readonly RunDetail[], names: readonly MetricName[] | undefined, pendingFor: (runId: number) => Metric[], slice: { offset?: number; limit?: number } = {}): CompareResult {
    const offset = slice.offset ?? 0;
    const limit = slice.limit ?? Number.MAX_SAFE_INTEGER;
    const sliced = (count: number): number => Math.max(0, Math.min(limit, count - offset));
    const wanted = new Set<MetricName>(names ?? METRIC_NAMES);
    const sampleCounts: CompareResult['sampleCounts'] = [];
    const pending = new Map(details.map((d) => [d.id, pendingFor(d.id)]));
    for (const d of details) {
      const counts = new Map<MetricName, number>();
      for (const r of this.stmt.counts.all(d.id) as { name: MetricName; n: number }[]) counts.set(r.name, r.n);
      for (const m of pending.get(d.id)!) counts.set(m.name, (counts.get(m.name) ?? 0) + 1);
      for (const [name, count] of counts) sampleCounts.push({ runId: d.id, name, count });
    }
    const total = sampleCounts.filter((c) => wanted.has(c.name)).reduce((a, c) => a + sliced(c.count), 0);
    if (total > MAX_COMPARE_SAMPLES) {
      throw new ApiError('invalid_params', `runIds: ${total.toLocaleString('en-US')} samples asked for, more than one answer carries (${MAX_COMPARE_SAMPLES.toLocaleString('en-US')}); ask for fewer runs or metrics at a time`, 'runIds');
    }
    const metrics: MetricColumns[] = [];
    for (const d of details) {
      for (const c of sampleCounts) {
        if (c.runId !== d.id || !wanted.has(c.name)) continue;
        const col: MetricColumns = { runId: d.id, name: c.name, step: [], epoch: [], value: [], time: [] };
        const push = (epoch: number | null, step: number | null, value: number, time: number): void => {
          col.epoch.push(epoch);
          col.step.push(step);
          col.value.push(value);
          col.time.push(time);
        };
        const stored = this.stmt.series.all(d.id, c.name, Math.min(limit, MAX_COMPARE_SAMPLES + 1), offset) as [number | null, number | null, number, number][];
        for (const [epoch, step, value, time] of stored) push(epoch, step, value, time);
        // Buffered samples come after the written ones: their place in the column is from the written count on.
        const written = c.count - pending.get(d.id)!.filter((m) => m.name === c.name).length;
        let i = written;
        for (const m of pending.get(d.id)!) {
          if (m.name !== c.name) continue;
          if (i >= offset && i < offset + limit) push(m.epoch, m.step, m.value, m.time);
          i++;
        }
        metrics.push(col);
      }
    }
    const runs = details.map((d) => {
      const best = this.stmt.bestValEpoch.get(d.id) as number | undefined;
      return { ...d, epochsDone: this.stmt.epochsDone.get(d.id) as number, bestValEpoch: best === undefined ? null : best + 1, valRobustAccuracy: d.valRobustAccuracy ?? null };
    });
    return { runs, metrics, sampleCounts };
  }
}
