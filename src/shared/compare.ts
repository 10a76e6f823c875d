/**
 * Comparing runs, as pure functions (the Compare page, `layerwise compare` and the service
 * share them): a spec flattened to its dotted paths, the config table of several runs with
 * "differences only", TensorBoard's debiased exponential moving average, a metric as an
 * (x, y) series against step, epoch or wall time, runs grouped by a spec field with the
 * mean ± sample standard deviation per x over their seeds, and the min / max of a column.
 *
 * Paths read as the sweep's (./sweep.ts): `training.optimizer.learningRate`; a graph's nodes
 * by name, `model.nodes.dense_1_dropout.layer.rate` (so a node one ablation variant inserts
 * does not shift the others); an array of numbers (e.g. `model.inputShape`) is one value.
 * A run spec also gets the sweep's model knobs `model.batchNormalization` and
 * `model.dropoutRate` as fields (./sweep-model.ts, `modelKnobValues`).
 */
import { mean, sampleStandardDeviation } from 'simple-statistics';
import type { Metric } from './api';
import { MAX_MESSAGE_BYTES } from './limits';
import type { MetricName } from './metrics';
import { MODEL_KNOBS, modelKnobValues } from './sweep-model';
import type { ModelSpec } from './layers';

/** Bytes one sample may take in `runs.compare`'s columns as JSON (step, epoch, a double value and time, commas): 64 is above the worst case. */
export const COMPARE_SAMPLE_BYTES = 64;
/** The most samples one `runs.compare` answer carries (≈ 262,000), so it fits one WebSocket frame. */
export const MAX_COMPARE_SAMPLES = Math.floor(MAX_MESSAGE_BYTES / COMPARE_SAMPLE_BYTES);
/**
 * Samples the renderer asks for per `runs.compare` call (≈ 3 MiB of JSON): well below the
 * host's per-client send queue (8 MiB, src/main/host/server.ts), which a slow page reading one
 * 12 MiB answer while another reply is queued would overflow (and be disconnected). A run
 * with more samples of one metric than this is asked for alone.
 */
export const COMPARE_BATCH_SAMPLES = 50_000;

/** A leaf of a flattened spec; `undefined` in a table row: the run has no such path. */
export type SpecValue = string | number | boolean | null;

/** Whether an array is a graph's node list: objects with distinct string names (and a layer). */
function isNodeList(v: readonly unknown[]): v is { name: string }[] {
  const names = v.map((x) => {
    const n = x !== null && typeof x === 'object' && 'layer' in x ? (x as { name?: unknown }).name : undefined;
    return typeof n === 'string' ? n : null;
  });
  return names.length > 0 && names.every((n) => n !== null) && new Set(names).size === names.length;
}

/**
 * Flatten a JSON value to `{ path: leaf }`: objects by `.key`, a graph's node list by node
 * name (`nodes.conv1.layer.filters`, the name itself not repeated as a leaf), other arrays of
 * objects by `[i]`, arrays of plain values kept whole as their compact JSON (`"[32,32,3]"`).
 */
export function flattenSpec(value: unknown, prefix = ''): Record<string, SpecValue> {
  const out: Record<string, SpecValue> = {};
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) {
      if (v.every((x) => x === null || typeof x !== 'object')) out[path] = JSON.stringify(v);
      else if (isNodeList(v)) {
        for (const { name, ...rest } of v) walk(rest, `${path}.${name}`);
      } else v.forEach((x, i) => walk(x, `${path}[${i}]`));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, path ? `${path}.${k}` : k);
    } else if (v !== undefined) out[path] = v as SpecValue;
  };
  walk(value, prefix);
  return out;
}

/**
 * A run spec flattened (`flattenSpec`) plus the sweep's model knobs as fields:
 * `model.batchNormalization` (any batchNormalization node) and `model.dropoutRate` (the
 * dropout rate, 0 without dropout; several distinct rates as their JSON list). A spec
 * without a readable model gets no knob fields.
 */
export function flattenRunSpec(spec: unknown): Record<string, SpecValue> {
  const out = flattenSpec(spec);
  const model = spec !== null && typeof spec === 'object' ? (spec as { model?: unknown }).model : undefined;
  if (model === null || typeof model !== 'object') return out;
  try {
    const knobs = modelKnobValues(model as ModelSpec);
    for (const k of MODEL_KNOBS) {
      const v = knobs[k];
      out[k] = Array.isArray(v) ? JSON.stringify(v) : v;
    }
  } catch {
    // Not a graph toGraph reads: compare it by its plain paths only.
  }
  return out;
}

export interface ConfigRow {
  path: string;
  /** One per run, in the order given; undefined where that run's spec has no such path. */
  values: (SpecValue | undefined)[];
  /** Not every run has the same value here. */
  differs: boolean;
}

