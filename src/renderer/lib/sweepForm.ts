/**
 * The new-sweep form's state and what it becomes: a SweepSpec (src/shared/sweep.ts) over a
 * run's spec, either the regularization ablation (factors ticked, their levels) or grid axes
 * and random ranges typed as text; plus the live count of variants and runs, and the first
 * error naming its field, from the same expansion the service runs.
 */
import type { RunSpec } from '../../shared/spec';
import { DEFAULT_ABLATION, DEFAULT_ABLATION_SEEDS, expandSweep, parseValueList, regularizationAblation, type AblationFactors, type SweepSpecInput } from '../../shared/sweep';

export interface AxisRow {
  path: string;
  /** Comma-separated values ("0.01, 0.001"; JSON objects allowed). */
  values: string;
}

export interface RangeRow {
  path: string;
  low: number;
  high: number;
  log: boolean;
  integer: boolean;
}

export interface SweepForm {
  mode: 'ablation' | 'grid';
  name: string;
  seeds: number;
  /** Epochs of every run (default: the base run's). */
  epochs: number;
  ablation: {
    dropout: boolean;
    dropoutRate: number;
    batchNormalization: boolean;
    weightPenalty: boolean;
    l1: number;
    l2: number;
    augmentation: boolean;
    horizontalFlip: boolean;
    randomTranslation: number;
  };
  axes: AxisRow[];
  randomSamples: number;
  randomSeed: number | null;
  ranges: RangeRow[];
}

/** Paths offered in the form (any spec path may be typed). */
export const COMMON_PATHS = [
  'training.optimizer.learningRate',
  'training.batchSize',
  'training.epochs',
  'training.regularization.l2',
  'training.regularization.l1',
  'training.augmentation.randomTranslation',
  'training.augmentation.horizontalFlip',
  'model.dropoutRate',
  'model.batchNormalization',
] as const;

/** A fresh form for a base run: the one-click ablation with its default levels and seeds (DEFAULT_ABLATION_SEEDS). */
export function newSweepForm(base: RunSpec): SweepForm {
  return {
    mode: 'ablation',
    name: '',
    seeds: DEFAULT_ABLATION_SEEDS,
    epochs: base.training.epochs,
    ablation: {
      dropout: true,
      dropoutRate: DEFAULT_ABLATION.dropout,
      batchNormalization: true,
      weightPenalty: true,
      l1: DEFAULT_ABLATION.weightPenalty.l1,
      l2: DEFAULT_ABLATION.weightPenalty.l2,
      augmentation: true,
      horizontalFlip: DEFAULT_ABLATION.augmentation.horizontalFlip,
      randomTranslation: DEFAULT_ABLATION.augmentation.randomTranslation,
    },
    axes: [{ path: 'training.optimizer.learningRate', values: `${base.training.optimizer.learningRate}, ${base.training.optimizer.learningRate / 10}` }],
    randomSamples: 0,
    randomSeed: null,
    ranges: [],
  };
}

/** The SweepSpec the form describes over `base` (its epochs replaced by the form's). */
export function sweepSpecOfForm(base: RunSpec, f: SweepForm): SweepSpecInput {
  const b = { ...base, training: { ...base.training, epochs: f.epochs } };
  if (f.mode === 'ablation') {
    const a = f.ablation;
    const factors: AblationFactors = {
      ...(a.dropout ? { dropout: a.dropoutRate } : {}),
      ...(a.batchNormalization ? { batchNormalization: true } : {}),
      ...(a.weightPenalty ? { weightPenalty: { l1: a.l1, l2: a.l2 } } : {}),
      ...(a.augmentation ? { augmentation: { horizontalFlip: a.horizontalFlip, randomTranslation: a.randomTranslation, gaussianNoise: 0 } } : {}),
    };
    return regularizationAblation(b, factors, f.seeds);
  }
  const grid = f.axes.filter((r) => r.path.trim() !== '').map((r) => ({ path: r.path.trim(), values: parseValueList(r.values) }));
  const ranges = f.ranges.filter((r) => r.path.trim() !== '');
  return {
    base: b,
    grid,
    seeds: f.seeds,
    ...(f.randomSamples > 0 && ranges.length > 0 ? { random: { samples: f.randomSamples, ranges: ranges.map((r) => ({ ...r, path: r.path.trim() })), ...(f.randomSeed !== null ? { seed: f.randomSeed } : {}) } } : {}),
  };
}

/** What the form would create: variants and runs, or the first error (message and field) — checked by the same expansion as the service. */
export function sweepPreview(base: RunSpec, f: SweepForm): { variants: number; runs: number; labels: string[]; error: null } | { error: string; field: string | null } {
  try {
    const { variants, runs } = expandSweep(sweepSpecOfForm(base, f));
    return { variants: variants.length, runs: runs.length, labels: variants.map((v) => v.label), error: null };
  } catch (e) {
    const err = e as { message?: string; field?: string };
    return { error: err.message ?? String(e), field: err.field ?? null };
  }
}
