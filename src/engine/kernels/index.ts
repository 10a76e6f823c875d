/**
 * Kernels we register on top of tfjs' backends. Each one is tested against the `cpu`
 * backend in test/engine/kernels.test.ts.
 *
 * wasm (tfjs-backend-wasm 4.22). Found by training every preset, and a custom net with
 * strides, average pooling, tanh/sigmoid, batch normalisation, dropout, L1/L2 and all
 * four optimizers, on it (test/engine/train.test.ts, model.test.ts):
 * - Conv2DBackpropFilter: missing; without it no conv layer can train. (Everything else
 *   training needs — MaxPoolGrad, AvgPoolGrad, FusedBatchNorm and the ops of its
 *   gradient, Relu/Step, Tanh, Sigmoid, Sign, Abs, LogSoftmax's ops, the optimizers'
 *   ops — exists.)
 * Replaced for speed (measured on this machine, LeNet-5 at batch 64):
 * - Conv2DBackpropInput: the built-in is a direct loop (8.9 ms → 2.4 ms for conv 2).
 * - MaxPoolGrad: the built-in re-scans all overlapping windows per pixel (4.3 → 1.5 ms).
 * - BatchMatMul: wrapped so transposed operands are transposed first (1.8–3.9 ms →
 *   0.3–0.5 ms for the dense layers' backward products).
 * Native (the `layerwise-native` addon, ./native.ts; docs/ENGINE.md has the numbers),
 * registered over whichever kernel is there (built-in or ours above), which stays the
 * fallback for cases the addon does not cover and is used alone when the addon is missing:
 * - Conv2D, FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter, BatchMatMul, _FusedMatMul
 *   (speed); Sum, Mean (double accumulation: exactness of batch-norm gradients, see native.ts);
 *   Tile (269 of 464 ms of an M2 training step on the wasm one); MaxPool, MaxPoolGrad (threaded);
 *   FusedBatchNorm (threaded; the wasm one is single-threaded); Add of same-shape tensors (threaded: ResNet's
 *   merges and autograd's gradient sums, ≈ 14 ms of an M3 step on one wasm thread). Of our own name ('native-new'):
 *   LwBatchNormTrain / LwBatchNormTrainGrad, training-mode batch norm and its one-pass gradient
 *   (./batch-norm.ts), used by model.ts' batch-norm layer in place of moments + FusedBatchNorm.
 * - DepthwiseConv2dNative and both its gradients (./depthwise-conv2d.ts, threaded): the wasm
 *   backend has the forward only (one thread); the native gradients wrap the plain-JS fill-ins
 *   of ./dwconv-backprop.ts.
 * - LwRelu6 / LwRelu6Grad ('native-new', ./relu6.ts): ReLU6 in one kernel each way instead of
 *   tfjs-layers' minimum(6, relu(x)) and its five-kernel gradient (≈ 45 % of an M4 step).
 * - LwAdamUpdate / LwMomentumUpdate ('native-new', ./optimizer.ts): an optimizer step as one kernel per variable
 *   (Adam was ≈ 140 of a LeNet-5 step's ≈ 260 kernel calls), bit-identical to tfjs' update.
 * - Relu (threaded, over the wasm one) and LwReluGrad ('native-new', ./relu.ts): the Relu gradient
 *   is re-registered to call it on wasm instead of tfjs' mul(dy, cast(step(x))) (≈ 25 ms of an M3 step).
 * Replaced for memory traffic: Identity and a Cast to the same dtype (./identity.ts) share their input's data instead of copying.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { makeBatchMatMulWasm } from './batch-mat-mul';
import { conv2DBackpropFilterWasmConfig } from './conv2d-backprop-filter';
import { conv2DBackpropInputWasmConfig } from './conv2d-backprop-input';
import { maxPoolGradWasmConfig } from './max-pool-grad';
import { depthwiseBackpropFilterWasmConfig, depthwiseBackpropInputWasmConfig } from './dwconv-backprop';
import { makeNativeBatchNormKernels, registerBatchNormTrainGradient } from './batch-norm';
import { makeNativeKernel, nativeAddon } from './native';
import { DEPTHWISE, DEPTHWISE_GRAD_FILTER, DEPTHWISE_GRAD_INPUT, makeNativeDepthwiseKernel } from './depthwise-conv2d';
import { makeCastWasm, makeIdentityWasm } from './identity';
import { installNativeRelu6, makeNativeRelu6Kernels, RELU6, RELU6_GRAD } from './relu6';
import { installNativeReluGradient, makeNativeReluGradKernel, makeNativeReluKernel, RELU_GRAD } from './relu';
import { ADAM_UPDATE, makeNativeOptimizerKernels, MOMENTUM_UPDATE, nativeOptimizerAvailable } from './optimizer';

export interface EngineKernel {
  kernelName: string;
  backendName: string;
  /**
   * 'fill' for a kernel the backend lacks, 'replace' for one registered over the built-in,
   * 'native' for an addon kernel registered over whatever is there (only when the addon loads),
   * 'native-new' for an addon kernel of our own name (no tfjs kernel; only when the addon loads).
   */
  kind: 'fill' | 'replace' | 'native' | 'native-new';
  /** Our config; `builtIn` is the kernel it replaces (null for a fill-in). */
  make(builtIn: KernelConfig | null): KernelConfig;
  /** For an addon kernel added after the first builds: whether the loaded addon has it (skipped when not, so an older build still loads: A/B runs). */
  available?: () => boolean;
}

