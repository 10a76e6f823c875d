/**
 * `Conv2DBackpropInput` for the wasm backend, replacing tfjs-backend-wasm's direct loop
 * (the single most expensive kernel of a LeNet-5 training step there).
 *
 * dx = col2im(dy · Wᵀ): the input gradient of a convolution is the transposed
 * convolution of dy with the filter (Dumoulin & Visin 2016, "A guide to convolution
 * arithmetic for deep learning", §4; Goodfellow et al. 2016, §9.5). The product
 * dy [n·oh·ow, cout] · Wᵀ [cout, fh·fw·cin] runs in the wasm backend's own BatchMatMul
 * (no transpose flags: that is its fast path); the scatter-add of the patches (col2im)
 * is a JS loop over the wasm heap.
 */
import { Conv2DBackpropInput, getKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { convGradGeometry, type WasmBackendLike } from './conv2d-backprop-filter';

/**
 * Kernel function. Inputs: dy [n, oh, ow, cout] (NHWC), filter [fh, fw, cin, cout].
 * Attrs: strides, pad, dimRoundingMode, inputShape [n, h, w, cin]. Output: dx [n, h, w, cin] float32.
 * @throws Error for NCHW data or non-float32 inputs (never produced by our models).
 */
export function conv2DBackpropInputWasm(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: unknown; attrs: Record<string, unknown> }): TensorInfo {
  const { inputs, attrs } = args;
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = inputs;
  const { n, h, w, cin, oh, ow, cout, fh, fw, sh, sw, top, left, m, k } = convGradGeometry('Conv2DBackpropInput', attrs, attrs.inputShape as number[], filter.shape, [dy, filter]);

  // Wᵀ [cout, k] from W viewed as [k, cout].
  const wT = backend.makeOutput([1, cout, k], 'float32');
  {
    const fv = backend.typedArrayFromHeap(filter);
    const tv = backend.typedArrayFromHeap(wT);
    for (let r = 0; r < k; r++) for (let o = 0; o < cout; o++) tv[o * k + r] = fv[r * cout + o];
  }
  const matMul = getKernel('BatchMatMul', 'wasm');
  if (!matMul) throw new Error('Conv2DBackpropInput (wasm): the wasm BatchMatMul kernel is not registered');
  const dy3: TensorInfo = { dataId: dy.dataId, shape: [1, m, cout], dtype: 'float32' };
  const cols = matMul.kernelFunc({ inputs: { a: dy3, b: wT }, backend: args.backend as any, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
  backend.disposeData(wT.dataId);

  const out = backend.makeOutput([n, h, w, cin], 'float32');
  // Views after the last allocation: malloc may grow (and detach) the heap.
  const cv = backend.typedArrayFromHeap({ ...cols, shape: [m * k] });
  const dx = backend.typedArrayFromHeap(out);
  dx.fill(0);
  let src = 0;
  for (let b = 0; b < n; b++) {
    const xb = b * h * w * cin;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let i = 0; i < fh; i++) {
          const iy = oy * sh - top + i;
          if (iy < 0 || iy >= h) {
            src += fw * cin;
            continue;
          }
          for (let j = 0; j < fw; j++) {
            const ix = ox * sw - left + j;
            if (ix < 0 || ix >= w) {
              src += cin;
              continue;
            }
            const d = xb + (iy * w + ix) * cin;
            for (let c = 0; c < cin; c++) dx[d + c] += cv[src++];
          }
        }
      }
    }
  }
  backend.disposeData(cols.dataId);
  return out;
}

export const conv2DBackpropInputWasmConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInputWasm as unknown as KernelFunc,
};
