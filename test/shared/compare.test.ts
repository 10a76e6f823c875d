/**
 * Compare's pure logic against hand computations: the differences-only config table of two
 * real RunSpecs that differ in one field, TensorBoard's debiased EMA, metric series against
 * step / epoch / time, grouped mean ± sample sd, and the summary min / max.
 */
import { describe, expect, it } from 'vitest';
import type { Metric } from '../../src/shared/api';
import { configTable, extremes, flattenRunSpec, flattenSpec, formatSpecValue, groupBands, metricSeries as seriesOfColumns, smoothEma, summaryExtremes, toColumns } from '../../src/shared/compare';
import { buildPreset, parseRunSpec } from '../../src/shared/spec';
import { expandSweep, regularizationAblation } from '../../src/shared/sweep';

const spec = (lr: number, seed = 1) =>
  parseRunSpec({
    datasetId: 1,
    model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }),
    training: { optimizer: { type: 'adam', learningRate: lr }, epochs: 3 },
    seed,
  });

describe('config table', () => {
  it('two runs that differ in one field: "differences only" shows exactly that field', () => {
    const rows = configTable([spec(0.001), spec(0.01)], { differencesOnly: true });
    expect(rows.map((r) => r.path)).toEqual(['training.optimizer.learningRate']);
    expect(rows[0].values).toEqual([0.001, 0.01]);
    // All rows: every leaf of the spec, the same one marked as differing.
    const all = configTable([spec(0.001), spec(0.01)]);
    expect(all.length).toBe(Object.keys(flattenRunSpec(spec(0.001))).length);
    expect(all.filter((r) => r.differs).map((r) => r.path)).toEqual(['training.optimizer.learningRate']);
    expect(all.map((r) => r.path)).toContain('model.inputShape');
  });

  it('paths read like the sweep paths; a path one run lacks differs', () => {
    const f = flattenSpec({ a: { b: [1, 2] }, nodes: [{ layer: { rate: 0.5 } }, { layer: {} }] });
    expect(f).toEqual({ 'a.b': '[1,2]', 'nodes[0].layer.rate': 0.5 });
    // Named graph nodes are addressed by name, not by their place in the list.
    expect(flattenSpec({ nodes: [{ name: 'd', layer: { type: 'dropout', rate: 0.5 }, inputs: ['x'] }] })).toEqual({ 'nodes.d.layer.type': 'dropout', 'nodes.d.layer.rate': 0.5, 'nodes.d.inputs': '["x"]' });
    const rows = configTable([{ x: 1, y: 2 }, { x: 1 }], { differencesOnly: true });
    expect(rows).toEqual([{ path: 'y', values: [2, undefined], differs: true }]);
    expect(configTable([spec(0.001)], { differencesOnly: true })).toEqual([]);
  });
});

describe('a cell of the config table', () => {
  it('writes a null that means something in words (freezeUpTo null: every layer trains), other nulls as null', () => {
    expect(formatSpecValue(null, 'pretrained.freezeUpTo')).toBe('none (train all)');
    expect(formatSpecValue('MobilenetV1/Conv2d_12_pointwise', 'pretrained.freezeUpTo')).toBe('MobilenetV1/Conv2d_12_pointwise');
    expect(formatSpecValue(null, 'training.lrSchedule.type')).toBe('null');
    expect(formatSpecValue(null)).toBe('null');
    expect(formatSpecValue(undefined, 'pretrained.freezeUpTo')).toBe('—');
  });
});

describe('config table of an ablation sweep (trial item 2)', () => {
  // The runs of a real dropout × batch-normalization ablation of LeNet-5, as the sweep expands them.
  const base = { datasetId: 1, model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }), training: { optimizer: { type: 'adam' as const, learningRate: 0.001 }, epochs: 2 }, seed: 1 };
  const plan = expandSweep(regularizationAblation(base, { dropout: 0.5, batchNormalization: true }, 1));
  const specOf = (dropout: number, bn: boolean) => {
    const v = plan.variants.find((x) => x.values['model.dropoutRate'] === dropout && x.values['model.batchNormalization'] === bn)!;
    return plan.runs.find((r) => r.variant === v.index)!.spec;
  };

  it('dropout on vs off differs in the knob and the inserted nodes only, not in shifted indices', () => {
    const rows = configTable([specOf(0, false), specOf(0.5, false)], { differencesOnly: true });
    const paths = rows.map((r) => r.path);
    expect(paths.some((p) => /\[\d+\]/.test(p))).toBe(false);
    expect(rows.find((r) => r.path === 'model.dropoutRate')!.values).toEqual([0, 0.5]);
    // Every other difference is an added dropout node (absent in the first run) or a dense node now reading it.
    const nodeNames = new Set(paths.filter((p) => p.startsWith('model.nodes.')).map((p) => p.split('.')[2]));
    for (const n of nodeNames) {
      const type = rows.find((r) => r.path === `model.nodes.${n}.layer.type`);
      if (type) expect(type.values).toEqual([undefined, 'dropout']);
      else expect(paths).toEqual(expect.arrayContaining([`model.nodes.${n}.inputs`]));
    }
    // LeNet-5 has 3 dense layers, so 3 inserted dropout nodes: 3 × (type, rate, inputs) + 3 readers' inputs + the knob.
    expect(rows.filter((r) => r.values[0] === undefined).length).toBe(9);
    expect(rows.length).toBe(13);
  });

  it('the knobs are fields: batch normalization on / off and the dropout rate, usable to group by', () => {
    const specs = [specOf(0, false), specOf(0, true), specOf(0.5, false), specOf(0.5, true)];
    const rows = configTable(specs, { differencesOnly: true });
    expect(rows.find((r) => r.path === 'model.batchNormalization')!.values).toEqual([false, true, false, true]);
    expect(rows.find((r) => r.path === 'model.dropoutRate')!.values).toEqual([0, 0, 0.5, 0.5]);
    const series = specs.map(() => ({ x: [1], y: [0.5] }));
    expect(groupBands(specs, series, 'model.batchNormalization').map((b) => [b.key, b.members])).toEqual([
      ['false', [0, 2]],
      ['true', [1, 3]],
    ]);
  });
});

