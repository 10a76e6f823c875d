/**
 * Sweeps and ablations: a SweepSpec is a base RunSpec plus the fields to vary — a grid of
 * values per spec path, seeded random draws over ranges (uniform or log-uniform), and
 * repeats over seeds — and `expandSweep` turns it into the RunSpecs to train, a pure
 * function. Paths are the spec's dotted paths (`training.optimizer.learningRate`,
 * `model.nodes[3].layer.rate`) or the two model knobs of ./sweep-model.ts
 * (`model.dropoutRate`, `model.batchNormalization`). `regularizationAblation` writes the
 * one-click ablation: dropout × batch normalization × L1/L2 × augmentation.
 *
 * Variants: every grid point (the product of the axes, the first axis slowest) crossed with
 * every random draw (one draw when there is no `random`); each variant is trained with
 * `seeds` seeds: the base spec's seed, +1, +2, … Variant 0 (the first value of every axis,
 * the first draw) is the baseline the ablation table (./sweep-table.ts) measures against.
 */
import { z } from 'zod';
import { fieldPath, SpecError } from './errors';
import { mulberry32 } from './random';
import { parseRunSpec, RunSpecSchema, type RunSpec } from './spec';
import { applyModelKnob, isModelKnob } from './sweep-model';

export { MODEL_KNOBS, isModelKnob, withBatchNormalization, withDropout } from './sweep-model';

/** The most runs one sweep may create. */
export const MAX_SWEEP_RUNS = 1000;

/** A dotted spec path: `training.batchSize`, `model.nodes[3].layer.rate`. */
export const SpecPathSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*)*$/, 'a spec path reads like training.optimizer.learningRate or model.nodes[3].layer.rate');

/** One grid axis: a path and its values (JSON: numbers, booleans, strings, objects), with optional labels for the table. */
export const SweepAxisSchema = z
  .object({
    path: SpecPathSchema,
    values: z.array(z.unknown()).min(1).max(100),
    /** How each value is named in tables (same length as values); default: its compact JSON. */
    labels: z.array(z.string().max(80)).optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.labels && a.labels.length !== a.values.length) ctx.addIssue({ code: 'custom', path: ['labels'], message: `${a.labels.length} labels for ${a.values.length} values` });
  });
export type SweepAxis = z.infer<typeof SweepAxisSchema>;

/** A range to draw from: uniform in [low, high], or log-uniform (`log`: exp of a uniform draw in [ln low, ln high]); `integer` rounds the draw. */
export const SweepRangeSchema = z
  .object({ path: SpecPathSchema, low: z.number(), high: z.number(), log: z.boolean().default(false), integer: z.boolean().default(false) })
  .strict()
  .superRefine((r, ctx) => {
    if (!(r.high >= r.low)) ctx.addIssue({ code: 'custom', path: ['high'], message: `high (${r.high}) is below low (${r.low})` });
    if (r.log && !(r.low > 0)) ctx.addIssue({ code: 'custom', path: ['low'], message: 'a log-uniform range needs low > 0' });
  });
export type SweepRange = z.infer<typeof SweepRangeSchema>;

export const SweepSpecSchema = z
  .object({
    /** The run every variant starts from. */
    base: RunSpecSchema,
    grid: z.array(SweepAxisSchema).max(12).default([]),
    /** `samples` draws of every range, from a generator seeded by `seed` (default: the base spec's seed). */
    random: z
      .object({ samples: z.number().int().min(1).max(MAX_SWEEP_RUNS), seed: z.number().int().min(0).max(2 ** 31 - 1).optional(), ranges: z.array(SweepRangeSchema).min(1).max(12) })
      .strict()
      .optional(),
    /** Repeats of each variant: seeds base.seed, base.seed + 1, … */
    seeds: z.number().int().min(1).max(100).default(1),
  })
  .strict()
  .superRefine((s, ctx) => {
    const paths = [...s.grid.map((a) => a.path), ...(s.random?.ranges ?? []).map((r) => r.path)];
    const dup = paths.find((p, i) => paths.indexOf(p) !== i);
    if (dup) ctx.addIssue({ code: 'custom', path: ['grid'], message: `${dup} is varied twice` });
    if (paths.includes('seed')) ctx.addIssue({ code: 'custom', path: ['grid'], message: 'seed is varied by `seeds`, not as an axis' });
  });
export type SweepSpec = z.infer<typeof SweepSpecSchema>;
export type SweepSpecInput = z.input<typeof SweepSpecSchema>;

/** One variant: its index (0 = the baseline), the value of each varied path, and its label ("model.dropoutRate=0.5, training.regularization=L2"). */
export interface SweepVariant {
  index: number;
  values: Record<string, unknown>;
  label: string;
}

/** One run to create: its variant, its seed and its whole parsed spec. */
export interface SweepRunPlan {
  variant: number;
  seed: number;
  spec: RunSpec;
}

