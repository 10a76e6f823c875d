/**
 * ReLU, max(x, 0) (Nair & Hinton 2010, "Rectified linear units improve restricted Boltzmann
 * machines"), forward and gradient as one threaded native kernel each on the wasm backend.
 *
 * tfjs' Relu gradient is `mul(dy, cast(step(x), 'float32'))`: Step, Cast and Multiply, three
 * single-threaded wasm kernels and two intermediate tensors. In a ResNet-20 training step
 * (bench M3, 19 ReLUs on maps up to 64×32×32×16) they cost ≈ 25–30 ms; the wasm forward
 * Relu runs on one thread. Here:
 * - `Relu` on wasm is the addon's (native/src/elementwise.cc), over the built-in, which stays
 *   the fallback (non-float32, empty);
 * - `LwReluGrad` {dy, x} → dx = dy·step(x) (step: 1 for x > 0, 0 for x ≤ 0, NaN for NaN x, as
 *   tfjs' Step), a kernel of our own name, and the Relu gradient is re-registered to call it
 *   when it can run (wasm backend, kernel registered, float32), else tfjs' own gradient
 *   (every other backend: cpu, WebGPU).
 */
import { engine, getBackend, getGradient, getKernel, Relu, registerGradient, type GradConfig, type KernelConfig, type KernelFunc, type Tensor, type TensorInfo } from '@tensorflow/tfjs-core';
import { nativeAddon, nativeKernelFunc, type NativeAddon } from './native';

export const RELU_GRAD = 'LwReluGrad';

interface ReluAddon extends NativeAddon {
  relu(x: Float32Array, y: Float32Array): void;
  reluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
}

function reluAddon(): ReluAddon {
  const na = nativeAddon() as ReluAddon | null;
  if (!na) throw new Error('native relu: the addon is not loaded');
  if (typeof na.relu !== 'function' || typeof na.reluGrad !== 'function') throw new Error('native relu: the addon predates it; run `npm rebuild layerwise-native`');
  return na;
}

/** The native `Relu` config over `inner` (the wasm built-in: non-float32 or empty inputs go to it). */
export function makeNativeReluKernel(inner: KernelConfig): KernelConfig {
  const na = reluAddon();
  const kernelFunc = nativeKernelFunc(
    (args) => {
      const x = args.inputs.x as TensorInfo;
      if (x.dtype !== 'float32' || x.shape.reduce((p, d) => p * d, 1) === 0) return null;
      return { outputs: [x.shape], run: (h, [y]) => na.relu(h(x), y) };
    },
    (args) => inner.kernelFunc(args as never) as TensorInfo,
  );
  return { kernelName: Relu, backendName: 'wasm', setupFunc: inner.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** The `LwReluGrad` config {dy, x} → dx (float32, same shapes; the gradient below calls it only then). */
export function makeNativeReluGradKernel(): KernelConfig {
  const na = reluAddon();
  const kernelFunc = nativeKernelFunc((args) => {
    const { dy, x } = args.inputs as { dy: TensorInfo; x: TensorInfo };
    return { outputs: [x.shape], run: (h, [dx]) => na.reluGrad(h(dy), h(x), dx) };
  });
  return { kernelName: RELU_GRAD, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}

let installed = false;
/**
 * Re-register the Relu gradient: LwReluGrad on wasm when it is registered and both tensors
 * are float32 and non-empty, tfjs' own gradient otherwise (idempotent; registerEngineKernels calls it).
 * @throws Error when tfjs has no Relu gradient to fall back to.
 */
export function installNativeReluGradient(): void {
  if (installed) return;
  const stock = getGradient(Relu);
  if (!stock) throw new Error('native relu: tfjs has no Relu gradient registered');
  const config: GradConfig = {
    kernelName: Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0];
      const g = dy as Tensor;
      if (getBackend() === 'wasm' && getKernel(RELU_GRAD, 'wasm') && x.dtype === 'float32' && g.dtype === 'float32' && x.size > 0 && g.size === x.size) {
        return { x: () => engine().runKernel(RELU_GRAD, { dy: g, x }, {}) as Tensor };
      }
      return stock.gradFunc(dy, saved, attrs);
    },
  };
  registerGradient(config);
  installed = true;
}
