/**
 * Colour descriptors (issue 11) on interleaved HWC uint8 pixels: the per-channel
 * histogram, and the lecture's first toy descriptor, the most frequent colours.
 */
import type { RawImage } from './image';

/** Bin of a uint8 value among `bins` equal bins over 0..255 (width 256 / bins). */
function binOf(value: number, bins: number): number {
  return Math.floor((value * bins) / 256);
}

/**
 * Per-channel colour histogram: `bins` equal bins over 0..255 for each channel, each
 * channel's counts divided by the pixel count (each channel's part sums to 1).
 * Layout: channel-major, `[c * bins + b]` (c in image channel order, R G B for RGB).
 */
export function colorHistogram(image: RawImage, bins: number): Float32Array {
  const { data, width, height, channels } = image;
  const n = width * height;
  const counts = new Float64Array(bins * channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) counts[c * bins + binOf(data[i * channels + c], bins)]++;
  }
  const out = new Float32Array(bins * channels);
  for (let k = 0; k < out.length; k++) out[k] = counts[k] / n;
  return out;
}

/**
 * The `count` most frequent colours after quantizing each channel to `bins` levels
 * (a colour is the tuple of its channels' bins). Each colour is written as its bin
 * centres scaled to [0, 1], `(q + 0.5) / bins` per channel; colours by descending
 * frequency, ties by ascending quantized code (channel 0 most significant). When the
 * image has fewer distinct colours than `count`, the last one found is repeated.
 * Layout: `[k * channels + c]` for the k-th most frequent colour.
 */
export function dominantColors(image: RawImage, count: number, bins: number): Float32Array {
  const { data, width, height, channels } = image;
  const n = width * height;
  const codes = bins ** channels;
  const freq = new Uint32Array(codes);
  for (let i = 0; i < n; i++) {
    let code = 0;
    for (let c = 0; c < channels; c++) code = code * bins + binOf(data[i * channels + c], bins);
    freq[code]++;
  }
  const order = Array.from({ length: codes }, (_, code) => code)
    .filter((code) => freq[code] > 0)
    .sort((a, b) => freq[b] - freq[a] || a - b);
  const out = new Float32Array(count * channels);
  for (let k = 0; k < count; k++) {
    let code = order[Math.min(k, order.length - 1)];
    for (let c = channels - 1; c >= 0; c--) {
      out[k * channels + c] = ((code % bins) + 0.5) / bins;
      code = Math.floor(code / bins);
    }
  }
  return out;
}
