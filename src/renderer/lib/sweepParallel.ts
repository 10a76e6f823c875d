/**
 * The sweep page's parallel coordinates: one axis per varied path (the variants' values, so
 * the model knobs `model.dropoutRate` / `model.batchNormalization` have axes too), then the
 * best val and the test accuracy; one line per completed run. A path whose values are all
 * positive numbers spanning more than a decade is a log axis (learning rates); numbers
 * otherwise a value axis; anything else a category axis, named by the grid axis' labels when
 * it has them (the ablation's "none", "L1 1e-05", "L2 0.0005"), else by the values.
 */
import { valueLabel } from '../../shared/sweep';
import type { SweepDetail } from '../../shared/sweep-api';

export type ParallelAxis =
  | { path: string; kind: 'value' | 'log' }
  | { path: string; kind: 'category'; categories: string[] };

export interface ParallelData {
  axes: ParallelAxis[];
  /** Per completed run: its id, its variant and one value per axis (category index for category axes), then val and test accuracy (fractions; NaN when absent). */
  lines: { runId: number; variant: number; values: number[] }[];
}

/** The axes and lines of a sweep's parallel coordinates. */
export function sweepParallelData(d: Pick<SweepDetail, 'variantList' | 'runList' | 'spec'>): ParallelData {
  const paths = [...new Set(d.variantList.flatMap((v) => Object.keys(v.values)))];
  const grid = ((d.spec as { grid?: { path: string; values: unknown[]; labels?: string[] }[] }).grid ?? []);
  /** A value's name on its axis: the grid axis' label for it, else valueLabel. */
  const nameOf = (path: string, x: unknown): string => {
    const a = grid.find((g) => g.path === path);
    const i = a?.labels ? a.values.findIndex((v) => JSON.stringify(v) === JSON.stringify(x)) : -1;
    return i >= 0 ? a!.labels![i] : valueLabel(x);
  };
  const axes: ParallelAxis[] = paths.map((path) => {
    const vs = d.variantList.map((v) => v.values[path]);
    if (vs.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      const nums = vs as number[];
      const lo = Math.min(...nums);
      const hi = Math.max(...nums);
      return { path, kind: lo > 0 && hi / lo > 10 ? 'log' : 'value' };
    }
    return { path, kind: 'category', categories: [...new Set(vs.map((x) => nameOf(path, x)))] };
  });
  const lines = d.runList
    .filter((r) => r.status === 'completed')
    .map((r) => {
      const v = d.variantList[r.variant]?.values ?? {};
      const values = axes.map((a) => (a.kind === 'category' ? a.categories.indexOf(nameOf(a.path, v[a.path])) : Number(v[a.path])));
      return { runId: r.runId, variant: r.variant, values: [...values, r.bestValAccuracy ?? NaN, r.testAccuracy ?? NaN] };
    });
  return { axes, lines };
}
