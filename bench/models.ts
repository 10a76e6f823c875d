/**
 * The two fixed benchmark models (issue 3), as our own ModelSpecs, so the engine builds
 * them with the app's code path (src/engine/model.ts) and bench/torch_worker.py builds the
 * same layer list in PyTorch. Batch 64, float32, NHWC.
 */
import type { LayerSpec, ModelSpec } from '../src/shared/spec';

export type ModelName = 'M1' | 'M2';

/** Training settings shared by both engines (Adam; epsilon explicit so both use the same). */
export interface BenchTraining {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** L2 coefficient on conv/dense kernels: loss + l2·Σw². */
  l2: number;
}

export const BATCH = 64;

/**
 * M1: LeNet-5-like on 28×28×1. M2: [conv 3×3 32 → BN → ReLU]×2 → pool → [conv 3×3 64 → BN →
 * ReLU]×2 → pool → dropout 0.25 → dense 128 → ReLU → dropout 0.5 → dense 10 on 32×32×3.
 * @param dropout false gives rate-0 dropout layers (identity), for the correctness check.
 */
export function benchModel(name: ModelName, dropout = true): { spec: ModelSpec; training: BenchTraining } {
  const adam = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
  if (name === 'M1') {
    const layers: LayerSpec[] = [
      { type: 'conv2d', filters: 6, kernelSize: 5, strides: 1, padding: 'same', activation: 'relu', useBias: true },
      { type: 'maxPooling2d', poolSize: 2, padding: 'valid' },
      { type: 'conv2d', filters: 16, kernelSize: 5, strides: 1, padding: 'valid', activation: 'relu', useBias: true },
      { type: 'maxPooling2d', poolSize: 2, padding: 'valid' },
      { type: 'flatten' },
      { type: 'dense', units: 120, activation: 'relu', useBias: true },
      { type: 'dense', units: 84, activation: 'relu', useBias: true },
      { type: 'dense', units: 10, activation: 'linear', useBias: true },
    ];
    return { spec: { preset: 'custom', inputShape: [28, 28, 1], numClasses: 10, layers }, training: { ...adam, l2: 0 } };
  }
  const block = (filters: number): LayerSpec[] => [
    { type: 'conv2d', filters, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear', useBias: false },
    { type: 'batchNormalization', momentum: 0.99, epsilon: 1e-3 },
    { type: 'activation', activation: 'relu' },
  ];
  const layers: LayerSpec[] = [
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
  return { spec: { preset: 'custom', inputShape: [32, 32, 3], numClasses: 10, layers }, training: { ...adam, l2: 1e-4 } };
}
