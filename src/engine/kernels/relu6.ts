/**
 * ReLU6, min(max(x, 0), 6) (Krizhevsky 2010, "Convolutional deep belief networks on CIFAR-10",
 * §2; MobileNet v1's activation as TensorFlow trains it), as one native kernel with a one-kernel
 * gradient on the wasm backend.
 *
 * tfjs-layers computes its 'relu6' activation as `minimum(6, relu(x))`: forward a Relu and a
 * Minimum against a broadcast scalar, backward Greater (broadcast), Cast, Multiply, Step and
 * Multiply, each a single-threaded wasm kernel, the broadcast ones on a slow generic path. In
 * a MobileNet v1 0.25 training step at 128×128 (bench M4) they were ≈ 1.4 s of ≈ 3 s. Here:
 * - `LwRelu6` {x} → y = min(max(x, 0), 6) and `LwRelu6Grad` {dy, x} → dx = dy·[0 < x < 6]
 *   (the same gradient as tfjs' chain: step(x)·[x < 6]; PyTorch's ReLU6 = hardtanh(0, 6) has it too),
 *   in the addon (native/src/elementwise.cc), threaded.
 * - tfjs-layers' 'relu6' activation class is replaced (same className, so layers and saved
 *   topologies are unchanged) by one whose apply runs LwRelu6 when the kernels are registered
 *   on the current (wasm) backend and the input is float32, and the stock ops otherwise.
 */
import { engine, getBackend, getKernel, registerGradient, serialization, type GradConfig, type KernelConfig, type KernelFunc, type Tensor, type TensorInfo } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { nativeAddon, nativeKernelFunc, type NativeAddon } from './native';

export const RELU6 = 'LwRelu6';
export const RELU6_GRAD = 'LwRelu6Grad';

interface Relu6Addon extends NativeAddon {
  relu6(x: Float32Array, y: Float32Array): void;
  relu6Grad(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
}

/** The two kernel configs (wasm) [LwRelu6, LwRelu6Grad]; throws when the addon is missing or predates them. */
export function makeNativeRelu6Kernels(): KernelConfig[] {
  const na = nativeAddon() as Relu6Addon | null;
  if (!na) throw new Error('native relu6: the addon is not loaded');
  if (typeof na.relu6 !== 'function') throw new Error('native relu6: the addon predates it; run `npm rebuild layerwise-native`');
  const forward = nativeKernelFunc((args) => {
    const x = args.inputs.x as TensorInfo;
    return { outputs: [x.shape], run: (h, [y]) => na.relu6(h(x), y) };
  });
  const backward = nativeKernelFunc((args) => {
    const { dy, x } = args.inputs as { dy: TensorInfo; x: TensorInfo };
    return { outputs: [x.shape], run: (h, [dx]) => na.relu6Grad(h(dy), h(x), dx) };
  });
  return [
    { kernelName: RELU6, backendName: 'wasm', kernelFunc: forward as unknown as KernelFunc },
    { kernelName: RELU6_GRAD, backendName: 'wasm', kernelFunc: backward as unknown as KernelFunc },
  ];
}

const relu6GradConfig: GradConfig = {
  kernelName: RELU6,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => ({ x: () => engine().runKernel(RELU6_GRAD, { dy: dy as Tensor, x: saved[0] }, {}) as Tensor }),
};

/** Whether LwRelu6 can run for x now: wasm backend, both kernels registered, float32. */
export function nativeRelu6Available(x: Tensor): boolean {
  return getBackend() === 'wasm' && x.dtype === 'float32' && !!getKernel(RELU6, 'wasm') && !!getKernel(RELU6_GRAD, 'wasm');
}

type ActivationClass = (new () => { apply(x: Tensor): Tensor }) & { className: string };

let installed = false;
/**
 * Register LwRelu6's gradient and replace tfjs-layers' 'relu6' activation class by one that
 * uses the kernel when `nativeRelu6Available(x)` (idempotent; registerEngineKernels calls it).
 */
export function installNativeRelu6(): void {
  if (installed) return;
  registerGradient(relu6GradConfig);
  const map = serialization.SerializationMap.getMap().classNameMap as unknown as Record<string, [ActivationClass, unknown]>;
  const Stock = map.relu6?.[0];
  if (!Stock) throw new Error("native relu6: tfjs-layers' relu6 activation is not registered");
  class NativeRelu6 extends Stock {
    static override className = 'relu6';
    override apply(x: Tensor): Tensor {
      return nativeRelu6Available(x) ? (engine().runKernel(RELU6, { x }, {}) as Tensor) : super.apply(x);
    }
  }
  serialization.registerClass(NativeRelu6 as unknown as serialization.SerializableConstructor<serialization.Serializable>);
  installed = true;
}