/** A path split into keys and indices: "model.nodes[3].layer" → ['model', 'nodes', 3, 'layer']. */
export function splitPath(path: string): (string | number)[] {
  const keys: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) throw new SpecError(`${path}: not a spec path`, path);
    keys.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) keys.push(Number(idx[1]));
  }
  return keys;
}

/**
 * A copy of `spec` with the value at `path` replaced (a model knob rewrites the model).
 * The parent of the path must exist in the spec (a key may be new: the schema then judges it).
 * @throws SpecError naming the path when its parent does not exist or is not an object/array.
 */
export function setSpecPath(spec: RunSpec, path: string, value: unknown): RunSpec {
  if (isModelKnob(path)) return { ...spec, model: applyModelKnob(spec.model, path, value) };
  const keys = splitPath(path);
  const root = structuredClone(spec) as unknown as Record<string | number, unknown>;
  let obj: Record<string | number, unknown> = root;
  for (let i = 0; i < keys.length - 1; i++) {
    const next = obj[keys[i]];
    if (next === null || typeof next !== 'object') throw new SpecError(`${path}: the spec has no ${fieldPath(keys.slice(0, i + 1))}`, path);
    obj = next as Record<string | number, unknown>;
  }
  const last = keys[keys.length - 1];
  if (Array.isArray(obj) && !(typeof last === 'number' && last < obj.length)) throw new SpecError(`${path}: index ${String(last)} is outside ${fieldPath(keys.slice(0, -1))}`, path);
  obj[last] = structuredClone(value);
  return root as unknown as RunSpec;
}

/** The value at `path` in `spec` (undefined when absent; model knobs are not fields and read as undefined). */
export function getSpecPath(spec: unknown, path: string): unknown {
  let obj: unknown = spec;
  for (const k of splitPath(path)) {
    if (obj === null || typeof obj !== 'object') return undefined;
    obj = (obj as Record<string | number, unknown>)[k];
  }
  return obj;
}

/** A value as a table shows it: numbers as they are, strings bare, anything else compact JSON. */
export function valueLabel(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(Number(v.toPrecision(6)));
  return JSON.stringify(v);
}

/** Split `s` at commas that are not inside [], {} or "…"; each part trimmed. */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '\\') {
        cur += c + (s[i + 1] ?? '');
        i++;
        continue;
      }
      if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur.trim());
  return out;
}

/**
 * Values typed as text (the CLI's `--grid PATH=…`, the sweep form): comma-separated, each
 * JSON where it parses (0.01, true, {"l1":0,"l2":1e-4}), else the string itself; commas
 * inside brackets, braces or quotes do not split; empty parts are dropped.
 */
export function parseValueList(text: string): unknown[] {
  return splitTopLevel(text)
    .filter((t) => t !== '')
    .map((t) => {
      try {
        return JSON.parse(t) as unknown;
      } catch {
        return t;
      }
    });
}

/** One draw from a range (`u` uniform in [0, 1)): uniform, or log-uniform exp(ln lo + u·(ln hi − ln lo)); rounded when integer. */
export function drawFromRange(r: SweepRange, u: number): number {
  const x = r.log ? Math.exp(Math.log(r.low) + u * (Math.log(r.high) - Math.log(r.low))) : r.low + u * (r.high - r.low);
  return r.integer ? Math.min(r.high, Math.max(r.low, Math.round(x))) : Math.min(r.high, Math.max(r.low, x));
}

/**
 * The variants of a sweep (no specs): grid points × random draws, variant 0 first.
 * Draws: one generator (src/shared/random.ts, seeded by random.seed, else base.seed) gives,
 * for draw 1, 2, …, one number per range in the ranges' order, so a seed gives the same draws.
 */
export function sweepVariants(sweep: SweepSpec): SweepVariant[] {
  let points: { values: Record<string, unknown>; labels: string[] }[] = [{ values: {}, labels: [] }];
  for (const axis of sweep.grid) {
    const next: typeof points = [];
    for (const p of points) {
      axis.values.forEach((v, i) => next.push({ values: { ...p.values, [axis.path]: v }, labels: [...p.labels, `${axis.path}=${axis.labels?.[i] ?? valueLabel(v)}`] }));
    }
    points = next;
  }
  const draws: { values: Record<string, unknown>; labels: string[] }[] = [];
  if (sweep.random) {
    const rand = mulberry32(sweep.random.seed ?? sweep.base.seed);
    for (let k = 0; k < sweep.random.samples; k++) {
      const d: (typeof draws)[number] = { values: {}, labels: [] };
      for (const r of sweep.random.ranges) {
        const x = drawFromRange(r, rand());
        d.values[r.path] = x;
        d.labels.push(`${r.path}=${valueLabel(x)}`);
      }
      draws.push(d);
    }
  } else draws.push({ values: {}, labels: [] });
  const variants: SweepVariant[] = [];
  for (const p of points) {
    for (const d of draws) {
      const labels = [...p.labels, ...d.labels];
      variants.push({ index: variants.length, values: { ...p.values, ...d.values }, label: labels.length ? labels.join(', ') : 'base' });
    }
  }
  return variants;
}

