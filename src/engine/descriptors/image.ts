/** The raw image the descriptors read, and its grey conversion. */

/** Interleaved HWC uint8 pixels, as sharp's `.raw()` gives them. */
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 3;
}

/**
 * Grey values in [0, 1], row-major H×W (Float64Array). RGB is weighted as scikit-image's
 * `rgb2gray` does (ITU-R BT.709 luma: 0.2125 R + 0.7154 G + 0.0721 B, on values scaled as
 * `img_as_float` scales uint8: × (1/255)), summed left to right; a one-channel image is
 * scaled alone. (`rgb2gray` sums through BLAS, whose order may differ by 1 ulp.)
 */
export function toGrey(image: RawImage): Float64Array {
  const { data, width, height, channels } = image;
  const n = width * height;
  const grey = new Float64Array(n);
  const scale = 1 / 255;
  if (channels === 1) {
    for (let i = 0; i < n; i++) grey[i] = data[i] * scale;
  } else {
    for (let i = 0; i < n; i++) {
      grey[i] = 0.2125 * (data[3 * i] * scale) + 0.7154 * (data[3 * i + 1] * scale) + 0.0721 * (data[3 * i + 2] * scale);
    }
  }
  return grey;
}
