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
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { makeBatchMatMulWasm } from './batch-mat-mul';
import { conv2DBackpropFilterWasmConfig } from './conv2d-backprop-filter';
import { conv2DBackpropInputWasmConfig } from './conv2d-backprop-input';
import { maxPoolGradWasmConfig } from './max-pool-grad';

export interface EngineKernel {
  kernelName: string;
  backendName: string;
  /** 'fill' for a kernel the backend lacks, 'replace' for one registered over the built-in. */
  kind: 'fill' | 'replace';
  /** Our config; `builtIn` is the kernel it replaces (null for a fill-in). */
  make(builtIn: KernelConfig | null): KernelConfig;
}

export const ENGINE_KERNELS: readonly EngineKernel[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kind: 'fill', make: () => conv2DBackpropFilterWasmConfig },
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kind: 'replace', make: () => conv2DBackpropInputWasmConfig },
  { kernelName: 'MaxPoolGrad', backendName: 'wasm', kind: 'replace', make: () => maxPoolGradWasmConfig },
  { kernelName: 'BatchMatMul', backendName: 'wasm', kind: 'replace', make: (builtIn) => makeBatchMatMulWasm(builtIn!) },
];

/** The built-in kernels we registered over, by "kernelName/backendName" (for benchmarks and comparisons). */
export const replacedKernels = new Map<string, KernelConfig>();
const ours = new Set<KernelConfig['kernelFunc']>();

/**
 * Register our kernels; idempotent. Call before the backend initialises (initBackend
 * does) so that wrapped kernels' setup runs. A fill-in is skipped when the backend
 * already has the kernel (a later tfjs that ships it keeps its own); a replacement is
 * registered over the built-in, which is kept in `replacedKernels`.
 */
export function registerEngineKernels(): void {
  for (const k of ENGINE_KERNELS) {
    const existing = getKernel(k.kernelName, k.backendName);
    if (existing && ours.has(existing.kernelFunc)) continue;
    if (existing && k.kind === 'fill') continue;
    if (!existing && k.kind === 'replace') continue; // nothing to replace (another tfjs version)
    const config = k.make(existing ?? null);
    if (existing) {
      replacedKernels.set(`${k.kernelName}/${k.backendName}`, existing);
      unregisterKernel(k.kernelName, k.backendName);
    }
    ours.add(config.kernelFunc);
    registerKernel(config);
  }
}
