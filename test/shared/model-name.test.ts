/** How a run's model is named (src/shared/model-name.ts): the same words on the run page, in the Runs list and on the New-run form. */
import { describe, expect, it } from 'vitest';
import { presetLabel } from '../../src/shared/model-name';
import { buildPreset } from '../../src/shared/spec';

describe('presetLabel', () => {
  it('names a fine-tune by its backbone, as the New-run form does, not "Custom"', () => {
    expect(presetLabel('custom', undefined, 'mobilenet_v1_0.5_160_quant')).toBe('mobilenet_v1_0.5_160_quant fine-tune');
    expect(presetLabel('custom', undefined, null)).toBe('Custom');
  });

  it('counts an MLP’s hidden layers from its spec; other presets by their display name; a baseline kind as it is', () => {
    const mlp = buildPreset('mlp', { inputShape: [28, 28, 1], numClasses: 10, hiddenUnits: [64, 32] });
    expect(presetLabel('mlp', mlp)).toBe('MLP (2 hidden)');
    expect(presetLabel('lenet5')).toBe('LeNet-5');
    expect(presetLabel('features')).toBe('features');
  });
});
