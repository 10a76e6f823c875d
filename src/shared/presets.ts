/**
 * The preset networks: functions that return a graph ModelSpec for the dataset's input
 * shape and class count. The shallow ones (linear, MLP, LeNet-5) are here; the lecture's
 * deep ones (AlexNet, VGG, Inception, ResNet, MobileNet) in ./presets-deep.ts, built with
 * the same GraphBuilder.
 */
import { SpecError } from './errors';
import { GraphBuilder, type PresetOptions } from './graph-builder';
import { BN_MOMENTUM, type ModelSpec, type PresetName } from './layers';
import { buildDeepPreset, DEEP_PRESETS, type DeepPresetName } from './presets-deep';

export type { PresetOptions } from './graph-builder';

/**
 * Build the graph of a preset.
 * - linear: flatten → dense(numClasses)  (softmax regression; softmax lives in the loss)
 * - mlp: flatten → [dense(h) → relu]×1..2 → dense(numClasses)
 * - lenet5: conv 5×5 6 same → relu → maxpool 2 → conv 5×5 16 valid → relu → maxpool 2 →
 *   flatten → dense 120 → relu → dense 84 → relu → dense numClasses
 *   (LeCun et al. 1998, "Gradient-based learning applied to document recognition", with ReLU and max-pooling).
 * - alexnet, vgg11, vgg16, inception, resnet20/32/56, mobilenet: ./presets-deep.ts.
 * The last node is named `logits`.
 * @throws SpecError when the preset is unknown or `hiddenUnits` has not 1 or 2 entries.
 */
export function buildPreset(name: Exclude<PresetName, 'custom'>, opts: PresetOptions): ModelSpec {
  if ((DEEP_PRESETS as readonly string[]).includes(name)) return buildDeepPreset(name as DeepPresetName, opts);
  const bn = opts.batchNormalization ?? false;
  const rate = opts.dropoutRate ?? 0;
  const g = new GraphBuilder();
  const hidden = (units: number): void => {
    if (rate > 0) g.add({ type: 'dropout', rate });
    g.add({ type: 'dense', units, activation: bn ? 'linear' : 'relu', useBias: !bn });
    if (bn) {
      g.add({ type: 'batchNormalization', momentum: BN_MOMENTUM, epsilon: 1e-3 });
      g.add({ type: 'activation', activation: 'relu' });
    }
  };
  const conv = (filters: number, padding: 'same' | 'valid'): void => {
    g.add({ type: 'conv2d', filters, kernelSize: 5, strides: 1, padding, activation: bn ? 'linear' : 'relu', useBias: !bn });
    if (bn) {
      g.add({ type: 'batchNormalization', momentum: BN_MOMENTUM, epsilon: 1e-3 });
      g.add({ type: 'activation', activation: 'relu' });
    }
    g.add({ type: 'maxPooling2d', poolSize: 2, padding: 'valid' });
  };
  switch (name) {
    case 'linear':
      g.add({ type: 'flatten' });
      break;
    case 'mlp': {
      const units = opts.hiddenUnits ?? [128];
      if (units.length < 1 || units.length > 2) throw new SpecError('hiddenUnits: the MLP preset takes one or two hidden layers', 'hiddenUnits');
      g.add({ type: 'flatten' });
      units.forEach(hidden);
      if (rate > 0) g.add({ type: 'dropout', rate });
      break;
    }
    case 'lenet5':
      conv(6, 'same');
      conv(16, 'valid');
      g.add({ type: 'flatten' });
      hidden(120);
      hidden(84);
      if (rate > 0) g.add({ type: 'dropout', rate });
      break;
    default:
      throw new SpecError(`preset: unknown preset "${String(name)}"`, 'preset');
  }
  g.add({ type: 'dense', units: opts.numClasses, activation: 'linear', useBias: true }, { name: 'logits' });
  return g.spec(name, opts);
}
