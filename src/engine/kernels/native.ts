/**
 * Native CPU kernels for the wasm backend, from the `layerwise-native` N-API addon
 * (native/src/layerwise_native.cc: packed SGEMM in the BLIS scheme, blocked im2col
 * convolution and both its gradients, std::thread parallelism). They read and write the
 * wasm heap in place through Float32Array views, so no tensor is copied.
 *
 * Registered over: Conv2D, FusedConv2D (linear / relu), Conv2DBackpropInput,
 * Conv2DBackpropFilter, BatchMatMul, _FusedMatMul (linear / relu), and Sum / Mean over a
 * contiguous run of axes with double accumulation (batch-norm gradients need it), Tile
 * (the batch-norm gradient broadcasts with it; the wasm one took 58 % of an M2 step), MaxPool and
 * MaxPoolGrad (NHWC, threaded), FusedBatchNorm (per-channel statistics over the last axis,
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

/** The addon's functions (native/src/layerwise_native.cc). All arrays are float32 views; dims Int32Array. */
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
   * The inference executor (src/engine/infer.ts): y = the plan applied to the first n images of x, in one call.
   * desc: 20 ints per op — [0 conv, act, …conv dims (n ignored)], [1 max pool, 0, …pool dims (n ignored)], [2 dense, act, k, units];
   * params: [w, bias | null] per op (null, null for a pool); chunk: images per task (0: chosen from n and the thread count).
   */
  inferRun?(x: Float32Array, y: Float32Array, n: number, desc: Int32Array, params: (Float32Array | null)[], chunk: number): void;
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

function isNhwc(attrs: Record<string, unknown>): boolean {
  return backend_util.convertConv2DDataFormat((attrs.dataFormat as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC') === 'channelsLast';
}

function dimsOf(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.dilationHeight,
    info.dilationWidth,
  ]);
}

/** Max-pool dims for the addon: [n,h,w,c,oh,ow,fh,fw,sh,sw,top,left]. */
export function poolDimsOf(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ]);
}

const allF32 = (...ts: (TensorInfo | undefined)[]): boolean => ts.every((t) => !t || t.dtype === 'float32');
const nonEmpty = (...shapes: number[][]): boolean => shapes.every((s) => util.sizeFromShape(s) > 0);
const actCode = (a: unknown): number => (a === undefined || a === 'linear' ? 0 : a === 'relu' ? 1 : -1);

