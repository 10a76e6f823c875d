/**
 * Native CPU kernels for the wasm backend, from the `layerwise-native` N-API addon
 * (native/src/: packed SGEMM in the BLIS scheme, blocked im2col convolution and both its
 * gradients, a persistent std::thread pool). They read and write the
 * wasm heap in place through Float32Array views, so no tensor is copied.
 *
 * Registered over: Conv2D, FusedConv2D (linear / relu), Conv2DBackpropInput,
 * Conv2DBackpropFilter, BatchMatMul, _FusedMatMul (linear / relu), and Sum / Mean over a
 * contiguous run of axes with double accumulation (batch-norm gradients need it), Tile
 * (the batch-norm gradient broadcasts with it; the wasm one took 58 % of an M2 step), MaxPool and
 * MaxPoolGrad (NHWC, threaded), Add of two same-shape tensors, of a scalar or of a bias over the last axis (threaded), FusedBatchNorm (per-channel statistics over the last axis,
 * threaded; training-mode batch norm and its gradient are separate kernels, ./batch-norm.ts). Anything they do not
 * cover (NCHW, other activations, PReLU weights, odd broadcasts, empty tensors) goes to
 * the kernel they wrap: ours in ./ or tfjs-backend-wasm's built-in. When the addon is
 * missing (not built) or LAYERWISE_NATIVE=0, nothing is registered and the pure-wasm
 * kernels run.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { backend_util, type KernelConfig, type KernelFunc, type TensorInfo, util } from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './conv2d-backprop-filter';

/** The addon's functions (native/src/binding.cc). All arrays are float32 views; dims Int32Array. */
export interface NativeAddon {
  /** y = act(conv(x, w) + bias); dims [n,h,w,cin,oh,ow,cout,fh,fw,sh,sw,top,left,dh,dw]; act 0 linear, 1 relu. */
  conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, dims: Int32Array, act: number): void;
  /** dx = col2im(dy · Wᵀ); same dims. */
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, dims: Int32Array): void;
  /** dW = im2col(x)ᵀ · dy; same dims. */
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, dims: Int32Array): void;
  /** c[b] = act(op(a[b])·op(b[b]) + bias); dims [batch, m, n, k, transposeA, transposeB, aBatched, bBatched, act]. */
  matmul(a: Float32Array, b: Float32Array, c: Float32Array, bias: Float32Array | null, dims: Int32Array): void;
  /** out[a, b] = Σ_r x[a, r, b] (mean: / R), accumulated in double. */
  reduce(x: Float32Array, out: Float32Array, A: number, R: number, B: number, mean: boolean): void;
  /** out = x repeated reps[d] times along each axis d (tf.tile); shapes as Int32Arrays. */
  tile(x: Float32Array, out: Float32Array, xShape: Int32Array, reps: Int32Array): void;
  /**
   * The inference executor (src/engine/infer.ts; layout native/src/infer.h): ops [from, to) of a plan on the first n images of x.
   * desc: 24 ints per op — kind, act, in0 / in1 / out slots (in1 −1 unless add), flags (1: a conv fusable with the max pool after it),
   * leaky-relu slope as float bits, then the op's dims; params: [w, bias | null] per op; slotSizes: floats per image of each slot
   * (0 the input x, 1 the output y); chunk: images per task (0: chosen from n and the thread count); slots: null for the one-call
   * executor (thread-local scratch), or a Float32Array (≥ n · slotSizes[s]) per scratch slot s ≥ 2 to run each op over the whole batch.
   */
  inferRun?(x: Float32Array, y: Float32Array, n: number, desc: Int32Array, params: (Float32Array | null)[], slotSizes: Int32Array, chunk: number, slots: (Float32Array | null)[] | null, from: number, to: number): void;
  /** The plan layout inferRun reads (2: graph plans over slots; absent in older builds). */
  inferVersion?(): number;
  /** y = max-pool(x), NHWC; dims [n,h,w,c,oh,ow,fh,fw,sh,sw,top,left]. */
  maxPool(x: Float32Array, y: Float32Array, dims: Int32Array): void;
  /** dx = the max-pool gradient (dy routed to each window's first maximum of x); same dims. */
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, dims: Int32Array): void;
  /** Training batch norm over rows of x [M, C]: y, per-channel mean, biased variance, invstd = 1/√(var + ε); double sums. */
  batchNormTrain(x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, y: Float32Array, mean: Float32Array, variance: Float32Array, invstd: Float32Array, M: number, C: number, eps: number): void;
  /** Its gradient: dx, dγ = Σdy·x̂, dβ = Σdy (dmean / dvar: gradients reaching the mean / variance outputs, or null). */
  batchNormTrainGrad(
    x: Float32Array,
    dy: Float32Array,
    gamma: Float32Array | null,
    mean: Float32Array,
    invstd: Float32Array,
    dmean: Float32Array | null,
    dvar: Float32Array | null,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    M: number,
    C: number,
  ): void;
  /** Inference batch norm with given statistics: y = (x − mean)·γ/√(var + ε) + β over rows of x [M, C]. */
  batchNormInference(x: Float32Array, mean: Float32Array, variance: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, y: Float32Array, M: number, C: number, eps: number): void;
  /** y = a + b: b of a's size, or of size 1 (added to every element); absent in older builds. */
  add?(a: Float32Array, b: Float32Array, y: Float32Array): void;
  /** y[r, c] = a[r, c] + bias[c], C = bias.length (a's length a multiple of it); absent in older builds. */
  addBias?(a: Float32Array, bias: Float32Array, y: Float32Array): void;
  /** Set the worker-thread count (clamped to 1…256); returns it. */
  setThreads(n: number): number;
  threads(): number;
  /** The vector ISA the addon was compiled for. */
  simd(): string;
}

