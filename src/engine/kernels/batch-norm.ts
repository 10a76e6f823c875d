/**
 * Native batch normalization for training on the wasm backend (the `layerwise-native` addon).
 *
 * tfjs-layers' BatchNormalization in training mode computes the moments with tf ops and
 * calls tf.batchNorm; its gradient is tfjs' FusedBatchNorm gradient (for x, mean, variance,
 * γ, β) chained back through `moments`: ≈ 20 element-wise / tile / sum kernels per layer,
 * 60–90 ms of an M2 step on the wasm backend. Here the whole training-mode normalization is
 * one kernel and its gradient another:
 * - `LwBatchNormTrain` {x, scale, offset} → [y, mean, variance, invstd]: per-channel mean and
 *   (biased, as tf.moments) variance over all axes but the last, accumulated in double;
 *   y = (x − μ)·γ/√(σ² + ε) + β. invstd = 1/√(σ² + ε) is saved for the gradient.
 * - `LwBatchNormTrainGrad` {dy, x, scale, mean, invstd, dmean, dvar} → [dx, dscale, doffset],
 *   one pass of sums and one of dx (Ioffe & Szegedy 2015, "Batch Normalization", §3):
 *   dβ = Σdy, dγ = Σdy·x̂, dx = γ·invstd/M·(M·dy − Σdy − x̂·Σdy·x̂) (+ the gradients that reach
 *   the mean / variance outputs: dμ/M + dσ²·2(x − μ)/M; zero when only the moving averages
 *   use them).
 * - With attribute `activation` 'relu' or 'relu6' the forward applies it in its output pass and
 *   the gradient masks dy by the activation's derivative, the pre-activation value rebuilt from x
 *   exactly as the forward computed it: BN → ReLU / ReLU6 (every block of M2, M3, M4) in one
 *   kernel each way instead of two, and the pre-activation map is never stored.
 * Sums run over fixed chunks of rows added in chunk order: bit-identical for any thread count.
 * Used by model.ts' batch-norm layer when `nativeBatchNormTrainingAvailable()`; the stock
 * layer runs otherwise (other backends, addon missing or LAYERWISE_NATIVE=0).
 */
