/**
 * The learning-rate range test (Smith 2017 §3.3): in-process on the synthetic pack (cpu
 * backend) — the rate per step is min·(max/min)^(i/(n−1)), the smoothed loss is the debiased
 * EMA of the recorded losses (hand computation), the loss falls at small rates and diverges
 * at large ones, and the suggestion lies where it falls fastest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/engine/backend';
import { lrRangeTest } from '../../src/engine/lr-range';
import { LrRangeParamsSchema, suggestLearningRate } from '../../src/shared/lr-range';
import { buildPreset, parseRunSpec } from '../../src/shared/spec';
import { writeSyntheticPack } from './helpers/pack';

let dir = '';
let pack = '';
beforeAll(async () => {
  await initBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'lw-lr-range-'));
  pack = writeSyntheticPack(join(dir, 'pack'), { count: 200 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = parseRunSpec({
  datasetId: 1,
  seed: 5,
  backend: 'cpu',
  model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }),
  training: { optimizer: { type: 'sgd', learningRate: 0.01 }, batchSize: 16 },
});

describe('lrRangeTest', () => {
  it('grows the rate exponentially, smooths by the debiased EMA, falls then diverges, suggests the steepest descent', { timeout: 120_000 }, async () => {
    const params = LrRangeParamsSchema.parse({ minLearningRate: 1e-4, maxLearningRate: 100, steps: 80 });
    const progress: number[] = [];
    const r = (await lrRangeTest(spec, pack, params, (d) => progress.push(d)))!;
    const pts = r.points;
    expect(progress[0]).toBe(1);
    pts.forEach((p, i) => expect(p.learningRate).toBeCloseTo(1e-4 * Math.pow(1e6, i / 79), 12));
    // Hand: m_i = β m_{i−1} + (1 − β) loss_i, smoothed_i = m_i / (1 − β^{i+1}).
    let m = 0;
    pts.forEach((p, i) => {
      m = 0.9 * m + 0.1 * p.loss;
      expect(p.smoothed).toBeCloseTo(m / (1 - 0.9 ** (i + 1)), 10);
    });
    const lo = pts.findIndex((p) => p.learningRate > 0.05);
    console.log(`LR range test, LeNet-5 SGD on the synthetic pack: ${pts.length} of 80 steps, loss ${pts[0].smoothed.toFixed(3)} at ${pts[0].learningRate} → min ${Math.min(...pts.map((p) => p.smoothed)).toFixed(3)} at ${r.minLossLearningRate.toPrecision(3)}; suggested ${r.suggestedLearningRate?.toPrecision(3)}; diverged ${r.diverged}`);
    expect(pts[lo].smoothed).toBeLessThan(pts[0].smoothed); // it learns at moderate rates
    expect(r.diverged).toBe(true); // SGD at rate 100 does not survive
    expect(pts.length).toBeLessThan(80);
    expect(r).toMatchObject(suggestLearningRate(pts));
    expect(r.suggestedLearningRate!).toBeGreaterThan(1e-4);
    expect(r.suggestedLearningRate!).toBeLessThan(r.minLossLearningRate);
  });

  it('stops on cancel with null', async () => {
    const signal = { aborted: false };
    expect(await lrRangeTest(spec, pack, LrRangeParamsSchema.parse({ steps: 50 }), (d) => (signal.aborted = d >= 3), signal)).toBeNull();
  });
});

describe('suggestLearningRate', () => {
  it('picks the point of the steepest fall against ln(rate) before the minimum', () => {
    const lrs = [1e-4, 1e-3, 1e-2, 1e-1, 1, 10];
    const smoothed = [2.3, 2.2, 1.4, 0.9, 0.8, 5];
    const pts = lrs.map((learningRate, i) => ({ step: i, learningRate, loss: smoothed[i], smoothed: smoothed[i] }));
    // Central differences over ln 100: i=1 (1.4−2.3), i=2 (0.9−2.2) ← steepest, i=3 (0.8−1.4); minimum at i=4.
    expect(suggestLearningRate(pts)).toEqual({ suggestedLearningRate: 1e-2, minLossLearningRate: 1 });
    expect(suggestLearningRate(pts.slice(0, 2).reverse().map((p, i) => ({ ...p, step: i }))).suggestedLearningRate).toBeNull();
  });
});