let addon: NativeAddon | null | undefined;
let loadError = '';

/**
 * The addon, loaded once, or null (then `nativeLoadError()` says why). Disabled by
 * LAYERWISE_NATIVE=0. The thread count is set from `threadSetting()` on load.
 */
export function nativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  if (process.env.LAYERWISE_NATIVE === '0') {
    loadError = 'disabled by LAYERWISE_NATIVE=0';
    return (addon = null);
  }
  try {
    const req = createRequire(typeof __filename === 'string' ? __filename : `${process.cwd()}${sep}index.js`);
    addon = req('layerwise-native') as NativeAddon;
    addon.setThreads(threadSetting());
  } catch (e) {
    loadError = `layerwise-native is not built (${(e as Error).message.split('\n')[0]}); run \`npm rebuild layerwise-native\``;
    addon = null;
  }
  return addon;
}

/** Why the addon is not in use ('' when it is). */
export function nativeLoadError(): string {
  nativeAddon();
  return loadError;
}

/**
 * Threads for the CPU kernels: env LAYERWISE_THREADS (a positive integer) when set, else
 * every core this process may use (os.availableParallelism()).
 * @throws Error when LAYERWISE_THREADS is set but not a positive integer.
 */
export function threadSetting(): number {
  const env = process.env.LAYERWISE_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`LAYERWISE_THREADS must be a positive integer, not "${env}"`);
    return n;
  }
  return availableParallelism();
}

/** Set the CPU kernels' thread count (an engine option overriding the env); returns the count in use (1 without the addon). */
export function setNativeThreads(n: number): number {
  const a = nativeAddon();
  return a ? a.setThreads(n) : 1;
}

type Args = { inputs: Record<string, TensorInfo | undefined>; backend: unknown; attrs: Record<string, unknown> };

/** Views of the wasm heap: a tensor's data as a Float32Array (in place), null for a missing optional input. */
export interface HeapView {
  (t: TensorInfo): Float32Array;
  (t: TensorInfo | undefined): Float32Array | null;
}

/** What a native kernel runs once its checks pass: float32 output shapes and the addon call. */
export interface NativeCall {
  /** The shapes of the outputs, in order (each made on the wasm heap before `run`). */
  outputs: number[][];
  /** Call the addon: `h(t)` views an input on the heap, `out` the outputs' views in order. */
  run(h: HeapView, out: Float32Array[]): void;
}

/**
 * A wasm kernel function around the addon: `plan` checks inputs and attributes and returns
 * the call, or null when the addon does not cover the case (then `fallback` runs; without
 * one, plan must not return null); the outputs are made on the wasm heap, the addon writes
 * them in place. One output → that TensorInfo, several → the array.
 * @throws Error when plan returns null and there is no fallback.
 */
