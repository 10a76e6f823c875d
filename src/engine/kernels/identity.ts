/**
 * `Identity` for the wasm backend without a copy: the output shares the input's data, with
 * the backend's reference count raised (what tfjs' cpu backend does, and what the wasm
 * backend's own Reshape does). tfjs tensors are immutable and every kernel writes only its
 * fresh outputs, so sharing is safe; the data is freed when the last tensor on it is.
 *
 * The wasm built-in copies: tfjs' autograd clones every tensor a gradient saves through
 * Identity, so a MobileNet v1 0.25 training step at 128×128 (bench M4) spent ≈ 0.3 s of ≈ 3 s
 * copying (single-threaded), ResNet-20 (M3) ≈ 20 ms.
 * Strings keep the built-in (they do not live on the heap). `Cast` to the same dtype likewise (makeCastWasm).
 */
import { Cast, Identity, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

interface RefCountingBackend {
  incRef(dataId: object): void;
}

/** The zero-copy Identity config over `builtIn` (kept for string tensors). */
export function makeIdentityWasm(builtIn: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; backend: unknown; attrs: Record<string, unknown> }): TensorInfo => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return builtIn.kernelFunc(args as never) as TensorInfo;
    (args.backend as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
  return { kernelName: Identity, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * `Cast` for the wasm backend: to its own dtype it shares the input's data as Identity above (what
 * tfjs' cpu backend does: its Cast to the same dtype is an identity); every other cast is the
 * built-in's. The gradient of Identity is such a cast (dy to float32), so every clone on the
 * gradient path (e.g. a layer that returns its input) copied its whole map again.
 */
export function makeCastWasm(builtIn: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; backend: unknown; attrs: Record<string, unknown> }): TensorInfo => {
    const { x } = args.inputs;
    if (x.dtype === 'string' || args.attrs.dtype !== x.dtype) return builtIn.kernelFunc(args as never) as TensorInfo;
    (args.backend as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
  return { kernelName: Cast, backendName: 'wasm', setupFunc: builtIn.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
