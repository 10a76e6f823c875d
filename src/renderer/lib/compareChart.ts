/**
 * What the Compare page's charts share: a colour per run (by its place in the selection), the
 * metrics a curve can show with their labels, and axis helpers (a readable learning-rate
 * label, category values spread by a small seeded jitter so equal values stay apart).
 */
import type { CompareRun } from '../../shared/api';
import { flattenRunSpec, formatSpecValue, isLogPath, type SpecValue } from '../../shared/compare';
import type { MetricName } from '../../shared/metrics';
import { mulberry32 } from '../../shared/random';
import { paletteColor } from './palette';

/** The colour of the i-th run of a comparison. */
export const runColor = (i: number): string => paletteColor(i);

/** A run's legend name: `#12 name`. */
export const runLabel = (r: { id: number; name: string }): string => `#${r.id} ${r.name}`;

/** Metrics a curve can show, with their labels; fractions are drawn as percentages. */
export const CURVE_METRICS: { name: MetricName; label: string; fraction?: boolean }[] = [
  { name: 'loss', label: 'loss (per step)' },
  { name: 'train_loss', label: 'train loss' },
  { name: 'val_loss', label: 'val loss' },
  { name: 'train_accuracy', label: 'train accuracy', fraction: true },
  { name: 'val_accuracy', label: 'val accuracy', fraction: true },
  { name: 'learning_rate', label: 'learning rate' },
  { name: 'samples_per_sec', label: 'samples/s' },
  { name: 'epoch_seconds', label: 'epoch seconds' },
];

/** A learning rate (or any positive number on a log axis) as people write it: 0.001 → "1e-3", 0.0005 → "5e-4", 0.1 → "0.1". */
export function formatLogTick(v: number): string {
  if (!Number.isFinite(v) || v <= 0) return String(v);
  if (v >= 0.01 && v < 1000) return String(Number(v.toPrecision(3)));
  const [m, e] = v.toExponential(2).split('e');
  return `${Number(m)}e${Number(e)}`;
}

/** Half the band a category's runs are spread over, in category steps (0.3: runs of one value fill 60 % of the gap). */
export const CATEGORY_JITTER = 0.3;

/**
 * Decimals an axis label needs so about `ticks` labels over [min, max] read apart: the tick
 * step's first significant digit (0.9741 … 0.9873 in % → 97.4 … 98.7: 1 decimal; 0 … 25 s: 0),
 * at most 6. A flat or empty range gets enough for its value's 3 significant digits.
 */
export function axisDecimals(min: number, max: number, ticks = 5): number {
  const span = max - min;
  if (!Number.isFinite(span)) return 0;
  const step = span > 0 ? span / ticks : Math.abs(max) / 100;
  if (!(step > 0)) return 0;
  return Math.min(6, Math.max(0, Math.ceil(-Math.log10(step))));
}

/**
 * An axis label formatter for the finite `values` (already in the unit shown, e.g. % or
 * seconds): each label with `axisDecimals` of their range, then `suffix`; `scale` multiplies a
 * tick before writing (100 for a fraction shown as %).
 */
export function rangeFormatter(values: Iterable<number | null | undefined>, scale = 1, suffix = ''): (v: number) => string {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (v * scale < lo) lo = v * scale;
    if (v * scale > hi) hi = v * scale;
  }
  const d = lo <= hi ? axisDecimals(lo, hi) : 0;
  return (v: number) => `${(v * scale).toFixed(d)}${suffix}`;
}

/**
 * Parallel coordinates' default fields of the differing `paths`: the model knobs
 * (batch normalization, dropout rate) and any learning rate first, then the other paths,
 * leaving out the seed and node-level paths (`model.nodes.*`: the knobs say it), six at most.
 */
export function defaultParallelFields(paths: readonly string[]): string[] {
  const rank = (p: string): number => (p === 'model.batchNormalization' || p === 'model.dropoutRate' ? 0 : isLogPath(p) ? 1 : 2);
  return paths
    .filter((p) => p !== 'seed' && !p.startsWith('model.nodes.'))
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i)
    .map((x) => x.p)
    .slice(0, 6);
}

export interface FieldAxis {
  path: string;
  kind: 'log' | 'value' | 'category';
  /** Category names in axis order (kind 'category'). */
  categories: string[];
  /** One position per run: the number, or the category index plus jitter in (−CATEGORY_JITTER, CATEGORY_JITTER). */
  values: (number | null)[];
}

/**
 * How runs spread along one spec field: numbers on a value axis (a log axis for a learning rate
 * whose values are all > 0), anything else as categories in first-seen order, each run shifted by
 * a jitter seeded with its id so the picture is the same on every load.
 */
export function fieldAxis(runs: readonly CompareRun[], path: string): FieldAxis {
  const raw: (SpecValue | undefined)[] = runs.map((r) => flattenRunSpec(r.spec)[path]);
  const numeric = raw.every((v) => typeof v === 'number');
  if (numeric) {
    const nums = raw as number[];
    return { path, kind: isLogPath(path) && nums.every((v) => v > 0) ? 'log' : 'value', categories: [], values: nums };
  }
  const categories: string[] = [];
  const values = raw.map((v, i) => {
    const label = formatSpecValue(v, path);
    let k = categories.indexOf(label);
    if (k < 0) k = categories.push(label) - 1;
    return k + (mulberry32(runs[i].id)() - 0.5) * 2 * CATEGORY_JITTER;
  });
  return { path, kind: 'category', categories, values };
}
