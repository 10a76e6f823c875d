import { describe, expect, it } from 'vitest';
import { buildPreset, conv2dParams, convOutputSize, describeModel, learningRateAt, parseRunSpec, SpecError } from '../../src/shared/spec';

const baseSpec = () => ({
  datasetId: 1,
  model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }),
  training: { optimizer: { type: 'adam', learningRate: 0.001 }, batchSize: 64, epochs: 2 },
  seed: 42,
});

describe('lecture formulas', () => {
  it('output size (N + 2z − P)/s + 1 for valid padding, with z the zero padding', () => {
    // 32×32 input, 5×5 filter, stride 1, no padding → 28 (lecture example)
    expect(convOutputSize(32, 5, 1, 'valid')).toBe((32 + 2 * 0 - 5) / 1 + 1);
    // 'same' with stride 1 keeps the size: z = (P − 1)/2 = 2 → (28 + 4 − 5)/1 + 1 = 28
    expect(convOutputSize(28, 5, 1, 'same')).toBe((28 + 2 * 2 - 5) / 1 + 1);
    expect(convOutputSize(7, 3, 2, 'valid')).toBe(3);
  });
  it('conv parameters (P·P·d + 1)·K', () => {
    expect(conv2dParams(5, 3, 10)).toBe((5 * 5 * 3 + 1) * 10);
    expect(conv2dParams(3, 64, 128, false)).toBe(3 * 3 * 64 * 128);
  });
});

describe('presets', () => {
  it('LeNet-5 on 28×28×1 has the textbook shapes and parameter counts', () => {
    const info = describeModel(buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }));
    const convs = info.filter((l) => l.layer.type === 'conv2d');
    expect(convs.map((c) => c.params)).toEqual([156, 2416]);
    expect(convs.map((c) => c.outputShape)).toEqual([[28, 28, 6], [10, 10, 16]]);
    const dense = info.filter((l) => l.layer.type === 'dense').map((l) => l.params);
    expect(dense).toEqual([400 * 120 + 120, 120 * 84 + 84, 84 * 10 + 10]);
    expect(info.reduce((a, l) => a + l.params, 0)).toBe(61706);
  });
  it('linear is softmax regression: one dense layer of H·W·C·K + K weights', () => {
    const info = describeModel(buildPreset('linear', { inputShape: [32, 32, 3], numClasses: 10 }));
    expect(info.reduce((a, l) => a + l.params, 0)).toBe(32 * 32 * 3 * 10 + 10);
  });
  it('MLP takes one or two hidden layers, with dropout and batch normalization when asked', () => {
    const m = buildPreset('mlp', { inputShape: [28, 28, 1], numClasses: 10, hiddenUnits: [256, 64], dropoutRate: 0.5, batchNormalization: true });
    const layers = (m.nodes ?? []).map((n) => n.layer);
    expect(layers.filter((l) => l.type === 'dense').map((l) => (l.type === 'dense' ? l.units : 0))).toEqual([256, 64, 10]);
    expect(layers.filter((l) => l.type === 'dropout')).toHaveLength(3);
    expect(layers.filter((l) => l.type === 'batchNormalization')).toHaveLength(2);
    expect(() => buildPreset('mlp', { inputShape: [28, 28, 1], numClasses: 10, hiddenUnits: [1, 2, 3] })).toThrow(/hiddenUnits/);
  });
});

describe('parseRunSpec', () => {
  it('fills defaults', () => {
    const s = parseRunSpec(baseSpec());
    expect(s.backend).toBe('auto');
    expect(s.training.learningRateSchedule).toEqual({ type: 'constant' });
    expect(s.training.regularization).toEqual({ l1: 0, l2: 0 });
  });
  it.each([
    [(s: any) => (s.training.batchSize = 0), /training\.batchSize/],
    [(s: any) => (s.training.optimizer.learningRate = -1), /training\.optimizer\.learningRate/],
    [(s: any) => (s.model.nodes[0].layer.kernelSize = 0), /model\.nodes\[0\]\.layer\.kernelSize/],
    [(s: any) => (s.training.optimizer = { type: 'adagrad', learningRate: 0.1 }), /training\.optimizer/],
    [(s: any) => (s.model.nodes[3].layer = { type: 'dropout', rate: 1.5 }), /model\.nodes\[3\]\.layer\.rate/],
    [(s: any) => (s.seed = 1.5), /seed/],
  ])('refuses bad field %#, naming it', (mutate, field) => {
    const s = baseSpec();
    mutate(s);
    expect(() => parseRunSpec(s)).toThrow(SpecError);
    expect(() => parseRunSpec(s)).toThrow(field);
  });
  it('refuses a network whose spatial size collapses, naming the layer', () => {
    const s = baseSpec();
    s.model = buildPreset('lenet5', { inputShape: [8, 8, 1], numClasses: 10 });
    expect(() => parseRunSpec(s)).toThrow(/model\.nodes\[\d+\] \("\w+", \w+\): output would be empty: input \[\d+, \d+, \d+\] gives/);
  });
  it('refuses a last layer that does not give numClasses logits', () => {
    const s = baseSpec();
    s.model.numClasses = 5;
    expect(() => parseRunSpec(s)).toThrow(/numClasses \(5\)/);
  });
});

describe('learning-rate schedules', () => {
  it('step and exponential decay per epoch', () => {
    expect([0, 1, 2, 3, 4].map((e) => learningRateAt(0.1, { type: 'step', stepSize: 2, gamma: 0.5 }, e, 5))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
    expect(learningRateAt(1, { type: 'exponential', gamma: 0.9 }, 3, 5)).toBeCloseTo(0.729, 12);
  });
});