/**
 * The config table of several run specs (`flattenRunSpec`: by node name, with the model
 * knobs), one row per path of any of them (sorted by path). `differencesOnly`: only the rows
 * where the runs disagree (a path one run lacks, e.g. a node only one has, counts as a
 * difference). With one spec nothing differs.
 */
export function configTable(specs: readonly unknown[], opts: { differencesOnly?: boolean } = {}): ConfigRow[] {
  const flat = specs.map((s) => flattenRunSpec(s));
  const paths = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort(comparePaths);
  const rows = paths.map((path) => {
    const values = flat.map((f) => (Object.prototype.hasOwnProperty.call(f, path) ? f[path] : undefined));
    return { path, values, differs: values.some((v) => v !== values[0]) };
  });
  return opts.differencesOnly ? rows.filter((r) => r.differs) : rows;
}

/** Order paths as a reader expects: `nodes[2]` before `nodes[10]`. */
function comparePaths(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The words for a field's null where null has a meaning ("null" says nothing), by spec path. */
const NULL_WORDS: Readonly<Record<string, string>> = {
  'pretrained.freezeUpTo': 'none (train all)',
};

/** A leaf as one table cell writes it: '—' for a missing path; a null in words where `path` gives it a meaning (freezeUpTo null: "none (train all)"). */
export function formatSpecValue(v: SpecValue | undefined, path?: string): string {
  if (v === undefined) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (v === null) return (path !== undefined && NULL_WORDS[path]) || 'null';
  return String(v);
}

/**
 * TensorBoard's smoothing (its scalar dashboard's debiased EMA): s_t = w·s_{t−1} + (1 − w)·x_t
 * with s_0 = 0, reported as s_t / (1 − w^n), n the finite values seen so far, so the first
 * point is x_1 itself, not pulled towards 0. Non-finite values pass through unchanged and do
 * not enter the average. `weight` in [0, 1): 0 gives the values back.
 * @throws RangeError for a weight outside [0, 1).
 */
export function smoothEma(values: readonly number[], weight: number): number[] {
  if (!(weight >= 0 && weight < 1)) throw new RangeError(`weight: ${weight} is not in [0, 1)`);
  let last = 0;
  let n = 0;
  return values.map((x) => {
    if (!Number.isFinite(x)) return x;
    last = last * weight + (1 - weight) * x;
    n++;
    return weight === 0 ? x : last / (1 - weight ** n);
  });
}

/** What a curve's x is: the global step, the epoch (1-based; a step metric at its fraction of the epoch), or seconds since the run started. */
export type XAxisKind = 'step' | 'epoch' | 'time';

export interface Series {
  x: number[];
  y: number[];
}

/** One metric of one run in columns, in the order written (as `runs.compare` sends it). */
export interface SeriesColumns {
  step: readonly (number | null)[];
  epoch: readonly (number | null)[];
  value: readonly number[];
  time: readonly number[];
}

/** A run's metrics by name. */
export type RunColumns = Partial<Record<MetricName, SeriesColumns>>;

/** Metric samples (as `runs.metrics` gives them) in columns by name. */
export function toColumns(metrics: readonly Metric[]): RunColumns {
  const out: Partial<Record<MetricName, { step: (number | null)[]; epoch: (number | null)[]; value: number[]; time: number[] }>> = {};
  for (const m of metrics) {
    const c = (out[m.name] ??= { step: [], epoch: [], value: [], time: [] });
    c.step.push(m.step);
    c.epoch.push(m.epoch);
    c.value.push(m.value);
    c.time.push(m.time);
  }
  return out;
}

/**
 * One metric of one run as an (x, y) series sorted by x (non-finite values left out). Step
 * metrics (`step` set) at their step; epoch metrics at the step that ended their epoch (the
 * last `stepsFrom` sample of that epoch, + 1; the epoch number without one). For 'epoch',
 * epoch metrics sit at epoch + 1 and step metrics at epoch + (index in the epoch + 1) / (steps
 * in the epoch). For 'time', seconds since `startedAt` (the run's start, seconds; else its
 * first sample). `stepsFrom`: the step metric that tells the steps of each epoch (default `loss`).
 */
export function metricSeries(run: RunColumns, name: MetricName, x: XAxisKind, startedAt: number | null = null, stepsFrom: MetricName = 'loss'): Series {
  const c = run[name];
  if (!c) return { x: [], y: [] };
  const ref = run[stepsFrom] ?? c;
  const stepLast = new Map<number, number>();
  const stepFirst = new Map<number, number>();
  for (let i = 0; i < ref.step.length; i++) {
    const s = ref.step[i];
    const e = ref.epoch[i];
    if (s === null || e === null) continue;
    const last = stepLast.get(e);
    if (last === undefined || s > last) stepLast.set(e, s);
    const first = stepFirst.get(e);
    if (first === undefined || s < first) stepFirst.set(e, s);
  }
  let t0 = startedAt ?? Infinity;
  if (startedAt === null) for (const t of c.time) if (t < t0) t0 = t;
  const xs: number[] = [];
  const ys: number[] = [];
  let sorted = true;
  for (let i = 0; i < c.value.length; i++) {
    const v = c.value[i];
    if (!Number.isFinite(v)) continue;
    const step = c.step[i];
    const e = c.epoch[i] ?? 0;
    let xv: number;
    if (x === 'time') xv = c.time[i] - t0;
    else if (step === null) {
      const last = stepLast.get(e);
      xv = x === 'epoch' || last === undefined ? e + 1 : last + 1;
    } else if (x === 'step') xv = step;
    else {
      const first = stepFirst.get(e) ?? step;
      xv = e + (step - first + 1) / ((stepLast.get(e) ?? step) - first + 1);
    }
    if (xs.length && xv < xs[xs.length - 1]) sorted = false;
    xs.push(xv);
    ys.push(v);
  }
  if (sorted) return { x: xs, y: ys };
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  return { x: order.map((i) => xs[i]), y: order.map((i) => ys[i]) };
}

export interface GroupBand {
  /** The group's value of the field, as `formatSpecValue` writes it. */
  key: string;
  /** Indexes of the runs in the group (into the runs given). */
  members: number[];
  /** x values present in every member's series, ascending. */
  x: number[];
  /** Mean and sample standard deviation (n − 1; 0 for a group of one) of the members' y at each x. */
  mean: number[];
  sd: number[];
}

/**
 * Group runs by the value at `path` in their specs (`flattenRunSpec`'s paths, so also a model knob) and, for each group, the mean ± sd of
 * their series at every x all members share (seeds of one config share their steps).
 * Groups in order of first appearance. Uses simple-statistics' mean and sampleStandardDeviation.
 */
export function groupBands(specs: readonly unknown[], series: readonly Series[], path: string): GroupBand[] {
  const groups = new Map<string, number[]>();
  specs.forEach((s, i) => {
    const key = formatSpecValue(flattenRunSpec(s)[path], path);
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  return [...groups].map(([key, members]) => {
    const maps = members.map((i) => {
      const m = new Map<number, number>();
      series[i].x.forEach((x, j) => m.set(x, series[i].y[j]));
      return m;
    });
    const xs = [...maps[0].keys()].filter((x) => maps.every((m) => m.has(x))).sort((a, b) => a - b);
    const band: GroupBand = { key, members, x: xs, mean: [], sd: [] };
    for (const x of xs) {
      const ys = maps.map((m) => m.get(x)!);
      band.mean.push(mean(ys));
      band.sd.push(ys.length > 1 ? sampleStandardDeviation(ys) : 0);
    }
    return band;
  });
}

/** Indexes of the smallest and largest finite values (first of ties), or null when there are none. */
export function extremes(values: readonly (number | null | undefined)[]): { min: number; max: number } | null {
  let min = -1;
  let max = -1;
  values.forEach((v, i) => {
    if (v === null || v === undefined || !Number.isFinite(v)) return;
    if (min < 0 || v < (values[min] as number)) min = i;
    if (max < 0 || v > (values[max] as number)) max = i;
  });
  return min < 0 ? null : { min, max };
}

/** Whether a spec path holds a learning rate (drawn on a log axis). */
export function isLogPath(path: string): boolean {
  return /learningRate$/.test(path);
}

/** The summary figures of a compared run, as `runs.compare` gives it. */
export interface SummarySource {
  bestValAccuracy: number | null;
  testAccuracy: number | null;
  epochsDone: number;
  durationSeconds: number | null;
  samplesPerSec: number | null;
  /** val_robust_accuracy (issue 10): accuracy under PGD at the run's robust ε. */
  valRobustAccuracy?: number | null;
}

/** The summary columns of Compare and `layerwise compare`, in order: key, header, and how a value is written. */
export const SUMMARY_COLUMNS = [
  { key: 'bestValAccuracy', label: 'best val acc', unit: 'fraction' },
  { key: 'testAccuracy', label: 'test acc', unit: 'fraction' },
  { key: 'valRobustAccuracy', label: 'robust val acc', unit: 'fraction' },
  { key: 'epochsDone', label: 'epochs', unit: 'count' },
  { key: 'durationSeconds', label: 'time', unit: 'seconds' },
  { key: 'samplesPerSec', label: 'samples/s', unit: 'rate' },
] as const satisfies readonly { key: keyof SummarySource; label: string; unit: string }[];

/** Per summary column, the indexes of the runs with its smallest and largest value (null: no values). */
export function summaryExtremes(runs: readonly SummarySource[]): Record<keyof SummarySource, { min: number; max: number } | null> {
  const out = {} as Record<keyof SummarySource, { min: number; max: number } | null>;
  for (const c of SUMMARY_COLUMNS) out[c.key] = extremes(runs.map((r) => r[c.key]));
  return out;
}
