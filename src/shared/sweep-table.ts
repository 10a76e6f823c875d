/**
 * The ablation table of a sweep: one row per variant with the mean ± standard deviation
 * over its seeds of the best validation accuracy and the test accuracy, the difference
 * to the baseline (variant 0) with its spread, and the best variant marked. Pure; the
 * sweep page, the CLI and the tests compute it with this one function.
 *
 * Statistics: mean and the sample standard deviation (n − 1 in the denominator; 0 for one
 * run). Δ = mean(variant) − mean(baseline); its spread is the standard error of that
 * difference, √(sd_v²/n_v + sd_b²/n_b) (Welch's), 0 when both have one run. The best
 * variant is the one with the highest mean validation accuracy (test accuracy breaks ties):
 * chosen on validation, so its test accuracy stays an honest estimate.
 */

/** What the table needs of each run of the sweep. Accuracies are fractions in [0, 1]. */
export interface SweepRunResult {
  runId: number;
  variant: number;
  seed: number;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';
  bestValAccuracy: number | null;
  testAccuracy: number | null;
  /** Why a failed run failed (INTERRUPTED when its process stopped); not used by the table. */
  error?: string | null;
}

/** Mean, sample standard deviation and count of the values that are there. */
export interface MeanSd {
  mean: number;
  sd: number;
  n: number;
}

/** A difference to the baseline and its spread (standard error). */
export interface Delta {
  mean: number;
  spread: number;
  /** The smaller of the two sides' run counts: with 1 the spread says nothing (one side has no sd). */
  n: number;
}

export interface AblationRow {
  variant: number;
  label: string;
  values: Record<string, unknown>;
  /** Runs of the variant by status. */
  runs: number;
  completed: number;
  /** Over the completed runs that have the metric; null when none has. */
  val: MeanSd | null;
  test: MeanSd | null;
  /** Against variant 0; null for the baseline itself or when either side has no value. */
  deltaVal: Delta | null;
  deltaTest: Delta | null;
  baseline: boolean;
  best: boolean;
}

/** Mean and sample standard deviation (n − 1); null for no values. */
export function meanSd(xs: readonly number[]): MeanSd | null {
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd, n: xs.length };
}

/** a − b with the standard error √(sd_a²/n_a + sd_b²/n_b). */
export function delta(a: MeanSd | null, b: MeanSd | null): Delta | null {
  if (!a || !b) return null;
  return { mean: a.mean - b.mean, spread: Math.sqrt((a.sd * a.sd) / a.n + (b.sd * b.sd) / b.n), n: Math.min(a.n, b.n) };
}

const pct = (x: number): string => (x * 100).toFixed(1);

/**
 * A mean ± sd in % as a table cell: "97.3 ± 0.4"; one run: "97.3 (n = 1)", no ± (a single
 * seed has no spread to show, and "± 0.0" would read as zero variance); '—' for none.
 */
export function formatMeanSd(m: MeanSd | null): string {
  if (!m) return '—';
  return m.n > 1 ? `${pct(m.mean)} ± ${pct(m.sd)}` : `${pct(m.mean)} (n = 1)`;
}

/** A Δ in points: "+1.2 ± 0.3"; when either side has one run: "+1.2 (n = 1)", no spread; '—' for none. */
export function formatDelta(d: Delta | null): string {
  if (!d) return '—';
  const v = `${d.mean >= 0 ? '+' : '−'}${pct(Math.abs(d.mean))}`;
  return d.n > 1 ? `${v} ± ${pct(d.spread)}` : `${v} (n = 1)`;
}

/** 'up' / 'down' when Δ is more than one standard error from 0 (needs n > 1 on both sides), else ''. */
export function deltaSign(d: Delta | null): 'up' | 'down' | '' {
  if (!d || d.n < 2) return '';
  return d.mean - d.spread > 0 ? 'up' : d.mean + d.spread < 0 ? 'down' : '';
}

/**
 * The ablation table: one row per variant (in variant order), from the runs' results.
 * Only completed runs count in the statistics; the others are counted in `runs`.
 */
export function ablationTable(variants: readonly { index: number; label: string; values: Record<string, unknown> }[], results: readonly SweepRunResult[]): AblationRow[] {
  const rows: AblationRow[] = variants.map((v) => {
    const mine = results.filter((r) => r.variant === v.index);
    const done = mine.filter((r) => r.status === 'completed');
    const pick = (f: (r: SweepRunResult) => number | null): number[] => done.map(f).filter((x): x is number => x !== null && Number.isFinite(x));
    return {
      variant: v.index,
      label: v.label,
      values: v.values,
      runs: mine.length,
      completed: done.length,
      val: meanSd(pick((r) => r.bestValAccuracy)),
      test: meanSd(pick((r) => r.testAccuracy)),
      deltaVal: null,
      deltaTest: null,
      baseline: v.index === 0,
      best: false,
    };
  });
  const base = rows.find((r) => r.baseline);
  let best: AblationRow | null = null;
  for (const r of rows) {
    if (base && !r.baseline) {
      r.deltaVal = delta(r.val, base.val);
      r.deltaTest = delta(r.test, base.test);
    }
    if (r.val && (!best || r.val.mean > best.val!.mean || (r.val.mean === best.val!.mean && (r.test?.mean ?? -1) > (best.test?.mean ?? -1)))) best = r;
  }
  if (best) best.best = true;
  return rows;
}

/** What `sweepProgressText` reads of a sweep's summary (./sweep-api.ts). */
export interface SweepProgressSource {
  runs: number;
  deleted: number;
  counts: Record<SweepRunResult['status'], number>;
}

/**
 * A sweep's progress in words, each outcome counted on its own: "1 completed, 5 cancelled of
 * 6 runs" (not "6 / 6 finished"), with the running, queued, failed and deleted ones when there
 * are any. `runs` is the planned size; deleted runs still count in it and are said as deleted.
 */
export function sweepProgressText(s: SweepProgressSource): string {
  const parts: string[] = [`${s.counts.completed} completed`];
  for (const k of ['running', 'queued', 'failed', 'interrupted', 'cancelled'] as const) if (s.counts[k] > 0) parts.push(`${s.counts[k]} ${k}`);
  if (s.deleted > 0) parts.push(`${s.deleted} deleted`);
  return `${parts.join(', ')} of ${s.runs} run${s.runs === 1 ? '' : 's'}`;
}
