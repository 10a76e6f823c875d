/**
 * Sweeps (src/shared/sweep.ts, sweep-model.ts, sweep-table.ts): expansion of grids, seeded
 * random draws and seeds into RunSpecs; the model knobs against the presets built with and
 * without dropout / batch normalization; the ablation table against a hand computation.
 */
import { describe, expect, it } from 'vitest';
import { buildPreset, describeModel, modelTotals, type RunSpecInput } from '../../src/shared/spec';
import { drawFromRange, expandSweep, parseValueList, regularizationAblation, SweepSpecSchema, sweepVariants, withBatchNormalization, withDropout } from '../../src/shared/sweep';
import { ablationTable, delta, deltaSign, formatDelta, formatMeanSd, meanSd, sweepProgressText, type SweepRunResult } from '../../src/shared/sweep-table';

const base: RunSpecInput = {
  datasetId: 1,
  model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }),
  training: { optimizer: { type: 'adam', learningRate: 0.001 }, batchSize: 32, epochs: 1 },
  seed: 7,
};

describe('expandSweep', () => {
  it('a 2×2 grid × 2 seeds gives 8 runs: every pair of values, each with seeds 7 and 8, the rest of the spec unchanged', () => {
    const { variants, runs } = expandSweep({
      base,
      grid: [
        { path: 'training.optimizer.learningRate', values: [0.01, 0.001] },
        { path: 'training.batchSize', values: [16, 64] },
      ],
      seeds: 2,
    });
    expect(variants.map((v) => v.label)).toEqual([
      'training.optimizer.learningRate=0.01, training.batchSize=16',
      'training.optimizer.learningRate=0.01, training.batchSize=64',
      'training.optimizer.learningRate=0.001, training.batchSize=16',
      'training.optimizer.learningRate=0.001, training.batchSize=64',
    ]);
    expect(runs).toHaveLength(8);
    const got = runs.map((r) => [r.variant, r.spec.training.optimizer.learningRate, r.spec.training.batchSize, r.spec.seed, r.seed]);
    expect(got).toEqual([
      [0, 0.01, 16, 7, 7],
      [0, 0.01, 16, 8, 8],
      [1, 0.01, 64, 7, 7],
      [1, 0.01, 64, 8, 8],
      [2, 0.001, 16, 7, 7],
      [2, 0.001, 16, 8, 8],
      [3, 0.001, 64, 7, 7],
      [3, 0.001, 64, 8, 8],
    ]);
    for (const r of runs) {
      expect(r.spec.model).toEqual(runs[0].spec.model);
      expect(r.spec.training.epochs).toBe(1);
      expect(r.spec.training.optimizer.type).toBe('adam');
    }
  });

  it('names the variant and the field of an invalid value, and the sweep field of a bad path', () => {
    expect(() => expandSweep({ base, grid: [{ path: 'training.batchSize', values: [16, 0] }] })).toThrow(/variant 1 \(training.batchSize=0\): training.batchSize: /);
    expect(() => expandSweep({ base, grid: [{ path: 'training.nothing.here', values: [1] }] })).toThrow(/training.nothing.here: the spec has no training.nothing/);
    expect(() => expandSweep({ base, grid: [{ path: 'seed', values: [1, 2] }] })).toThrow(/seed is varied by `seeds`/);
    try {
      expandSweep({ base, grid: [{ path: 'training.batchSize', values: [] }] });
      expect.unreachable();
    } catch (e) {
      expect((e as { field: string }).field).toBe('sweep.grid[0].values');
    }
  });

  it('refuses more than 1,000 runs before building any spec', () => {
    const values = Array.from({ length: 40 }, (_, i) => i + 1);
    expect(() => expandSweep({ base, grid: [{ path: 'training.batchSize', values }, { path: 'training.epochs', values }] })).toThrow(/1600 runs is more than 1000/);
  });
});

