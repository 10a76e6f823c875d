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
 *   FusedBatchNorm (threaded; the wasm one is single-threaded). Of our own name ('native-new'):
 *   LwBatchNormTrain / LwBatchNormTrainGrad, training-mode batch norm and its one-pass gradient
 *   (./batch-norm.ts), used by model.ts' batch-norm layer in place of moments + FusedBatchNorm.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { makeBatchMatMulWasm } from './batch-mat-mul';
import { conv2DBackpropFilterWasmConfig } from './conv2d-backprop-filter';
import { conv2DBackpropInputWasmConfig } from './conv2d-backprop-input';
import { maxPoolGradWasmConfig } from './max-pool-grad';
import { makeNativeBatchNormKernels, registerBatchNormTrainGradient } from './batch-norm';
import { makeNativeKernel, nativeAddon } from './native';

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
}

export const ENGINE_KERNELS: readonly EngineKernel[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kind: 'fill', make: () => conv2DBackpropFilterWasmConfig },
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kind: 'replace', make: () => conv2DBackpropInputWasmConfig },
  { kernelName: 'MaxPoolGrad', backendName: 'wasm', kind: 'replace', make: () => maxPoolGradWasmConfig },
  { kernelName: 'BatchMatMul', backendName: 'wasm', kind: 'replace', make: (builtIn) => makeBatchMatMulWasm(builtIn!) },
  ...['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul', '_FusedMatMul', 'Sum', 'Mean', 'Tile', 'MaxPool', 'MaxPoolGrad', 'FusedBatchNorm'].map(
    (kernelName): EngineKernel => ({ kernelName, backendName: 'wasm', kind: 'native', make: (inner) => makeNativeKernel(kernelName, inner!) }),
  ),
  // Training-mode batch norm and its gradient, one kernel each (./batch-norm.ts; model.ts' batch-norm layer calls them).
  ...[0, 1].map(
    (i): EngineKernel => ({ kernelName: ['LwBatchNormTrain', 'LwBatchNormTrainGrad'][i], backendName: 'wasm', kind: 'native-new', make: () => makeNativeBatchNormKernels()[i] }),
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
