/**
 * The fixed benchmark models (issues 3 and 8), as our own ModelSpecs, so the engine builds
 * them with the app's code path (src/engine/model.ts) and bench/torch_worker.py builds the
 * same graph in PyTorch. Batch 64, float32, NHWC.
 */
import { buildPreset, ModelSpecSchema, type LayerSpecInput, type ModelSpec } from '../src/shared/spec';

export type ModelName = 'M1' | 'M2' | 'M3' | 'M4';
export const MODEL_NAMES: readonly ModelName[] = ['M1', 'M2', 'M3', 'M4'];

/**
 * Training settings shared by both engines: Adam (epsilon explicit so both use the same) or
 * SGD with momentum (v ← μ·v + g, w ← w − lr·v: tf.train.momentum and torch.optim.SGD with
 * dampening 0 are the same update).
 */
export interface BenchTraining {
  optimizer: 'adam' | 'momentum';
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Momentum μ of the SGD optimizer (unused by Adam). */
  momentum: number;
  /** L2 coefficient on conv2d / dense kernels (not depthwise, biases or batch norm): loss + l2·Σw². */
  l2: number;
  /** Learning rate of the correctness check when it differs from the timed one (M4: see benchModel). */
  checkLearningRate?: number;
}

export const BATCH = 64;

const ADAM: BenchTraining = { optimizer: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, momentum: 0, l2: 0 };
/** SGD with momentum 0.9 as He et al. 2016 §4.2 train the CIFAR ResNets (lr 0.1 there; 0.01 here so 5 checked steps stay well-conditioned). */
const SGD_MOMENTUM: BenchTraining = { ...ADAM, optimizer: 'momentum', learningRate: 0.01, momentum: 0.9, l2: 1e-4 };

/**
 * M1: LeNet-5-like on 28×28×1. M2: [conv 3×3 32 → BN → ReLU]×2 → pool → [conv 3×3 64 → BN →
 * ReLU]×2 → pool → dropout 0.25 → dense 128 → ReLU → dropout 0.5 → dense 10 on 32×32×3 (both
 * Adam 1e-3). M3 and M4 are the app's own presets (src/shared/presets-deep.ts), SGD with
 * momentum 0.9, every layer trained: M3 = ResNet-20 on 32×32×3 (He et al. 2016 §4.2: 3×3 conv
 * 16, 3 stages × 3 basic blocks of 16 / 32 / 64 filters, 1×1 stride-2 projection + BN where
 * the shape changes, global average pooling, dense 10); M4 = MobileNet v1 with width
 * multiplier 0.25 on 128×128×3 (Howard et al. 2017 Table 1: depthwise-separable blocks,
 * BN + ReLU6; dropout 0.001 before the logits, as Keras' MobileNet).
 * @param dropout false gives rate-0 dropout layers (identity; M4: no dropout node), for the correctness check.
 */
export function benchModel(name: ModelName, dropout = true): { spec: ModelSpec; training: BenchTraining } {
  if (name === 'M3') return { spec: buildPreset('resnet20', { inputShape: [32, 32, 3], numClasses: 10, dropoutRate: 0 }), training: SGD_MOMENTUM };
  if (name === 'M4') {
    const spec = buildPreset('mobilenet', { inputShape: [128, 128, 3], numClasses: 10, widthMultiplier: 0.25, dropoutRate: dropout ? 1e-3 : 0 });
    // MobileNet 0.25 at initialisation is ill-conditioned in float32: on our engine alone, a 1e-6
    // relative change of the input changes some gradients by ~10 % (docs/ENGINE.md), so two engines'
    // rounding differences grow step by step; the check takes small steps (lr 1e-4) to stay comparable.
    return { spec, training: { ...SGD_MOMENTUM, checkLearningRate: 1e-4 } };
  }
  if (name === 'M1') {
    const layers: LayerSpecInput[] = [
      { type: 'conv2d', filters: 6, kernelSize: 5, strides: 1, padding: 'same', activation: 'relu', useBias: true },
      { type: 'maxPooling2d', poolSize: 2, padding: 'valid' },
      { type: 'conv2d', filters: 16, kernelSize: 5, strides: 1, padding: 'valid', activation: 'relu', useBias: true },
      { type: 'maxPooling2d', poolSize: 2, padding: 'valid' },
      { type: 'flatten' },
      { type: 'dense', units: 120, activation: 'relu', useBias: true },
      { type: 'dense', units: 84, activation: 'relu', useBias: true },
      { type: 'dense', units: 10, activation: 'linear', useBias: true },
    ];
    return { spec: ModelSpecSchema.parse({ preset: 'custom', inputShape: [28, 28, 1], numClasses: 10, layers }), training: ADAM };
  }
  const block = (filters: number): LayerSpecInput[] => [
    { type: 'conv2d', filters, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear', useBias: false },
    { type: 'batchNormalization', momentum: 0.99, epsilon: 1e-3 },
    { type: 'activation', activation: 'relu' },
  ];
  const layers: LayerSpecInput[] = [
    ...block(32),
    ...block(32),
    { type: 'maxPooling2d', poolSize: 2, padding: 'valid' },
    ...block(64),
    ...block(64),
    { type: 'maxPooling2d', poolSize: 2, padding: 'valid' },
    { type: 'dropout', rate: dropout ? 0.25 : 0 },
    { type: 'flatten' },
    { type: 'dense', units: 128, activation: 'relu', useBias: true },
    { type: 'dropout', rate: dropout ? 0.5 : 0 },
    { type: 'dense', units: 10, activation: 'linear', useBias: true },
  ];
  return { spec: ModelSpecSchema.parse({ preset: 'custom', inputShape: [32, 32, 3], numClasses: 10, layers }), training: { ...ADAM, l2: 1e-4 } };
}