describe('seeded random draws', () => {
  const sweep = (seed: number, samples = 200) =>
    SweepSpecSchema.parse({
      base,
      random: { samples, seed, ranges: [{ path: 'training.optimizer.learningRate', low: 1e-5, high: 1e-1, log: true }, { path: 'training.batchSize', low: 8, high: 128, integer: true }] },
    });

  it('the same seed gives the same draws, another seed other draws', () => {
    expect(sweepVariants(sweep(3))).toEqual(sweepVariants(sweep(3)));
    expect(sweepVariants(sweep(4)).map((v) => v.values)).not.toEqual(sweepVariants(sweep(3)).map((v) => v.values));
  });

  it('log-uniform draws stay inside the range and their logarithms are uniform (each decade ≈ a quarter of 1,000 draws)', () => {
    const vs = sweepVariants(sweep(11, 1000));
    const lrs = vs.map((v) => v.values['training.optimizer.learningRate'] as number);
    const bs = vs.map((v) => v.values['training.batchSize'] as number);
    for (const x of lrs) expect(x >= 1e-5 && x <= 1e-1).toBe(true);
    for (const b of bs) expect(Number.isInteger(b) && b >= 8 && b <= 128).toBe(true);
    // 4 decades: a uniform draw of log10 puts 250 ± 3σ (σ = √(1000·¼·¾) ≈ 13.7) in each.
    const decades = [0, 0, 0, 0];
    for (const x of lrs) decades[Math.min(3, Math.floor(Math.log10(x) + 5))]++;
    for (const n of decades) expect(Math.abs(n - 250)).toBeLessThan(45);
    // A linear draw over the same range would put ~90 % in the last decade.
    expect(drawFromRange({ path: 'x', low: 1e-5, high: 1e-1, log: true, integer: false }, 0.5)).toBeCloseTo(1e-3, 12);
    expect(drawFromRange({ path: 'x', low: 1e-5, high: 1e-1, log: false, integer: false }, 0.5)).toBeCloseTo(0.050005, 12);
  });

  it('the draws are the spec values of the runs', () => {
    const { variants, runs } = expandSweep({ base, random: { samples: 5, ranges: [{ path: 'training.optimizer.learningRate', low: 1e-4, high: 1e-2, log: true }] }, seeds: 2 });
    expect(runs).toHaveLength(10);
    for (const r of runs) expect(r.spec.training.optimizer.learningRate).toBe(variants[r.variant].values['training.optimizer.learningRate']);
  });
});

describe('model knobs', () => {
  const opts = { inputShape: [28, 28, 1] as [number, number, 1], numClasses: 10 };
  const types = (m: ReturnType<typeof buildPreset>) => describeModel(m).map((n) => n.layer.type);

  it('dropout off turns LeNet-5 with dropout into LeNet-5 without; on puts it where the preset does', () => {
    expect(withDropout(buildPreset('lenet5', { ...opts, dropoutRate: 0.3 }), 0)).toEqual(buildPreset('lenet5', opts));
    const on = withDropout(buildPreset('lenet5', opts), 0.3);
    expect(types(on)).toEqual(types(buildPreset('lenet5', { ...opts, dropoutRate: 0.3 })));
    expect(on.nodes!.filter((n) => n.layer.type === 'dropout').map((n) => n.layer)).toEqual([{ type: 'dropout', rate: 0.3 }, { type: 'dropout', rate: 0.3 }, { type: 'dropout', rate: 0.3 }]);
    // A model with dropout nodes keeps them, at the new rate.
    expect(withDropout(buildPreset('lenet5', { ...opts, dropoutRate: 0.3 }), 0.5).nodes!.filter((n) => n.layer.type === 'dropout')).toHaveLength(3);
  });

  it('batch normalization off turns LeNet-5 with BN into LeNet-5 without; on gives the preset’s layers and parameter count', () => {
    expect(withBatchNormalization(buildPreset('lenet5', { ...opts, batchNormalization: true }), false)).toEqual(buildPreset('lenet5', opts));
    const on = withBatchNormalization(buildPreset('lenet5', opts), true);
    const preset = buildPreset('lenet5', { ...opts, batchNormalization: true });
    expect(types(on)).toEqual(types(preset));
    expect(modelTotals(describeModel(on))).toEqual(modelTotals(describeModel(preset)));
    // Twice on is once on.
    expect(withBatchNormalization(on, true)).toEqual(on);
  });

  it('the knobs work on a layer list and on ResNet-20 (BN off: its convs get their biases back)', () => {
    const list = { preset: 'custom' as const, inputShape: [8, 8, 1] as [number, number, 1], numClasses: 2, layers: [{ type: 'dense' as const, units: 4, activation: 'relu' as const, useBias: true, kernelInitializer: 'glorotUniform' as const }, { type: 'dense' as const, units: 2, activation: 'linear' as const, useBias: true, kernelInitializer: 'glorotUniform' as const }] };
    expect(types(withDropout(list, 0.2))).toEqual(['flatten', 'dropout', 'dense', 'dropout', 'dense']);
    expect(types(withBatchNormalization(list, true))).toEqual(['flatten', 'dense', 'batchNormalization', 'activation', 'dense']);
    const resnet = buildPreset('resnet20', { inputShape: [32, 32, 3], numClasses: 10 });
    const plain = withBatchNormalization(resnet, false);
    expect(types(plain)).not.toContain('batchNormalization');
    expect(plain.nodes!.filter((n) => n.layer.type === 'conv2d').every((n) => n.layer.type === 'conv2d' && n.layer.useBias)).toBe(true);
    expect(() => describeModel(plain)).not.toThrow();
  });
});