export const ENGINE_KERNELS: readonly EngineKernel[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kind: 'fill', make: () => conv2DBackpropFilterWasmConfig },
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kind: 'replace', make: () => conv2DBackpropInputWasmConfig },
  { kernelName: 'MaxPoolGrad', backendName: 'wasm', kind: 'replace', make: () => maxPoolGradWasmConfig },
  { kernelName: 'BatchMatMul', backendName: 'wasm', kind: 'replace', make: (builtIn) => makeBatchMatMulWasm(builtIn!) },
  // Missing in tfjs-backend-wasm 4.22: depthwiseConv2d cannot train without them (./dwconv-backprop.ts).
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: 'wasm', kind: 'fill', make: () => depthwiseBackpropInputWasmConfig },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: 'wasm', kind: 'fill', make: () => depthwiseBackpropFilterWasmConfig },
  // Without the copy (./identity.ts): autograd clones every saved tensor through Identity.
  { kernelName: 'Identity', backendName: 'wasm', kind: 'replace', make: (builtIn) => makeIdentityWasm(builtIn!) },
  // Likewise a Cast to its own dtype (Identity's gradient is one).
  { kernelName: 'Cast', backendName: 'wasm', kind: 'replace', make: (builtIn) => makeCastWasm(builtIn!) },
  ...['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul', '_FusedMatMul', 'Sum', 'Mean', 'Tile', 'MaxPool', 'MaxPoolGrad', 'FusedBatchNorm', 'Add'].map(
    (kernelName): EngineKernel => ({ kernelName, backendName: 'wasm', kind: 'native', make: (inner) => makeNativeKernel(kernelName, inner!) }),
  ),
  // Depthwise convolution and its gradients in the addon (threaded), over the wasm forward and the fill-ins above.
  ...[DEPTHWISE, DEPTHWISE_GRAD_INPUT, DEPTHWISE_GRAD_FILTER].map(
    (kernelName): EngineKernel => ({ kernelName, backendName: 'wasm', kind: 'native', make: (inner) => makeNativeDepthwiseKernel(kernelName, inner!) }),
  ),
  // ReLU6 and its gradient, one kernel each (./relu6.ts; tfjs-layers' 'relu6' activation is replaced to call them).
  ...[RELU6, RELU6_GRAD].map(
    (kernelName, i): EngineKernel => ({
      kernelName,
      backendName: 'wasm',
      kind: 'native-new',
      make: () => {
        installNativeRelu6();
        return makeNativeRelu6Kernels()[i];
      },
    }),
  ),
  // ReLU threaded, and its gradient as one kernel (./relu.ts re-registers the Relu gradient to call it on wasm).
  { kernelName: 'Relu', backendName: 'wasm', kind: 'native', make: (inner) => makeNativeReluKernel(inner!) },
  {
    kernelName: RELU_GRAD,
    backendName: 'wasm',
    kind: 'native-new',
    make: () => {
      installNativeReluGradient();
      return makeNativeReluGradKernel();
    },
  },
  // Training-mode batch norm and its gradient, one kernel each (./batch-norm.ts; model.ts' batch-norm layer calls them).
  ...[0, 1].map(
    (i): EngineKernel => ({ kernelName: ['LwBatchNormTrain', 'LwBatchNormTrainGrad'][i], backendName: 'wasm', kind: 'native-new', make: () => makeNativeBatchNormKernels()[i] }),
  ),
  // Adam / SGD-momentum updates, one kernel per variable (./optimizer.ts; train.ts' makeOptimizer builds the optimizers that call them).
  ...[ADAM_UPDATE, MOMENTUM_UPDATE].map(
    (kernelName, i): EngineKernel => ({ kernelName, backendName: 'wasm', kind: 'native-new', make: () => makeNativeOptimizerKernels()[i], available: nativeOptimizerAvailable }),
  ),
];

/** Per "kernelName/backendName", the kernel each layer of ours wraps: `wasm` is our pure-wasm one (fill or replace), `native` the addon's. */
export const engineKernelLayers = new Map<string, { wasm?: KernelConfig; native?: KernelConfig }>();

/** The built-in kernels we registered over, by "kernelName/backendName" (for benchmarks and comparisons). */
export const replacedKernels = new Map<string, KernelConfig>();
const ours = new Set<KernelConfig['kernelFunc']>();
const applied = new Set<EngineKernel>();

/**
 * Register our kernels; idempotent. Call before the backend initialises (initBackend
 * does) so that wrapped kernels' setup runs. A fill-in is skipped when the backend
 * already has the kernel (a later tfjs that ships it keeps its own); a replacement is
 * registered over the built-in, which is kept in `replacedKernels`.
 */
export function registerEngineKernels(): void {
  for (const k of ENGINE_KERNELS) {
    if (applied.has(k)) continue;
    if ((k.kind === 'native' || k.kind === 'native-new') && !nativeAddon()) continue;
    if (k.available && !k.available()) continue;
    const key = `${k.kernelName}/${k.backendName}`;
    const existing = getKernel(k.kernelName, k.backendName);
    if (existing && (k.kind === 'fill' || k.kind === 'native-new')) continue;
    if (!existing && k.kind !== 'fill' && k.kind !== 'native-new') continue; // nothing to replace (another tfjs version)
    if (k.kind === 'native-new') registerBatchNormTrainGradient();
    const config = k.make(existing ?? null);
    if (existing) {
      if (!ours.has(existing.kernelFunc)) replacedKernels.set(key, existing);
      unregisterKernel(k.kernelName, k.backendName);
    }
    ours.add(config.kernelFunc);
    applied.add(k);
    const layers = engineKernelLayers.get(key) ?? {};
    layers[k.kind === 'native' || k.kind === 'native-new' ? 'native' : 'wasm'] = config;
    engineKernelLayers.set(key, layers);
    registerKernel(config);
  }
}
