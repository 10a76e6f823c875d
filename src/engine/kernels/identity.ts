/**
 * `Identity` for the wasm backend without a copy: the output shares the input's data, with
 * the backend's reference count raised (what tfjs' cpu backend does, and what the wasm
 * backend's own Reshape does). tfjs tensors are immutable and every kernel writes only its
 * fresh outputs, so sharing is safe; the data is freed when the last tensor on it is.
 *
 * The wasm built-in copies: tfjs' autograd clones every tensor a gradient saves through
 * Identity, so a MobileNet v1 0.25 training step at 128×128 (bench M4) spent ≈ 0.3 s of ≈ 3 s
 * copying (single-threaded), ResNet-20 (M3) ≈ 20 ms.
 * Strings keep the built-in (they do not live on the heap).
 */
import { Identity, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

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
