/**
 * Perceptual hashes for near-duplicate search: the 64-bit difference hash (dHash;
 * N. Krawetz, "Kind of like that", 2013). The image is reduced to luma, area-averaged to
 * 9 × 8 pixels, and bit (r·8 + c) is set when pixel (r, c) is brighter than (r, c + 1).
 * Resizing, re-encoding (JPEG) and small brightness changes keep most bits; the Hamming
 * distance between two hashes measures how different two images look (0 = same look).
 *
 * Hashes are 16 lowercase hex digits (bit 63 first). The import computes them from the
 * oriented image at thumbnail size, and `dhashFile` in ./stored.ts does the same for a
 * stored blob, so the same picture always gives the same hash.
 */

const W = 9;
const H = 8;

/**
 * dHash of raw interleaved 8-bit pixels (1 or 3 channels; 2/4 treat the last as alpha and
 * ignore it). `data` holds width × height × channels bytes, rows top down.
 * @throws Error when the size does not match or the image is empty.
 */
export function dhashRaw(data: Uint8Array, width: number, height: number, channels: number): string {
  if (width < 1 || height < 1 || data.length < width * height * channels) throw new Error(`dhash: ${data.length} bytes for ${width}×${height}×${channels}`);
  // Area average: each source pixel adds its luma to the target cell it falls in (by its centre).
  const sum = new Float64Array(W * H);
  const cnt = new Float64Array(W * H);
  const colour = channels >= 3;
  const cellX = new Int32Array(width);
  for (let x = 0; x < width; x++) cellX[x] = Math.min(W - 1, Math.floor(((x + 0.5) * W) / width));
  for (let y = 0; y < height; y++) {
    const row = Math.min(H - 1, Math.floor(((y + 0.5) * H) / height)) * W;
    let i = y * width * channels;
    for (let x = 0; x < width; x++, i += channels) {
      const k = row + cellX[x];
      sum[k] += colour ? 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2] : data[i];
      cnt[k]++;
    }
  }
  // Images narrower than 9 or shorter than 8 pixels leave cells empty: fill from the left / above.
  const v = new Float64Array(W * H);
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      const k = r * W + c;
      v[k] = cnt[k] > 0 ? sum[k] / cnt[k] : c > 0 ? v[k - 1] : r > 0 ? v[k - W] : 0;
    }
  }
  let hi = 0;
  let lo = 0;
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < 8; c++) {
      const bit = v[r * W + c] > v[r * W + c + 1] ? 1 : 0;
      const n = r * 8 + c; // 0 … 63, bit 63 - n of the hash
      if (n < 32) hi = (hi | (bit << (31 - n))) >>> 0;
      else lo = (lo | (bit << (63 - n))) >>> 0;
    }
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** Split a 16-hex-digit hash into its high and low 32 bits. */
export function hashWords(hex: string): [number, number] {
  return [parseInt(hex.slice(0, 8), 16) >>> 0, parseInt(hex.slice(8, 16), 16) >>> 0];
}

/** Number of set bits of a 32-bit integer. */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Hamming distance (0 … 64) between two 16-hex-digit hashes. */
export function hamming(a: string, b: string): number {
  const [ah, al] = hashWords(a);
  const [bh, bl] = hashWords(b);
  return popcount32((ah ^ bh) >>> 0) + popcount32((al ^ bl) >>> 0);
}
