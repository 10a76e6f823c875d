/**
 * Depthwise convolution on the wasm backend (MobileNet's layers; Howard et al. 2017,
 * "MobileNets", §3.1): each input channel c convolved with its own `depthMultiplier` filters,
 * output channel c·mult + m; filter [fh, fw, cin, mult], NHWC.
 *
 * tfjs-backend-wasm 4.22 has the forward kernel (XNNPACK, one thread) but neither gradient
 * (./dwconv-backprop.ts fills them in with plain JS loops). Here the three kernels run in the
 * `layerwise-native` addon (native/src/depthwise.cc, threaded; the formulas are there and in
 * ./dwconv-backprop.ts), registered over the wasm forward and those fill-ins, which stay the
 * fallback for a case the addon does not take (non-float32, NCHW, an empty tensor).
 */
import { backend_util, type KernelConfig, type KernelFunc, type TensorInfo, util } from '@tensorflow/tfjs-core';
import { convDimsOf, nativeAddon, nativeKernelFunc, type NativeAddon, type NativeCall } from './native';

export const DEPTHWISE = 'DepthwiseConv2dNative';
export const DEPTHWISE_GRAD_INPUT = 'DepthwiseConv2dNativeBackpropInput';
export const DEPTHWISE_GRAD_FILTER = 'DepthwiseConv2dNativeBackpropFilter';

type Args = { inputs: Record<string, TensorInfo | undefined>; backend: unknown; attrs: Record<string, unknown> };

/** The addon's depthwise entry points (native/src/binding.cc); dims as conv dims with cout = cin·mult. */
interface DepthwiseAddon extends NativeAddon {
  depthwiseConv2d(x: Float32Array, w: Float32Array, y: Float32Array, dims: Int32Array): void;
  /** Whether the register-tiled forward takes these dims (an older addon lacks it). */
  depthwiseVecOk?(dims: Int32Array): boolean;
  depthwiseConv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, dims: Int32Array): void;
  depthwiseConv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, dims: Int32Array): void;
}

/**
 * Depthwise geometry of input xShape [n, h, w, cin] and filter fShape [fh, fw, cin, mult]
 * under a depthwise kernel's attributes (strides, pad, dilations, dimRoundingMode); NHWC only.
 * @throws Error naming `kernel` for NCHW data.
 */
export function depthwiseInfo(kernel: string, xShape: number[], fShape: number[], attrs: Record<string, unknown>): backend_util.Conv2DInfo {
  const { strides, pad, dilations, dimRoundingMode, dataFormat } = attrs as any;
  if (backend_util.convertConv2DDataFormat(dataFormat ?? 'NHWC') !== 'channelsLast') throw new Error(`${kernel} (wasm): only NHWC is supported`);
  return backend_util.computeConv2DInfo(xShape as never, fShape as never, strides, dilations ?? 1, pad, dimRoundingMode, true, 'channelsLast');
}

const f32 = (...ts: (TensorInfo | undefined)[]): boolean => ts.every((t) => !!t && t.dtype === 'float32');
const nhwc = (attrs: Record<string, unknown>): boolean => backend_util.convertConv2DDataFormat((attrs.dataFormat as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC') === 'channelsLast';
const nonEmpty = (...shapes: number[][]): boolean => shapes.every((s) => s.length === 4 && util.sizeFromShape(s) > 0);

/** The addon call of each depthwise kernel (null: not covered, the wrapped kernel runs). */
const PLANS: Record<string, (na: DepthwiseAddon, args: Args) => NativeCall | null> = {
  [DEPTHWISE]: (na, { inputs, attrs }) => {
    const { x, filter } = inputs;
    if (!x || !filter || !f32(x, filter) || !nhwc(attrs) || !nonEmpty(x.shape, filter.shape)) return null;
    const info = depthwiseInfo(DEPTHWISE, x.shape, filter.shape, attrs);
    if (info.outHeight <= 0 || info.outWidth <= 0) return null;
    const dims = convDimsOf(info);
    // Under 16 output channels the per-tap loop fills less than one zmm vector: wasm's XNNPACK forward was faster
    // there (M4's first block, 64×64×64×8: 6.7–7.9 vs 14.8–16.6 ms), unless the register-tiled forward takes the
    // case (then 8.5 → ≈ 1.3 ms on that shape; bench/kernels-ab.ts).
    if (info.outChannels < 16 && !na.depthwiseVecOk?.(dims)) return null;
    return { outputs: [info.outShape], run: (h, [y]) => na.depthwiseConv2d(h(x), h(filter), y, dims) };
  },
  [DEPTHWISE_GRAD_INPUT]: (na, { inputs, attrs }) => {
    const { dy, filter } = inputs;
    const inputShape = attrs.inputShape as number[];
    if (!dy || !filter || !f32(dy, filter) || !nhwc(attrs) || !nonEmpty(dy.shape, filter.shape, inputShape)) return null;
    const info = depthwiseInfo(DEPTHWISE_GRAD_INPUT, inputShape, filter.shape, attrs);
    return { outputs: [inputShape], run: (h, [dx]) => na.depthwiseConv2dBackpropInput(h(dy), h(filter), dx, convDimsOf(info)) };
  },
  [DEPTHWISE_GRAD_FILTER]: (na, { inputs, attrs }) => {
    const { x, dy } = inputs;
    const filterShape = attrs.filterShape as number[];
    if (!x || !dy || !f32(x, dy) || !nhwc(attrs) || !nonEmpty(x.shape, dy.shape, filterShape)) return null;
    const info = depthwiseInfo(DEPTHWISE_GRAD_FILTER, x.shape, filterShape, attrs);
    return { outputs: [filterShape], run: (h, [dw]) => na.depthwiseConv2dBackpropFilter(h(x), h(dy), dw, convDimsOf(info)) };
  },
};

/**
 * The native config of a depthwise kernel, wrapping `inner` (the kernel registered before it:
 * the wasm forward, or the fill-in gradient above), which runs for cases the addon does not take.
 * @throws Error when the addon is not loaded or `kernelName` is not a depthwise kernel.
 */
export function makeNativeDepthwiseKernel(kernelName: string, inner: KernelConfig): KernelConfig {
  const na = nativeAddon() as DepthwiseAddon | null;
  if (!na) throw new Error('native depthwise kernels: the addon is not loaded');
  if (typeof na.depthwiseConv2d !== 'function') throw new Error('native depthwise kernels: the addon predates them; run `npm rebuild layerwise-native`');
  const plan = PLANS[kernelName];
  if (!plan) throw new Error(`native depthwise kernels: no native ${kernelName}`);
  const fallback = (args: Args): TensorInfo => inner.kernelFunc(args as never) as TensorInfo;
  const kernelFunc = nativeKernelFunc((args) => plan(na, args), fallback);
  return { kernelName, backendName: 'wasm', setupFunc: inner.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