/** Build the native configs, each wrapping `inner` (the kernel registered before it). */
export function makeNativeKernel(kernelName: string, inner: KernelConfig): KernelConfig {
  const na = nativeAddon();
  if (!na) throw new Error(`native kernels: ${loadError}`);
  const fallback = (args: Args): TensorInfo => inner.kernelFunc(args as never) as TensorInfo;
  let kernelFunc: (args: Args) => TensorInfo;
  switch (kernelName) {
    case 'Conv2D':
    case 'FusedConv2D':
      kernelFunc = (args) => {
        const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo>;
        const act = actCode(args.attrs.activation);
        if (!isNhwc(args.attrs) || act < 0 || preluActivationWeights || !allF32(x, filter, bias) || !nonEmpty(x.shape, filter.shape)) return fallback(args);
        const { strides, pad, dilations, dimRoundingMode } = args.attrs as any;
        const info = backend_util.computeConv2DInfo(x.shape as never, filter.shape as never, strides, dilations ?? 1, pad, dimRoundingMode, false, 'channelsLast');
        if (bias && util.sizeFromShape(bias.shape) !== info.outChannels) return fallback(args);
        if (info.outHeight <= 0 || info.outWidth <= 0) return fallback(args);
        const backend = args.backend as WasmBackendLike;
        const out = backend.makeOutput(info.outShape, 'float32');
        na.conv2d(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(filter), bias ? backend.typedArrayFromHeap(bias) : null, backend.typedArrayFromHeap(out), dimsOf(info), act);
        return out;
      };
      break;
    case 'Conv2DBackpropInput':
      kernelFunc = (args) => {
        const { dy, filter } = args.inputs as Record<string, TensorInfo>;
        const { strides, pad, dimRoundingMode, inputShape } = args.attrs as any;
        if (!isNhwc(args.attrs) || !allF32(dy, filter) || !nonEmpty(dy.shape, filter.shape, inputShape)) return fallback(args);
        const info = backend_util.computeConv2DInfo(inputShape, filter.shape as never, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
        const backend = args.backend as WasmBackendLike;
        const out = backend.makeOutput(inputShape, 'float32');
        na.conv2dBackpropInput(backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(filter), backend.typedArrayFromHeap(out), dimsOf(info));
        return out;
      };
      break;
    case 'Conv2DBackpropFilter':
      kernelFunc = (args) => {
        const { x, dy } = args.inputs as Record<string, TensorInfo>;
        const { strides, pad, dimRoundingMode, filterShape } = args.attrs as any;
        if (!isNhwc(args.attrs) || !allF32(x, dy) || !nonEmpty(x.shape, dy.shape, filterShape)) return fallback(args);
        const info = backend_util.computeConv2DInfo(x.shape as never, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
        const backend = args.backend as WasmBackendLike;
        const out = backend.makeOutput(filterShape, 'float32');
        na.conv2dBackpropFilter(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(out), dimsOf(info));
        return out;
      };
      break;
    case 'BatchMatMul':
    case '_FusedMatMul':
      kernelFunc = (args) => {
        const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo>;
        const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
        const act = actCode(args.attrs.activation);
        if (act < 0 || preluActivationWeights || !allF32(a, b, bias) || a.shape.length < 2 || b.shape.length < 2) return fallback(args);
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
        if (k !== k2 || !(sameBatch || ba === 1 || bb === 1) || m * n * Math.max(ba, bb) === 0) return fallback(args);
        if (bias && (util.sizeFromShape(bias.shape) !== n || bias.shape[bias.shape.length - 1] !== n)) return fallback(args);
        const batch = Math.max(ba, bb);
        const outBatch = sameBatch ? batchA : ba >= bb ? batchA : batchB;
        const backend = args.backend as WasmBackendLike;
        const out = backend.makeOutput([...outBatch, m, n], 'float32');
        if (k === 0) {
          backend.typedArrayFromHeap(out).fill(0);
          return out;
        }
        na.matmul(
          backend.typedArrayFromHeap(a),
          backend.typedArrayFromHeap(b),
          backend.typedArrayFromHeap(out),
          bias ? backend.typedArrayFromHeap(bias) : null,
          Int32Array.from([batch, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0, ba > 1 ? 1 : 0, bb > 1 ? 1 : 0, act]),
        );
        return out;
      };
      break;
    case 'Sum':
    case 'Mean':
      kernelFunc = (args) => {
        const { x } = args.inputs as Record<string, TensorInfo>;
        const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
        if (x.dtype !== 'float32' || x.shape.length === 0) return fallback(args);
        const axes = [...new Set(util.parseAxisParam(axis, x.shape))].sort((p, q) => p - q);
        // Only a contiguous run of axes: x viewed as [A, R, B], reducing R.
        if (axes.length === 0 || axes.some((v, i) => v !== axes[0] + i)) return fallback(args);
        const A = util.sizeFromShape(x.shape.slice(0, axes[0]));
        const R = util.sizeFromShape(x.shape.slice(axes[0], axes[axes.length - 1] + 1));
        const B = util.sizeFromShape(x.shape.slice(axes[axes.length - 1] + 1));
        if (A * R * B === 0) return fallback(args);
        const shape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
        const backend = args.backend as WasmBackendLike;
        const out = backend.makeOutput(shape, 'float32');
        na.reduce(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), A, R, B, kernelName === 'Mean');
        return out;
      };
      break;
    case 'Tile':
      kernelFunc = (args) => {
        const { x } = args.inputs as Record<string, TensorInfo>;
        const reps = args.attrs.reps as number[];
        if (x.dtype !== 'float32' || x.shape.length === 0 || x.shape.length > 8 || reps.length !== x.shape.length) return fallback(args);
        const shape = x.shape.map((d, i) => d * reps[i]);
        const backend = args.backend as WasmBackendLike;
        const out = backend.makeOutput(shape, 'float32');
        if (util.sizeFromShape(shape) > 0) na.tile(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), Int32Array.from(x.shape), Int32Array.from(reps));
        return out;
      };
      break;
    case 'MaxPool':
      kernelFunc = (args) => {
        const { x } = args.inputs as Record<string, TensorInfo>;
        const { filterSize, strides, pad, dimRoundingMode } = args.attrs as any;
        if (x.dtype !== 'float32' || x.shape.length !== 4 || !nonEmpty(x.shape)) return fallback(args);
        const info = backend_util.computePool2DInfo(x.shape as never, filterSize, strides, 1, pad, dimRoundingMode);
        if (info.outHeight <= 0 || info.outWidth <= 0) return fallback(args);
        const backend = args.backend as WasmBackendLike;
        const out = backend.makeOutput(info.outShape, 'float32');
        na.maxPool(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), poolDimsOf(info));
        return out;
      };
      break;
    case 'MaxPoolGrad':
      kernelFunc = (args) => {
        const { dy, input } = args.inputs as Record<string, TensorInfo>;
        const { filterSize, strides, pad, dimRoundingMode } = args.attrs as any;
        if (!allF32(dy, input) || input.shape.length !== 4 || !nonEmpty(input.shape, dy.shape)) return fallback(args);
        const info = backend_util.computePool2DInfo(input.shape as never, filterSize, strides, 1, pad, dimRoundingMode);
        const backend = args.backend as WasmBackendLike;
        const out = backend.makeOutput(input.shape, 'float32');
        na.maxPoolGrad(backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(input), backend.typedArrayFromHeap(out), poolDimsOf(info));
        return out;
      };
      break;
    case 'FusedBatchNorm':
      kernelFunc = (args) => {
        const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
        if (!x || !mean || !variance || !allF32(x, mean, variance, offset, scale) || x.shape.length === 0 || !nonEmpty(x.shape)) return fallback(args);
        const C = x.shape[x.shape.length - 1];
        // Per-channel parameters only (size C, last dim C); any other broadcast goes to the wasm kernel.
        const perChannel = (t: TensorInfo | undefined): boolean => !t || (util.sizeFromShape(t.shape) === C && t.shape[t.shape.length - 1] === C);
        if (![mean, variance, offset, scale].every(perChannel)) return fallback(args);
        const backend = args.backend as WasmBackendLike;
        const out = backend.makeOutput(x.shape, 'float32');
        const h = (t: TensorInfo | undefined): Float32Array | null => (t ? backend.typedArrayFromHeap(t) : null);
        na.batchNormInference(h(x)!, h(mean)!, h(variance)!, h(scale), h(offset), h(out)!, util.sizeFromShape(x.shape) / C, C, (args.attrs.varianceEpsilon as number | undefined) ?? 0.001);
        return out;
      };
      break;
    default:
      throw new Error(`native kernels: no native ${kernelName}`);
  }
  return { kernelName, backendName: 'wasm', setupFunc: inner.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