describe('TensorBoard smoothing', () => {
  it('equals the hand-computed debiased EMA', () => {
    // w = 0.6: s1 = 0.4·1 = 0.4 → 0.4 / (1 − 0.6) = 1
    // s2 = 0.6·0.4 + 0.4·3 = 1.44 → 1.44 / (1 − 0.36) = 2.25
    // s3 = 0.6·1.44 + 0.4·2 = 1.664 → 1.664 / (1 − 0.216) = 2.12244898…
    const s = smoothEma([1, 3, 2], 0.6);
    expect(s[0]).toBeCloseTo(1, 12);
    expect(s[1]).toBeCloseTo(2.25, 12);
    expect(s[2]).toBeCloseTo(1.664 / 0.784, 12);
    expect(smoothEma([1, 3, 2], 0)).toEqual([1, 3, 2]);
    // A NaN passes through and does not count: the next value is debiased with n = 2.
    const n = smoothEma([1, NaN, 3], 0.6);
    expect(n[1]).toBeNaN();
    expect(n[2]).toBeCloseTo(2.25, 12);
    expect(() => smoothEma([1], 1)).toThrow(RangeError);
  });
});

describe('metric series', () => {
  const metricSeries = (m: Metric[], ...rest: Parameters<typeof seriesOfColumns> extends [unknown, ...infer R] ? R : never) => seriesOfColumns(toColumns(m), ...rest);
  // Two epochs of 3 steps each, times in seconds from 100.
  const ms: Metric[] = [];
  for (let s = 0; s < 6; s++) ms.push({ name: 'loss', epoch: Math.floor(s / 3), step: s, value: 10 - s, time: 100 + s });
  ms.push({ name: 'val_accuracy', epoch: 0, step: null, value: 0.5, time: 103 });
  ms.push({ name: 'val_accuracy', epoch: 1, step: null, value: 0.7, time: 106 });

  it('puts step and epoch metrics on the same step, epoch and time axes', () => {
    expect(metricSeries(ms, 'val_accuracy', 'step')).toEqual({ x: [3, 6], y: [0.5, 0.7] });
    expect(metricSeries(ms, 'val_accuracy', 'epoch')).toEqual({ x: [1, 2], y: [0.5, 0.7] });
    expect(metricSeries(ms, 'val_accuracy', 'time', 100)).toEqual({ x: [3, 6], y: [0.5, 0.7] });
    const e = metricSeries(ms, 'loss', 'epoch');
    expect(e.x.map((x) => Number(x.toFixed(6)))).toEqual([0.333333, 0.666667, 1, 1.333333, 1.666667, 2]);
    expect(metricSeries(ms, 'loss', 'step').x).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('group by a spec field', () => {
  it('mean ± sample sd over seeds equal a hand computation', () => {
    const specs = [spec(0.001, 1), spec(0.001, 2), spec(0.001, 3), spec(0.01, 1)];
    const series = [
      { x: [1, 2], y: [0.5, 0.6] },
      { x: [1, 2], y: [0.7, 0.9] },
      { x: [1, 2, 3], y: [0.6, 0.9, 0.95] },
      { x: [1, 2], y: [0.2, 0.4] },
    ];
    const [a, b] = groupBands(specs, series, 'training.optimizer.learningRate');
    expect(a.key).toBe('0.001');
    expect(a.members).toEqual([0, 1, 2]);
    expect(a.x).toEqual([1, 2]); // epoch 3 only one seed has
    // epoch 1: (0.5 + 0.7 + 0.6) / 3 = 0.6; sd = sqrt(((−0.1)² + 0.1² + 0²) / 2) = 0.1
    // epoch 2: (0.6 + 0.9 + 0.9) / 3 = 0.8; sd = sqrt((0.04 + 0.01 + 0.01) / 2) = sqrt(0.03)
    expect(a.mean[0]).toBeCloseTo(0.6, 12);
    expect(a.sd[0]).toBeCloseTo(0.1, 12);
    expect(a.mean[1]).toBeCloseTo(0.8, 12);
    expect(a.sd[1]).toBeCloseTo(Math.sqrt(0.03), 12);
    expect(b).toMatchObject({ key: '0.01', members: [3], x: [1, 2], mean: [0.2, 0.4], sd: [0, 0] });
  });
});

describe('summary min / max', () => {
  it('marks the smallest and largest of each column, skipping missing values', () => {
    expect(extremes([0.5, null, 0.9, 0.1])).toEqual({ min: 3, max: 2 });
    expect(extremes([null, undefined])).toBeNull();
    const runs = [
      { bestValAccuracy: 0.8, testAccuracy: null, epochsDone: 3, durationSeconds: 12, samplesPerSec: 900 },
      { bestValAccuracy: 0.9, testAccuracy: 0.85, epochsDone: 3, durationSeconds: 30, samplesPerSec: 400 },
    ];
    const e = summaryExtremes(runs);
    expect(e.bestValAccuracy).toEqual({ min: 0, max: 1 });
    expect(e.testAccuracy).toEqual({ min: 1, max: 1 });
    expect(e.samplesPerSec).toEqual({ min: 1, max: 0 });
  });
});
