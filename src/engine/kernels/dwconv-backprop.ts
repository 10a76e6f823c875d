/**
 * `DepthwiseConv2dNativeBackpropInput` and `DepthwiseConv2dNativeBackpropFilter` for the wasm
 * backend, which tfjs-backend-wasm 4.22 lacks (a depthwiseConv2d layer cannot train without
 * them). Plain loops over the wasm heap, accumulated in float64: the correctness fill-in,
 * used when the native addon is missing or does not cover a case (the addon's kernels, when
 * registered, wrap these as their fallback).
 *
 * A depthwise convolution with depth multiplier M maps input channel c to the M output
 * channels c·M + q with its own filter W[i, j, c, q] (Howard et al. 2017, "MobileNets",
 * §3.1, eq. 3; TF's `depthwise_conv2d`):
 *   y[b, oy, ox, c·M + q] = Σ_{i,j} x[b, oy·sh − top + i, ox·sw − left + j, c] · W[i, j, c, q].
 * Its gradients are the same sums read the other way (as for a full convolution, Goodfellow,
 * Bengio & Courville 2016, "Deep Learning", §9.5, eqs. 9.11 and 9.13):
 *   dW[i, j, c, q] = Σ_{b,oy,ox} x[b, iy, ix, c] · dy[b, oy, ox, c·M + q],
 *   dx[b, iy, ix, c] = Σ_{oy,ox,i,j: iy = oy·sh − top + i, ix = ox·sw − left + j} Σ_q dy[b, oy, ox, c·M + q] · W[i, j, c, q].
 */
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { checkedConvInfo, type WasmBackendLike } from './conv2d-backprop-filter';

/** The depthwise geometry of one kernel call (NHWC, dilation 1). */
interface DwGeometry {
  n: number;
  h: number;
  w: number;
  cin: number;
  oh: number;
  ow: number;
  mult: number;
  fh: number;
  fw: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
}

/**
 * Geometry of a depthwise gradient kernel from xShape [n, h, w, cin], filterShape [fh, fw, cin, M] and its attributes.
 * @throws Error naming `kernel` for NCHW data, dilations other than 1, or non-float32 inputs (our models produce none).
 */
function dwGeometry(kernel: string, attrs: Record<string, unknown>, xShape: number[], filterShape: number[], inputs: TensorInfo[]): DwGeometry {
  const info = checkedConvInfo(kernel, attrs, xShape, filterShape, inputs, true);
  const { dilations } = attrs as any;
  const d = Array.isArray(dilations) ? dilations : [dilations ?? 1, dilations ?? 1];
  if (d[0] !== 1 || d[1] !== 1) throw new Error(`${kernel} (wasm): dilations must be 1, got ${JSON.stringify(dilations)}`);
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    cin: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    mult: filterShape[3],
    fh: info.filterHeight,
    fw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/**
 * Visit every (image b, output pixel, filter tap) whose input pixel lies inside the image, with
 * the float offsets of the input pixel (x / dx), the output pixel (dy) and the tap (W / dW);
 * channels are then contiguous at each offset.
 */
function forEachTap(g: DwGeometry, f: (xOff: number, dyOff: number, wOff: number) => void): void {
  const cout = g.cin * g.mult;
  for (let b = 0; b < g.n; b++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let i = 0; i < g.fh; i++) {
        const iy = oy * g.sh - g.top + i;
        if (iy < 0 || iy >= g.h) continue;
        for (let ox = 0; ox < g.ow; ox++) {
          const dyOff = ((b * g.oh + oy) * g.ow + ox) * cout;
          for (let j = 0; j < g.fw; j++) {
            const ix = ox * g.sw - g.left + j;
            if (ix < 0 || ix >= g.w) continue;
            f(((b * g.h + iy) * g.w + ix) * g.cin, dyOff, (i * g.fw + j) * cout);
          }
        }
      }
    }
  }
}

/** Inputs x [n, h, w, cin], dy [n, oh, ow, cin·M]; attrs strides, pad, dilations, dimRoundingMode, filterShape [fh, fw, cin, M]. Output dW [fh, fw, cin, M]. */
function dwBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: unknown; attrs: Record<string, unknown> }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs;
  const filterShape = args.attrs.filterShape as number[];
  const g = dwGeometry('DepthwiseConv2dNativeBackpropFilter', args.attrs, x.shape, filterShape, [x, dy]);
  const cout = g.cin * g.mult;
  const acc = new Float64Array(g.fh * g.fw * cout);
  const out = backend.makeOutput(filterShape, 'float32');
  // Views after the allocation: malloc may grow (and detach) the heap.
  const xv = backend.typedArrayFromHeap(x);
  const dyv = backend.typedArrayFromHeap(dy);
  const M = g.mult;
  forEachTap(g, (xo, dyo, wo) => {
    if (M === 1) for (let c = 0; c < cout; c++) acc[wo + c] += xv[xo + c] * dyv[dyo + c];
    else for (let oc = 0; oc < cout; oc++) acc[wo + oc] += xv[xo + ((oc / M) | 0)] * dyv[dyo + oc];
  });
  backend.typedArrayFromHeap(out).set(acc);
  return out;
}

/** Inputs dy [n, oh, ow, cin·M], filter [fh, fw, cin, M]; attrs strides, pad, dilations, dimRoundingMode, inputShape [n, h, w, cin]. Output dx [n, h, w, cin]. */
function dwBackpropInput(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: unknown; attrs: Record<string, unknown> }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs;
  const inputShape = args.attrs.inputShape as number[];
  const g = dwGeometry('DepthwiseConv2dNativeBackpropInput', args.attrs, inputShape, filter.shape, [dy, filter]);
  const acc = new Float64Array(g.n * g.h * g.w * g.cin);
  const out = backend.makeOutput(inputShape, 'float32');
  const dyv = backend.typedArrayFromHeap(dy);
  const wv = backend.typedArrayFromHeap(filter);
  const M = g.mult;
  const C = g.cin;
  forEachTap(g, (xo, dyo, wo) => {
    if (M === 1) for (let c = 0; c < C; c++) acc[xo + c] += dyv[dyo + c] * wv[wo + c];
    else
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let q = 0; q < M; q++) s += dyv[dyo + c * M + q] * wv[wo + c * M + q];
        acc[xo + c] += s;
      }
  });
  backend.typedArrayFromHeap(out).set(acc);
  return out;
}

export const depthwiseBackpropFilterWasmConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: dwBackpropFilter as unknown as KernelFunc,
};

export const depthwiseBackpropInputWasmConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: dwBackpropInput as unknown as KernelFunc,
};