import {
  engine,
  getBackend,
  getKernel,
  registerGradient,
  type GradConfig,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorMap,
  type Tensor,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { nativeAddon, nativeKernelFunc } from './native';

export const BN_TRAIN = 'LwBatchNormTrain';
export const BN_TRAIN_GRAD = 'LwBatchNormTrainGrad';

/** Activations the kernels can apply after the normalisation, and their codes in the addon. */
export type BatchNormActivation = 'linear' | 'relu' | 'relu6';
const ACT_CODE: Record<BatchNormActivation, number> = { linear: 0, relu: 1, relu6: 2 };

interface BatchNormActAddon {
  batchNormTrainAct?: (...a: unknown[]) => void;
  batchNormTrainGradAct?: (...a: unknown[]) => void;
}

/** Rows M (product of all dims but the last) and channels C of x. */
const rowsChannels = (shape: number[]): [number, number] => [util.sizeFromShape(shape.slice(0, -1)), shape[shape.length - 1]];

/** The two kernel configs (wasm), or throws when the addon is missing. */
export function makeNativeBatchNormKernels(): KernelConfig[] {
  const na = nativeAddon();
  if (!na) throw new Error('native batch norm: the addon is not loaded');
  const forward = nativeKernelFunc((args) => {
    const { x, scale, offset } = args.inputs as { x: TensorInfo; scale?: TensorInfo; offset?: TensorInfo };
    const [M, C] = rowsChannels(x.shape);
    const eps = args.attrs.varianceEpsilon as number;
    const act = ACT_CODE[(args.attrs.activation as BatchNormActivation | undefined) ?? 'linear'];
    const fused = (na as BatchNormActAddon).batchNormTrainAct;
    if (act !== 0 && !fused) throw new Error('native batch norm: the addon predates fused activations; run `npm rebuild layerwise-native`');
    return {
      outputs: [x.shape, [C], [C], [C]],
      run: (h, [y, mean, variance, invstd]) => (act === 0 ? na.batchNormTrain(h(x), h(scale), h(offset), y, mean, variance, invstd, M, C, eps) : fused!(h(x), h(scale), h(offset), y, mean, variance, invstd, M, C, eps, act)),
    };
  });
  const backward = nativeKernelFunc((args) => {
    const { dy, x, scale, offset, mean, invstd, dmean, dvar } = args.inputs as { dy: TensorInfo; x: TensorInfo; scale?: TensorInfo; offset?: TensorInfo; mean: TensorInfo; invstd: TensorInfo; dmean?: TensorInfo; dvar?: TensorInfo };
    const [M, C] = rowsChannels(x.shape);
    const act = ACT_CODE[(args.attrs.activation as BatchNormActivation | undefined) ?? 'linear'];
    const fused = (na as BatchNormActAddon).batchNormTrainGradAct;
    if (act !== 0 && !fused) throw new Error('native batch norm: the addon predates fused activations; run `npm rebuild layerwise-native`');
    return {
      outputs: [x.shape, [C], [C]],
      run: (h, [dx, dscale, doffset]) =>
        act === 0
          ? na.batchNormTrainGrad(h(x), h(dy), h(scale), h(mean), h(invstd), h(dmean), h(dvar), dx, dscale, doffset, M, C)
          : fused!(h(x), h(dy), h(scale), h(mean), h(invstd), h(dmean), h(dvar), dx, dscale, doffset, M, C, h(offset), act),
    };
  });
  return [
    { kernelName: BN_TRAIN, backendName: 'wasm', kernelFunc: forward as unknown as KernelFunc },
    { kernelName: BN_TRAIN_GRAD, backendName: 'wasm', kernelFunc: backward as unknown as KernelFunc },
  ];
}

/** Gradient of LwBatchNormTrain (registered once, globally: the kernel exists on wasm only). */
export const batchNormTrainGradConfig: GradConfig = {
  kernelName: BN_TRAIN,
  inputsToSave: ['x', 'scale', 'offset'],
  outputsToSave: [false, true, false, true],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [dy, dmean, dvar] = dys as Tensor[];
    const [x, scale, offset, mean, invstd] = saved;
    const inputs: NamedTensorMap = { dy, x, scale, offset, mean, invstd, dmean, dvar };
    const [dx, dscale, doffset] = engine().runKernel(BN_TRAIN_GRAD, inputs, { activation: (attrs?.activation as BatchNormActivation | undefined) ?? 'linear' }) as Tensor[];
    return { x: () => dx, scale: () => dscale, offset: () => doffset };
  },
};

let gradRegistered = false;
/** Register the gradient (idempotent); registerEngineKernels calls it with the kernels. */
export function registerBatchNormTrainGradient(): void {
  if (gradRegistered) return;
  registerGradient(batchNormTrainGradConfig);
  gradRegistered = true;
}

/** Whether the native training batch norm can run for x now: wasm backend, kernels registered, float32, rank ≥ 2, C ≥ 1, M ≥ 1. */
export function nativeBatchNormTrainingAvailable(x: Tensor): boolean {
  if (getBackend() !== 'wasm' || !getKernel(BN_TRAIN, 'wasm') || !getKernel(BN_TRAIN_GRAD, 'wasm')) return false;
  return x.dtype === 'float32' && x.rank >= 2 && x.size > 0;
}

/** Whether the loaded addon has the fused-activation batch norm (batchNormTrainAct / …GradAct). */
export function nativeBatchNormActivationAvailable(): boolean {
  const na = nativeAddon() as (BatchNormActAddon & object) | null;
  return !!na && typeof na.batchNormTrainAct === 'function' && typeof na.batchNormTrainGradAct === 'function';
}

/**
 * Training-mode batch norm over all axes of x but the last, as one native kernel with a
 * one-kernel gradient (x, γ, β differentiable). Returns y (activation(x̂·γ + β), same shape as x)
 * and the batch mean / variance [C] (for the moving averages). Check
 * `nativeBatchNormTrainingAvailable(x)` first, and `nativeBatchNormActivationAvailable()` for an
 * activation other than 'linear' (the kernel throws otherwise).
 */
export function batchNormTraining(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number, activation: BatchNormActivation = 'linear'): { y: Tensor; mean: Tensor; variance: Tensor } {
  const inputs: NamedTensorMap = { x, scale: gamma, offset: beta };
  const [y, mean, variance, invstd] = engine().runKernel(BN_TRAIN, inputs, { varianceEpsilon: epsilon, activation }) as Tensor[];
  invstd.dispose(); // kept by the tape (outputsToSave) while gradients are recorded
  return { y, mean, variance };
}
