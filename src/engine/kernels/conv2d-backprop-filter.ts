/**
 * `Conv2DBackpropFilter` for the wasm backend, which tfjs-backend-wasm 4.22 lacks
 * (convolution layers cannot train without it).
 *
 * dW = im2col(x)ᵀ · dy: the gradient of a convolution with respect to its filter is the
 * correlation of the input with the output gradient (Goodfellow, Bengio & Courville,
 * "Deep Learning", 2016, §9.5, eq. 9.11; im2col as in Chellapilla, Puri & Simard 2006,
 * "High performance convolutional neural networks for document processing", §2.2).
 *
 * We build the transposed patch matrix colsᵀ [fh·fw·cin, n·oh·ow] in JS directly in the
 * wasm heap, then reuse the wasm backend's own `BatchMatMul` kernel (XNNPACK / blocked
 * C++) for the product with dy viewed as [n·oh·ow, cout]: the result, [fh·fw·cin, cout],
 * is the filter gradient in HWIO order with no copy.
 */
import { backend_util, Conv2DBackpropFilter, getKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm we use (its class is not exported in a typed way we can rely on). */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The geometry the pure-wasm conv gradients loop over (NHWC, dilation 1): sizes, window, padding, m = n·oh·ow rows and k = fh·fw·cin columns of im2col. */
export interface ConvGradGeometry {
  n: number;
  h: number;
  w: number;
  cin: number;
  oh: number;
  ow: number;
  cout: number;
  fh: number;
  fw: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
  m: number;
  k: number;
}

/**
 * The checks every pure-wasm conv gradient kernel makes, then tfjs' Conv2DInfo for xShape
 * [n, h, w, cin] and filterShape [fh, fw, cin, cout | M] (dilation 1; `depthwise`: the
 * filter's last axis is the depth multiplier M). Used by ./dwconv-backprop.ts too.
 * @throws Error naming `kernel` for NCHW data or non-float32 inputs (never produced by our models).
 */
export function checkedConvInfo(kernel: string, attrs: Record<string, unknown>, xShape: number[], filterShape: number[], inputs: TensorInfo[], depthwise: boolean): backend_util.Conv2DInfo {
  const { strides, pad, dataFormat, dimRoundingMode } = attrs as any;
  if (backend_util.convertConv2DDataFormat(dataFormat ?? 'NHWC') !== 'channelsLast') throw new Error(`${kernel} (wasm): only NHWC is supported`);
  if (inputs.some((t) => t.dtype !== 'float32')) throw new Error(`${kernel} (wasm): float32 inputs only`);
  return backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], strides, 1, pad, dimRoundingMode, depthwise, 'channelsLast');
}

/**
 * Check a conv gradient kernel's inputs and compute its geometry from the input shape
 * xShape [n, h, w, cin], the filter shape [fh, fw, cin, cout] and the attributes (strides,
 * pad, dataFormat, dimRoundingMode).
 * @throws Error naming `kernel` for NCHW data or non-float32 inputs (never produced by our models).
 */
export function convGradGeometry(kernel: string, attrs: Record<string, unknown>, xShape: number[], filterShape: number[], inputs: TensorInfo[]): ConvGradGeometry {
  const info = checkedConvInfo(kernel, attrs, xShape, filterShape, inputs, false);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: cin, outHeight: oh, outWidth: ow, outChannels: cout, filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  return { n, h, w, cin, oh, ow, cout, fh, fw, sh, sw, top: info.padInfo.top, left: info.padInfo.left, m: n * oh * ow, k: fh * fw * cin };
}

/**
 * Kernel function. Inputs: x [n, h, w, cin] (NHWC), dy [n, oh, ow, cout].
 * Attrs: strides, pad ('same' | 'valid' | number | explicit), dimRoundingMode, filterShape [fh, fw, cin, cout].
 * Output: dW [fh, fw, cin, cout], float32.
 * @throws Error for NCHW data or non-float32 inputs (never produced by our models).
 */
export function conv2DBackpropFilterWasm(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: unknown; attrs: Record<string, unknown> }): TensorInfo {
  const { inputs, attrs } = args;
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = inputs;
  const filterShape = attrs.filterShape as number[];
  const { n, h, w, cin, oh, ow, cout, fh, fw, sh, sw, top, left, m, k } = convGradGeometry('Conv2DBackpropFilter', attrs, x.shape, filterShape, [x, dy]);

  const cols = backend.makeOutput([1, k, m], 'float32');
  // Views after the allocation: malloc may grow (and detach) the heap.
  const xv = backend.typedArrayFromHeap(x);
  const cv = backend.typedArrayFromHeap(cols);
  const rowStride = w * cin;
  const imgStride = h * rowStride;
  // One Float32Array over the whole heap, for copyWithin between tensors without allocations.
  const heap = new Float32Array(xv.buffer);
  const xOff = xv.byteOffset >> 2;
  const cOff = cv.byteOffset >> 2;
  // Row r = (i·fw + j)·cin + c of colsᵀ holds x[b, oy·sh − top + i, ox·sw − left + j, c] for every (b, oy, ox).
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      // Output columns whose input column ix = ox·sw − left + j lies inside [0, w).
      const oxStart = Math.min(ow, Math.max(0, Math.ceil((left - j) / sw)));
      const oxEnd = Math.max(oxStart, Math.min(ow, Math.ceil((w + left - j) / sw)));
      const ix0 = oxStart * sw - left + j;
      for (let c = 0; c < cin; c++) {
        let o = ((i * fw + j) * cin + c) * m;
        for (let b = 0; b < n; b++) {
          const xb = b * imgStride + c;
          for (let oy = 0; oy < oh; oy++, o += ow) {
            const iy = oy * sh - top + i;
            if (iy < 0 || iy >= h) {
              cv.fill(0, o, o + ow);
              continue;
            }
            if (oxStart > 0) cv.fill(0, o, o + oxStart);
            if (oxEnd < ow) cv.fill(0, o + oxEnd, o + ow);
            let src = xb + iy * rowStride + ix0 * cin;
            if (sw === 1 && cin === 1) {
              heap.copyWithin(cOff + o + oxStart, xOff + src, xOff + src + (oxEnd - oxStart));
            } else {
              const step = sw * cin;
              for (let ox = oxStart; ox < oxEnd; ox++, src += step) cv[o + ox] = xv[src];
            }
          }
        }
      }
    }
  }

  const matMul = getKernel('BatchMatMul', 'wasm');
  if (!matMul) throw new Error('Conv2DBackpropFilter (wasm): the wasm BatchMatMul kernel is not registered');
  const dy3: TensorInfo = { dataId: dy.dataId, shape: [1, m, cout], dtype: 'float32' };
  const out = matMul.kernelFunc({ inputs: { a: cols, b: dy3 }, backend: args.backend as any, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
  backend.disposeData(cols.dataId);
  return { dataId: out.dataId, shape: [fh, fw, cin, cout], dtype: 'float32' };
}

export const conv2DBackpropFilterWasmConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterWasm as unknown as KernelFunc,
};