describe('regularization ablation', () => {
  it('is dropout × BN × {none, L1, L2} × augmentation = 24 variants × 2 seeds, the baseline with everything off, no flip', () => {
    const { variants, runs } = expandSweep(regularizationAblation(base));
    expect(variants).toHaveLength(24);
    expect(runs).toHaveLength(48);
    expect(variants[0].label).toBe('model.dropoutRate=off, model.batchNormalization=off, training.regularization=none, training.augmentation=off');
    const b = runs[0].spec;
    expect(b.training.regularization).toEqual({ l1: 0, l2: 0 });
    expect(b.training.augmentation).toEqual({ horizontalFlip: false, randomTranslation: 0, gaussianNoise: 0 });
    expect(b.model).toEqual(base.model);
    const last = runs[runs.length - 1].spec;
    expect(last.training.regularization).toEqual({ l1: 0, l2: 5e-4 });
    // A flip assumes mirror-symmetric classes (wrong for digits): the default augmentation is translation only.
    expect(last.training.augmentation).toEqual({ horizontalFlip: false, randomTranslation: 0.1, gaussianNoise: 0 });
    expect(describeModel(last.model).filter((n) => n.layer.type === 'batchNormalization')).toHaveLength(4);
    expect(describeModel(last.model).filter((n) => n.layer.type === 'dropout')).toHaveLength(3);
  });
});

describe('parseValueList', () => {
  it('reads numbers, booleans and JSON objects, keeps bare words as strings, and does not split inside braces or quotes', () => {
    expect(parseValueList('0.01, 1e-3,true')).toEqual([0.01, 0.001, true]);
    expect(parseValueList('sgd,adam')).toEqual(['sgd', 'adam']);
    expect(parseValueList('{"l1":0,"l2":0.0001}, {"l1":1e-5,"l2":0}')).toEqual([{ l1: 0, l2: 1e-4 }, { l1: 1e-5, l2: 0 }]);
    expect(parseValueList('"a,b", [1,2]')).toEqual(['a,b', [1, 2]]);
    expect(parseValueList('4, ,8,')).toEqual([4, 8]);
  });
});

