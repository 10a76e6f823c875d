/**
 * `MaxPoolGrad` for the wasm backend, replacing tfjs-backend-wasm's built-in, which
 * re-scans every window overlapping each input pixel (≈6 of ≈40 ms of a LeNet-5 step).
 *
 * The gradient of max pooling routes each output gradient to the input position that
 * held the window's maximum (Goodfellow et al. 2016, "Deep Learning", §9.3; LeCun et al.
 * 1998 §II-B for subsampling layers). One pass over the windows: find the argmax in x
 * (first maximum in row-major window order, as the cpu backend, padded cells never win)
 * and add dy there.
 */
import { backend_util, MaxPoolGrad, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './conv2d-backprop-filter';

/**
 * Kernel function. Inputs: dy [n, oh, ow, c], input x [n, h, w, c] (NHWC), output (unused).
 * Attrs: filterSize, strides, pad, dimRoundingMode. Output: dx [n, h, w, c] float32.
 * @throws Error for non-float32 inputs.
 */
export function maxPoolGradWasm(args: { inputs: { dy: TensorInfo; input: TensorInfo }; backend: unknown; attrs: Record<string, unknown> }): TensorInfo {
  const { inputs, attrs } = args;
  const backend = args.backend as WasmBackendLike;
  const { dy, input } = inputs;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as any;
  if (dy.dtype !== 'float32' || input.dtype !== 'float32') throw new Error('MaxPoolGrad (wasm): float32 inputs only');
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;

  const out = backend.makeOutput([n, h, w, c], 'float32');
  const xv = backend.typedArrayFromHeap(input);
  const gv = backend.typedArrayFromHeap(dy);
  const dx = backend.typedArrayFromHeap(out);
  dx.fill(0);
  let g = 0;
  for (let b = 0; b < n; b++) {
    const xb = b * h * w * c;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - top;
      const yStart = Math.max(0, y0);
      const yEnd = Math.min(h, y0 + fh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - left;
        const xStart = Math.max(0, x0);
        const xEnd = Math.min(w, x0 + fw);
        for (let ch = 0; ch < c; ch++, g++) {
          let best = -Infinity;
          let at = -1;
          for (let y = yStart; y < yEnd; y++) {
            let p = xb + (y * w + xStart) * c + ch;
            for (let x = xStart; x < xEnd; x++, p += c) {
              const v = xv[p];
              if (v > best || at < 0) {
                best = v;
                at = p;
              }
            }
          }
          if (at >= 0) dx[at] += gv[g];
        }
      }
    }
  }
  return out;
}

export const maxPoolGradWasmConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGradWasm as unknown as KernelFunc,
};