/**
 * Expand a sweep into the runs to create: every variant × `seeds` seeds, each spec the base
 * with the variant's values set (in the order of the axes, then the ranges) and parsed.
 * @throws SpecError for an invalid sweep (field under `sweep.`), more than MAX_SWEEP_RUNS
 *   runs, or a variant whose spec is invalid (the message names the variant and the field).
 */
export function expandSweep(input: unknown): { sweep: SweepSpec; variants: SweepVariant[]; runs: SweepRunPlan[] } {
  const parsed = SweepSpecSchema.safeParse(input);
  if (!parsed.success) {
    const iss = parsed.error.issues[0];
    const field = fieldPath(iss.path, 'sweep');
    throw new SpecError(`${field}: ${iss.message}`, field);
  }
  const sweep = parsed.data;
  const total = sweep.grid.reduce((n, a) => n * a.values.length, 1) * (sweep.random?.samples ?? 1) * sweep.seeds;
  if (total > MAX_SWEEP_RUNS) throw new SpecError(`sweep: ${total} runs is more than ${MAX_SWEEP_RUNS}; fewer values, draws or seeds`, 'sweep');
  const variants = sweepVariants(sweep);
  const runs: SweepRunPlan[] = [];
  for (const v of variants) {
    let spec: RunSpec = sweep.base;
    try {
      for (const [path, value] of Object.entries(v.values)) spec = setSpecPath(spec, path, value);
      spec = parseRunSpec(spec);
    } catch (err) {
      const e = err as SpecError;
      throw new SpecError(`sweep variant ${v.index} (${v.label}): ${e.message}`, e.field ?? 'sweep');
    }
    for (let k = 0; k < sweep.seeds; k++) {
      const seed = (sweep.base.seed + k) % 2 ** 31;
      runs.push({ variant: v.index, seed, spec: { ...spec, seed } });
    }
  }
  return { sweep, variants, runs };
}

/** The factors of a regularization ablation; each present factor is an axis "off" (first) vs "on". */
export interface AblationFactors {
  /** Dropout rate when on (off: no dropout). */
  dropout?: number;
  /** Batch normalization off vs on. */
  batchNormalization?: boolean;
  /** Weight penalties: none, L1 at `l1`, L2 at `l2` (three levels). */
  weightPenalty?: { l1: number; l2: number };
  /** Augmentation when on (off: none). */
  augmentation?: { horizontalFlip: boolean; randomTranslation: number; gaussianNoise: number };
}

/**
 * The factors and levels of the one-click ablation: dropout 0.5, batch normalization, L1 1e-5 / L2 5e-4,
 * 10 % translation. No horizontal flip: a flip assumes mirror-symmetric classes (right for CIFAR-10's
 * animals and vehicles, wrong for digits, letters or text), so it is the user's choice, not the default.
 */
export const DEFAULT_ABLATION: Required<AblationFactors> = {
  dropout: 0.5,
  batchNormalization: true,
  weightPenalty: { l1: 1e-5, l2: 5e-4 },
  augmentation: { horizontalFlip: false, randomTranslation: 0.1, gaussianNoise: 0 },
};
/** Seeds per variant of the one-click ablation: 2 (24 variants × 2 = 48 runs; a mean and a spread per variant). */
export const DEFAULT_ABLATION_SEEDS = 2;

/**
 * The regularization ablation of `base` as a SweepSpec: a full factorial over the factors
 * given (dropout × batch normalization × L1/L2 × augmentation), every factor off first, so
 * the baseline (variant 0) is the base with no regularization at all; each variant × `seeds`.
 */
export function regularizationAblation(base: z.input<typeof RunSpecSchema>, factors: AblationFactors = DEFAULT_ABLATION, seeds = DEFAULT_ABLATION_SEEDS): SweepSpecInput {
  const grid: SweepAxis[] = [];
  if (factors.dropout !== undefined) grid.push({ path: 'model.dropoutRate', values: [0, factors.dropout], labels: ['off', String(factors.dropout)] });
  if (factors.batchNormalization) grid.push({ path: 'model.batchNormalization', values: [false, true], labels: ['off', 'on'] });
  if (factors.weightPenalty) {
    const { l1, l2 } = factors.weightPenalty;
    grid.push({ path: 'training.regularization', values: [{ l1: 0, l2: 0 }, { l1, l2: 0 }, { l1: 0, l2 }], labels: ['none', `L1 ${l1}`, `L2 ${l2}`] });
  }
  if (factors.augmentation) {
    grid.push({ path: 'training.augmentation', values: [{ horizontalFlip: false, randomTranslation: 0, gaussianNoise: 0 }, factors.augmentation], labels: ['off', 'on'] });
  }
  return { base, grid, seeds };
}
