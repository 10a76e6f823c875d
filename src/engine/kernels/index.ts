/**
 * Kernels we register on top of tfjs' backends. Each one is tested against the `cpu`
 * backend in test/engine/kernels.test.ts.
 *
 * wasm (tfjs-backend-wasm 4.22), found by training every preset with batch
 * normalisation and dropout on it:
 * - Conv2DBackpropFilter: missing; without it no conv layer can train.
 */
import { getKernel, registerKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterWasmConfig } from './conv2d-backprop-filter';

export const ENGINE_KERNELS: readonly KernelConfig[] = [conv2DBackpropFilterWasmConfig];

/** Register our kernels; idempotent (already-registered names are skipped, so a later tfjs that ships them keeps its own). */
export function registerEngineKernels(): void {
  for (const k of ENGINE_KERNELS) {
    if (!getKernel(k.kernelName, k.backendName)) registerKernel(k);
  }
}
