/**
 * The per-epoch judges (src/engine/schedules.ts) on recorded metric sequences, and the
 * cosine schedule (src/shared/spec.ts learningRateAt) against the hand formula.
 */
import { describe, expect, it } from 'vitest';
import { EarlyStopping, ReduceOnPlateau, type EpochValues } from '../../src/engine/schedules';
import { learningRateAt, parseRunSpec, buildPreset, type EarlyStoppingSpec } from '../../src/shared/spec';

const vals = (val_loss: number | null, val_accuracy: number | null = null): EpochValues => ({ val_loss, val_accuracy, train_loss: 1, train_accuracy: 0.5 });
const es = (o: Partial<EarlyStoppingSpec>): EarlyStoppingSpec => ({ monitor: 'val_loss', patience: 0, minDelta: 0, mode: 'auto', restoreBest: true, ...o });

/** Feed a sequence; @returns the epoch after which training stopped (null: ran to the end) and the best epoch. */
function replay(spec: EarlyStoppingSpec, seq: EpochValues[]): { stoppedAt: number | null; best: number | null } {
  const s = new EarlyStopping(spec);
  for (let e = 0; e < seq.length; e++) if (s.observe(e, seq[e])) return { stoppedAt: e, best: s.restoreEpoch };
  return { stoppedAt: null, best: s.restoreEpoch };
}

describe('EarlyStopping', () => {
  // val_loss by epoch: improves to epoch 2, then 3 epochs above 0.50, a new best at epoch 6.
  const loss = [0.9, 0.7, 0.5, 0.55, 0.52, 0.51, 0.45, 0.46].map((v) => vals(v));

  it('stops after `patience` epochs without improvement and names the best epoch', () => {
    expect(replay(es({ patience: 2 }), loss)).toEqual({ stoppedAt: 4, best: 2 });
    expect(replay(es({ patience: 3 }), loss)).toEqual({ stoppedAt: 5, best: 2 });
    expect(replay(es({ patience: 4 }), loss)).toEqual({ stoppedAt: null, best: 6 });
    expect(replay(es({ patience: 0 }), loss)).toEqual({ stoppedAt: null, best: 6 });
  });

  it('counts an improvement smaller than minDelta as none (Keras: value < best − minDelta)', () => {
    // 0.5 → 0.45 is 0.05 better; with minDelta 0.06 epoch 6 is no improvement.
    expect(replay(es({ patience: 0, minDelta: 0.06 }), loss).best).toBe(2);
    expect(replay(es({ patience: 5, minDelta: 0.06 }), loss)).toEqual({ stoppedAt: 7, best: 2 });
    expect(replay(es({ patience: 0, minDelta: 0.04 }), loss).best).toBe(6);
  });

  it('takes higher as better for accuracies under auto, and mode overrides', () => {
    const acc = [0.5, 0.7, 0.69, 0.7, 0.65].map((v) => vals(null, v));
    expect(replay(es({ monitor: 'val_accuracy', patience: 2 }), acc)).toEqual({ stoppedAt: 3, best: 1 }); // 0.7 again is not better
    expect(replay(es({ monitor: 'val_accuracy', mode: 'min' }), acc).best).toBe(0);
    expect(replay(es({ mode: 'max' }), loss).best).toBe(0);
  });

  it('is off without the monitored metric (no validation split) and with restoreBest false', () => {
    expect(replay(es({ patience: 1 }), [vals(null), vals(null), vals(null)])).toEqual({ stoppedAt: null, best: null });
    expect(replay(es({ patience: 0, restoreBest: false }), loss).best).toBeNull();
  });

  it('continues from a saved state as if never interrupted', () => {
    const a = new EarlyStopping(es({ patience: 3 }));
    for (let e = 0; e < 4; e++) a.observe(e, loss[e]);
    const b = new EarlyStopping(es({ patience: 3 }), JSON.parse(JSON.stringify(a.state)));
    expect(b.observe(4, loss[4])).toBe(false);
    expect(b.observe(5, loss[5])).toBe(true);
    expect(b.restoreEpoch).toBe(2);
  });
});

describe('ReduceOnPlateau', () => {
  it('multiplies the rate by factor after patience epochs without improvement, floored at minLearningRate', () => {
    const p = new ReduceOnPlateau({ type: 'plateau', monitor: 'val_loss', factor: 0.5, patience: 2, minDelta: 0, minLearningRate: 0.02 });
    const seq = [1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.8, 0.85, 0.86, 0.87, 0.88];
    const rates: number[] = [];
    seq.forEach((v, e) => {
      rates.push(p.rate(0.1));
      p.observe(e, vals(v), 0.1);
    });
    // Hand: epochs 2,3 no improvement → halve for epoch 4; 4,5 none → halve for 6; 6 improves; 7,8 none → 0.0125 floored to 0.02 from 9.
    expect(rates).toEqual([0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02]);
  });
});

describe('cosine schedule with linear warm-up', () => {
  it('equals the hand formula: base·(e+1)/(w+1) during warm-up, then min + ½(base − min)(1 + cos(π(e − w)/(E − w)))', () => {
    const sched = { type: 'cosine', warmupEpochs: 2, minLearningRate: 0.001 } as const;
    const E = 10;
    const got = Array.from({ length: E }, (_, e) => learningRateAt(0.1, sched, e, E));
    expect(got[0]).toBeCloseTo(0.1 / 3, 15);
    expect(got[1]).toBeCloseTo(0.2 / 3, 15);
    expect(got[2]).toBeCloseTo(0.1, 15); // first epoch after warm-up: the base rate
    // e = 6: (e − w)/(E − w) = 4/8 → cos(π/2) = 0 → min + (base − min)/2
    expect(got[6]).toBeCloseTo(0.001 + 0.099 / 2, 15);
    expect(got[9]).toBeCloseTo(0.001 + 0.5 * 0.099 * (1 + Math.cos((Math.PI * 7) / 8)), 15);
    for (let e = 3; e < E; e++) expect(got[e]).toBeLessThan(got[e - 1]);
    // No warm-up: starts at the base rate.
    expect(learningRateAt(0.1, { type: 'cosine', warmupEpochs: 0, minLearningRate: 0 }, 0, 4)).toBe(0.1);
  });

  it('is part of the spec with its defaults, and bad values name their path', () => {
    const spec = parseRunSpec({ datasetId: 1, model: buildPreset('linear', { inputShape: [8, 8, 1], numClasses: 2 }), training: { optimizer: { type: 'sgd', learningRate: 0.1 }, learningRateSchedule: { type: 'cosine' } } });
    expect(spec.training.learningRateSchedule).toEqual({ type: 'cosine', warmupEpochs: 0, minLearningRate: 0 });
    expect(spec.training.earlyStopping).toEqual({ monitor: 'val_accuracy', patience: 0, minDelta: 0, mode: 'auto', restoreBest: true });
    expect(spec.training.randomLabels).toBe(false);
    expect(() =>
      parseRunSpec({ datasetId: 1, model: buildPreset('linear', { inputShape: [8, 8, 1], numClasses: 2 }), training: { optimizer: { type: 'sgd', learningRate: 0.1 }, earlyStopping: { monitor: 'test_accuracy' } } }),
    ).toThrow(/training\.earlyStopping\.monitor/);
  });
});
