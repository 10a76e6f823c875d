/**
 * When a run's suggested label errors are worth showing: only from a model clearly better
 * than chance. The test: the lower end of the 95 % Wilson score interval of the model's
 * accuracy on its held-out images (val, else test) lies above the majority-class rate of
 * that split (what always answering the most frequent class scores). A chance-level
 * model (e.g. LeNet after one epoch on 245 photos of ants and bees) fails it, and its
 * "suggestions" — confident disagreements of a model that knows nothing — are not stored.
 *
 * Wilson score interval (E. B. Wilson 1927, "Probable inference, the law of succession,
 * and statistical inference", JASA 22: 209–212): for k successes in n trials, p̂ = k/n,
 *   centre = (p̂ + z²/2n) / (1 + z²/n),  half-width = z·√(p̂(1−p̂)/n + z²/4n²) / (1 + z²/n),
 * with z = 1.959964 for 95 %. Unlike the normal approximation it stays inside [0, 1] and
 * behaves for small n and p̂ near 0 or 1.
 */
import type { SuggestionGate } from '../../shared/api';
import type { Db } from '../db/db';

/** z of a two-sided 95 % interval. */
export const Z_95 = 1.959964;

/**
 * Wilson score interval of a binomial proportion.
 * @param k successes, 0 ≤ k ≤ n. @param n trials (n = 0 gives [0, 1]). @param z the normal quantile (default 95 %).
 * @returns [lower, upper], within [0, 1].
 */
export function wilsonInterval(k: number, n: number, z = Z_95): [number, number] {
  if (n <= 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * The gate of a run from its stored predictions (table `predictions`): on its val rows,
 * else its test rows. `passed` false with n = 0 when it has neither.
 */
export function suggestionGate(db: Db, runId: number): SuggestionGate {
  const rows = db
    .prepare('SELECT split, given_class_id AS g, SUM(given_class_id = predicted_class_id) AS right, COUNT(*) AS n FROM predictions WHERE run_id = ? AND split IN (\'val\', \'test\') AND given_class_id IS NOT NULL GROUP BY split, given_class_id')
    .all(runId) as { split: 'val' | 'test'; g: number; right: number; n: number }[];
  const split = rows.some((r) => r.split === 'val') ? 'val' : rows.some((r) => r.split === 'test') ? 'test' : null;
  const mine = rows.filter((r) => r.split === split);
  const n = mine.reduce((s, r) => s + r.n, 0);
  const correct = mine.reduce((s, r) => s + r.right, 0);
  let majority: { g: number; n: number } | null = null;
  for (const r of mine) if (!majority || r.n > majority.n || (r.n === majority.n && r.g < majority.g)) majority = { g: r.g, n: r.n };
  const [lower, upper] = wilsonInterval(correct, n);
  const majorityRate = majority && n > 0 ? majority.n / n : 0;
  return {
    passed: n > 0 && lower > majorityRate,
    split,
    n,
    correct,
    accuracy: n > 0 ? correct / n : null,
    lower,
    upper,
    majorityClassId: majority?.g ?? null,
    majorityRate,
  };
}