export function nativeKernelFunc(plan: (args: Args) => NativeCall | null, fallback?: (args: Args) => TensorInfo): (args: Args) => TensorInfo | TensorInfo[] {
  return (args) => {
    const call = plan(args);
    if (!call) {
      if (!fallback) throw new Error('native kernel: case not covered and no fallback');
      return fallback(args);
    }
    const backend = args.backend as WasmBackendLike;
    const h = ((t: TensorInfo | undefined) => (t ? backend.typedArrayFromHeap(t) : null)) as HeapView;
    const outs = call.outputs.map((shape) => backend.makeOutput(shape, 'float32'));
    call.run(h, outs.map((o) => h(o)));
    return outs.length === 1 ? outs[0] : outs;
  };
}

function isNhwc(attrs: Record<string, unknown>): boolean {
  return backend_util.convertConv2DDataFormat((attrs.dataFormat as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC') === 'channelsLast';
}

/** [n, h, w, c, oh, ow]: the sizes both dims layouts start with. */
const sizeDims = (i: backend_util.Conv2DInfo): number[] => [i.batchSize, i.inHeight, i.inWidth, i.inChannels, i.outHeight, i.outWidth];
/** [fh, fw, sh, sw, top, left]: the window both dims layouts share. */
const windowDims = (i: backend_util.Conv2DInfo): number[] => [i.filterHeight, i.filterWidth, i.strideHeight, i.strideWidth, i.padInfo.top, i.padInfo.left];

/** Conv dims for the addon: [n,h,w,cin,oh,ow,cout,fh,fw,sh,sw,top,left,dh,dw] (native/src/kernels.h `Conv`). */
export function convDimsOf(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([...sizeDims(info), info.outChannels, ...windowDims(info), info.dilationHeight, info.dilationWidth]);
}

/** Max-pool dims for the addon: [n,h,w,c,oh,ow,fh,fw,sh,sw,top,left] (native/src/kernels.h `Pool2`). */
export function poolDimsOf(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([...sizeDims(info), ...windowDims(info)]);
}

const allF32 = (...ts: (TensorInfo | undefined)[]): boolean => ts.every((t) => !t || t.dtype === 'float32');
const nonEmpty = (...shapes: number[][]): boolean => shapes.every((s) => util.sizeFromShape(s) > 0);
const actCode = (a: unknown): number => (a === undefined || a === 'linear' ? 0 : a === 'relu' ? 1 : -1);

/** NHWC conv geometry of input xShape and filter fShape under a conv kernel's attributes (strides, pad, dimRoundingMode; dilations only for the forward kernels). */
function convInfoOf(xShape: number[], fShape: number[], attrs: Record<string, unknown>, dilations: number | [number, number] = 1): backend_util.Conv2DInfo {
  const { strides, pad, dimRoundingMode } = attrs as any;
  return backend_util.computeConv2DInfo(xShape as never, fShape as never, strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
}

/** Whether `bias` broadcasts over `x` along its last axis only: rank ≤ x's, every dim 1 but the last, which is x's last. */
function isBiasOf(bias: TensorInfo, x: TensorInfo): boolean {
  const r = bias.shape.length;
  const c = x.shape[x.shape.length - 1];
  return r >= 1 && r <= x.shape.length && bias.shape[r - 1] === c && bias.shape.slice(0, -1).every((d) => d === 1);
}

/** The NativeCall of each kernel the addon covers (null: not this case), given the addon. */
const PLANS: Record<string, (na: NativeAddon, args: Args, kernelName: string) => NativeCall | null> = {
  Conv2D: (na, args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    const act = actCode(args.attrs.activation);
    if (!isNhwc(args.attrs) || act < 0 || preluActivationWeights || !allF32(x, filter, bias) || !nonEmpty(x.shape, filter.shape)) return null;
    const info = convInfoOf(x.shape, filter.shape, args.attrs, (args.attrs.dilations as number | [number, number] | undefined) ?? 1);
    if (bias && util.sizeFromShape(bias.shape) !== info.outChannels) return null;
    if (info.outHeight <= 0 || info.outWidth <= 0) return null;
    return { outputs: [info.outShape], run: (h, [y]) => na.conv2d(h(x), h(filter), h(bias), y, convDimsOf(info), act) };
  },
  Conv2DBackpropInput: (na, args) => {
    const { dy, filter } = args.inputs as Record<string, TensorInfo>;
    const inputShape = args.attrs.inputShape as number[];
    if (!isNhwc(args.attrs) || !allF32(dy, filter) || !nonEmpty(dy.shape, filter.shape, inputShape)) return null;
    const info = convInfoOf(inputShape, filter.shape, args.attrs);
    return { outputs: [inputShape], run: (h, [dx]) => na.conv2dBackpropInput(h(dy), h(filter), dx, convDimsOf(info)) };
  },
  Conv2DBackpropFilter: (na, args) => {
    const { x, dy } = args.inputs as Record<string, TensorInfo>;
    const filterShape = args.attrs.filterShape as number[];
    if (!isNhwc(args.attrs) || !allF32(x, dy) || !nonEmpty(x.shape, dy.shape, filterShape)) return null;
    const info = convInfoOf(x.shape, filterShape, args.attrs);
    return { outputs: [filterShape], run: (h, [dw]) => na.conv2dBackpropFilter(h(x), h(dy), dw, convDimsOf(info)) };
  },
  BatchMatMul: (na, args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const act = actCode(args.attrs.activation);
    if (act < 0 || preluActivationWeights || !allF32(a, b, bias) || a.shape.length < 2 || b.shape.length < 2) return null;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const k2 = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const batchA = a.shape.slice(0, -2);
    const batchB = b.shape.slice(0, -2);
    const ba = util.sizeFromShape(batchA);
    const bb = util.sizeFromShape(batchB);
    // Same batch dims, or one side without batch (size 1): anything else goes to the built-in.
    const sameBatch = batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i]);
    if (k !== k2 || !(sameBatch || ba === 1 || bb === 1) || m * n * Math.max(ba, bb) === 0) return null;
    if (bias && (util.sizeFromShape(bias.shape) !== n || bias.shape[bias.shape.length - 1] !== n)) return null;
    const batch = Math.max(ba, bb);
    const outBatch = sameBatch ? batchA : ba >= bb ? batchA : batchB;
    const dims = Int32Array.from([batch, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0, ba > 1 ? 1 : 0, bb > 1 ? 1 : 0, act]);
    const run = (h: HeapView, [c]: Float32Array[]): void => {
      if (k === 0) c.fill(0);
      else na.matmul(h(a), h(b), c, h(bias), dims);
    };
    return { outputs: [[...outBatch, m, n]], run };
  },
  Sum: (na, args, kernelName) => {
    const { x } = args.inputs as Record<string, TensorInfo>;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    if (x.dtype !== 'float32' || x.shape.length === 0) return null;
    const axes = [...new Set(util.parseAxisParam(axis, x.shape))].sort((p, q) => p - q);
    // Only a contiguous run of axes: x viewed as [A, R, B], reducing R.
    if (axes.length === 0 || axes.some((v, i) => v !== axes[0] + i)) return null;
    const A = util.sizeFromShape(x.shape.slice(0, axes[0]));
    const R = util.sizeFromShape(x.shape.slice(axes[0], axes[axes.length - 1] + 1));
    const B = util.sizeFromShape(x.shape.slice(axes[axes.length - 1] + 1));
    if (A * R * B === 0) return null;
    const shape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    return { outputs: [shape], run: (h, [out]) => na.reduce(h(x), out, A, R, B, kernelName === 'Mean') };
  },
  Tile: (na, args) => {
    const { x } = args.inputs as Record<string, TensorInfo>;
    const reps = args.attrs.reps as number[];
    if (x.dtype !== 'float32' || x.shape.length === 0 || x.shape.length > 8 || reps.length !== x.shape.length) return null;
    const shape = x.shape.map((d, i) => d * reps[i]);
    const run = (h: HeapView, [out]: Float32Array[]): void => {
      if (util.sizeFromShape(shape) > 0) na.tile(h(x), out, Int32Array.from(x.shape), Int32Array.from(reps));
    };
    return { outputs: [shape], run };
  },
  MaxPool: (na, args) => {
    const { x } = args.inputs as Record<string, TensorInfo>;
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as any;
    if (x.dtype !== 'float32' || x.shape.length !== 4 || !nonEmpty(x.shape)) return null;
    const info = backend_util.computePool2DInfo(x.shape as never, filterSize, strides, 1, pad, dimRoundingMode);
    if (info.outHeight <= 0 || info.outWidth <= 0) return null;
    return { outputs: [info.outShape], run: (h, [y]) => na.maxPool(h(x), y, poolDimsOf(info)) };
  },
  MaxPoolGrad: (na, args) => {
    const { dy, input } = args.inputs as Record<string, TensorInfo>;
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as any;
    if (!allF32(dy, input) || input.shape.length !== 4 || !nonEmpty(input.shape, dy.shape)) return null;
    const info = backend_util.computePool2DInfo(input.shape as never, filterSize, strides, 1, pad, dimRoundingMode);
    return { outputs: [input.shape], run: (h, [dx]) => na.maxPoolGrad(h(dy), h(input), dx, poolDimsOf(info)) };
  },
  Add: (na, args) => {
    const { a, b } = args.inputs as Record<string, TensorInfo>;
    // Same shapes (residual merges, autograd's gradient sums) or one side a single element (Adam's
    // √v̂ + ε: the wasm kernel's broadcast path is slow); other broadcasts go to the wasm kernel.
    if (!na.add || !allF32(a, b) || !nonEmpty(a.shape, b.shape)) return null;
    const add = na.add.bind(na);
    if (util.arraysEqual(a.shape, b.shape)) return { outputs: [a.shape], run: (h, [y]) => add(h(a), h(b), y) };
    const [big, one] = util.sizeFromShape(b.shape) === 1 ? [a, b] : util.sizeFromShape(a.shape) === 1 ? [b, a] : [null, null];
    if (big && one) return { outputs: [backend_util.assertAndGetBroadcastShape(a.shape, b.shape)], run: (h, [y]) => add(h(big), h(one), y) };
    // A bias over the last axis (tfjs-layers' conv / dense bias under autograd: x + reshape(bias, [1, …, C])).
    const [x, bias] = isBiasOf(b, a) ? [a, b] : isBiasOf(a, b) ? [b, a] : [null, null];
    if (!x || !bias || !na.addBias) return null;
    const addBias = na.addBias.bind(na);
    return { outputs: [x.shape], run: (h, [y]) => addBias(h(x), h(bias), y) };
  },
  FusedBatchNorm: (na, args) => {
    const { x, mean, variance, offset, scale } = args.inputs;
    if (!x || !mean || !variance || !allF32(x, mean, variance, offset, scale) || x.shape.length === 0 || !nonEmpty(x.shape)) return null;
    const C = x.shape[x.shape.length - 1];
    // Per-channel parameters only (size C, last dim C); any other broadcast goes to the wasm kernel.
    const perChannel = (t: TensorInfo | undefined): boolean => !t || (util.sizeFromShape(t.shape) === C && t.shape[t.shape.length - 1] === C);
    if (![mean, variance, offset, scale].every(perChannel)) return null;
    const eps = (args.attrs.varianceEpsilon as number | undefined) ?? 0.001;
    return { outputs: [x.shape], run: (h, [y]) => na.batchNormInference(h(x), h(mean), h(variance), h(scale), h(offset), y, util.sizeFromShape(x.shape) / C, C, eps) };
  },
};
/** Kernels that share a plan: the fused conv / matmul take the plain ones' checks (their extra inputs and attributes included), Mean is Sum with a division. */
const SAME_PLAN: Record<string, string> = { FusedConv2D: 'Conv2D', _FusedMatMul: 'BatchMatMul', Mean: 'Sum' };

/** Build the native config of `kernelName`, wrapping `inner` (the kernel registered before it, the fallback). */
export function makeNativeKernel(kernelName: string, inner: KernelConfig): KernelConfig {
  const na = nativeAddon();
  if (!na) throw new Error(`native kernels: ${loadError}`);
  const plan = PLANS[SAME_PLAN[kernelName] ?? kernelName];
  if (!plan) throw new Error(`native kernels: no native ${kernelName}`);
  const fallback = (args: Args): TensorInfo => inner.kernelFunc(args as never) as TensorInfo;
  const kernelFunc = nativeKernelFunc((args) => plan(na, args, kernelName), fallback);
  return { kernelName, backendName: 'wasm', setupFunc: inner.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
