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
 * `rgb2gray` does (ITU-R BT.709 luma: 0.2125 R + 0.7154 G + 0.0721 B on values /255);
 * a one-channel image is divided by 255.
 */
export function toGrey(image: RawImage): Float64Array {
  const { data, width, height, channels } = image;
  const n = width * height;
  const grey = new Float64Array(n);
  if (channels === 1) {
    for (let i = 0; i < n; i++) grey[i] = data[i] / 255;
  } else {
    for (let i = 0; i < n; i++) {
      grey[i] = 0.2125 * (data[3 * i] / 255) + 0.7154 * (data[3 * i + 1] / 255) + 0.0721 * (data[3 * i + 2] / 255);
    }
  }
  return grey;
}