describe('ablationTable', () => {
  it('means, sample sd, Δ with Welch’s standard error and the best by val, by hand', () => {
    const variants = [
      { index: 0, label: 'base', values: {} },
      { index: 1, label: 'dropout', values: {} },
      { index: 2, label: 'bn', values: {} },
    ];
    const r = (runId: number, variant: number, val: number | null, test: number | null, status: SweepRunResult['status'] = 'completed'): SweepRunResult => ({ runId, variant, seed: runId, status, bestValAccuracy: val, testAccuracy: test });
    const rows = ablationTable(variants, [r(1, 0, 0.6, 0.5), r(2, 0, 0.8, 0.7), r(3, 1, 0.7, 0.6), r(4, 1, 0.9, 0.9), r(5, 2, 0.95, 0.2, 'failed'), r(6, 2, null, null, 'running')]);
    // base: val mean 0.7, sd √((0.01+0.01)/1) = 0.141421; dropout: val 0.8, sd 0.141421.
    expect(rows[0]).toMatchObject({ runs: 2, completed: 2, baseline: true, best: false, deltaVal: null });
    expect(rows[0].val!.mean).toBeCloseTo(0.7, 12);
    expect(rows[0].val!.sd).toBeCloseTo(Math.SQRT2 / 10, 12);
    expect(rows[1].val!.mean).toBeCloseTo(0.8, 12);
    expect(rows[1].test!.mean).toBeCloseTo(0.75, 12);
    expect(rows[1].test!.sd).toBeCloseTo(Math.sqrt(0.045), 12);
    expect(rows[1].deltaVal!.mean).toBeCloseTo(0.1, 12);
    expect(rows[1].deltaVal!.spread).toBeCloseTo(Math.sqrt(0.02 / 2 + 0.02 / 2), 12);
    expect(rows[1].deltaTest!.mean).toBeCloseTo(0.15, 12);
    expect(rows[1].best).toBe(true);
    // Failed and running runs count as runs, not in the means.
    expect(rows[2]).toMatchObject({ runs: 2, completed: 0, val: null, test: null, deltaVal: null, best: false });
  });
});

describe('ablation cells with one seed (trial item 4)', () => {
  it('writes a single run as its value and "n = 1", with no ± and no spread on Δ', () => {
    const variants = [
      { index: 0, label: 'base', values: {} },
      { index: 1, label: 'bn', values: {} },
    ];
    const rows = ablationTable(variants, [
      { runId: 1, variant: 0, seed: 1, status: 'completed', bestValAccuracy: 0.9, testAccuracy: 0.88 },
      { runId: 2, variant: 1, seed: 1, status: 'completed', bestValAccuracy: 0.95, testAccuracy: 0.9 },
    ]);
    expect(formatMeanSd(rows[0].val)).toBe('90.0 (n = 1)');
    expect(formatDelta(rows[1].deltaVal)).toBe('+5.0 (n = 1)');
    expect(deltaSign(rows[1].deltaVal)).toBe('');
    // With two seeds a side the ± is back: sd of 0.8, 0.9 = 0.0707 → "85.0 ± 7.1".
    expect(formatMeanSd(meanSd([0.8, 0.9]))).toBe('85.0 ± 7.1');
    expect(formatDelta(delta(meanSd([0.9, 1.0]), meanSd([0.8, 0.9])))).toBe('+10.0 ± 7.1');
  });
});

describe('sweep progress in words (trial item 7)', () => {
  it('counts completed, cancelled, failed and deleted runs apart, against the planned size', () => {
    const counts = { queued: 0, running: 0, completed: 1, failed: 0, cancelled: 5, interrupted: 0 };
    // A cancelled sweep: 1 of 6 completed, not "6 / 6 finished".
    expect(sweepProgressText({ runs: 6, deleted: 0, counts })).toBe('1 completed, 5 cancelled of 6 runs');
    expect(sweepProgressText({ runs: 6, deleted: 2, counts: { ...counts, cancelled: 2, running: 1 } })).toBe('1 completed, 1 running, 2 cancelled, 2 deleted of 6 runs');
    expect(sweepProgressText({ runs: 1, deleted: 0, counts: { ...counts, completed: 0, cancelled: 0, failed: 1 } })).toBe('0 completed, 1 failed of 1 run');
    expect(sweepProgressText({ runs: 2, deleted: 0, counts: { ...counts, cancelled: 0, interrupted: 1 } })).toBe('1 completed, 1 interrupted of 2 runs');
  });
});
