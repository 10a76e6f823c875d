/** The new-sweep form (src/renderer/lib/sweepForm.ts): what each setting becomes, counted by the same expansion the service runs. */
import { describe, expect, it } from 'vitest';
import { newSweepForm, sweepPreview, sweepSpecOfForm } from '../../src/renderer/lib/sweepForm';
import { buildPreset, parseRunSpec } from '../../src/shared/spec';

const base = parseRunSpec({
  datasetId: 3,
  model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }),
  training: { optimizer: { type: 'adam', learningRate: 0.001 }, batchSize: 32, epochs: 5 },
  seed: 11,
});

describe('sweep form', () => {
  it('starts as the one-click ablation: 2 × 2 × 3 × 2 = 24 variants × 2 seeds, no flip, the base epochs', () => {
    const f = newSweepForm(base);
    expect(sweepPreview(base, f)).toMatchObject({ variants: 24, runs: 48, error: null });
    expect(f.ablation.horizontalFlip).toBe(false);
    expect(sweepSpecOfForm(base, f).base).toMatchObject({ training: { epochs: 5 }, seed: 11 });
  });

  it('unticked factors leave their axes out; the levels typed are the values', () => {
    const f = newSweepForm(base);
    Object.assign(f.ablation, { batchNormalization: false, augmentation: false, dropoutRate: 0.25, l2: 0.001 });
    f.seeds = 2;
    f.epochs = 1;
    const spec = sweepSpecOfForm(base, f);
    expect(spec.grid?.map((a) => a.path)).toEqual(['model.dropoutRate', 'training.regularization']);
    expect(spec.grid?.[0].values).toEqual([0, 0.25]);
    expect(spec.grid?.[1].values).toEqual([{ l1: 0, l2: 0 }, { l1: 1e-5, l2: 0 }, { l1: 0, l2: 0.001 }]);
    expect(spec.base).toMatchObject({ training: { epochs: 1 } });
    expect(sweepPreview(base, f)).toMatchObject({ variants: 6, runs: 12 });
  });

  it('grid mode: axes from text and seeded log-uniform draws; a bad value names its variant and field', () => {
    const f = newSweepForm(base);
    f.mode = 'grid';
    f.axes = [
      { path: 'training.batchSize', values: '16, 64' },
      { path: ' ', values: 'ignored' },
    ];
    f.ranges = [{ path: 'training.optimizer.learningRate', low: 1e-4, high: 1e-2, log: true, integer: false }];
    f.randomSamples = 3;
    f.seeds = 1;
    const p = sweepPreview(base, f);
    expect(p).toMatchObject({ variants: 6, runs: 6, error: null });
    f.axes[0].values = '16, 0';
    const bad = sweepPreview(base, f);
    expect(bad.error).toMatch(/^sweep variant 3 \(training.batchSize=0, training.optimizer.learningRate=[\d.e-]+\): training.batchSize: /);
  });
});
