/**
 * Pixels of the Inspect section (pure, no DOM): the wire encodings of src/shared/inspect.ts
 * decoded, kernels as RGB or grey tiles normalized per filter, feature maps on a colour
 * scale centred on zero, saliency maps on a sequential scale blended over the image.
 * Every image is RGBA, row-major, width × height (ImageData's layout).
 */

/** base64 → bytes. */
export function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** base64 of little-endian float32 → Float32Array. */
export function float32FromBase64(s: string): Float32Array {
  const b = fromBase64(s);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/** An RGBA image. */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/**
 * The diverging scale centred on zero: t ∈ [−1, 1] → blue (−1) · white (0) · red (+1)
 * (ColorBrewer RdBu end points), clamped.
 */
export function diverging(t: number): [number, number, number] {
  const x = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  const [r1, g1, b1] = x < 0 ? [33, 102, 172] : [178, 24, 43];
  const a = Math.abs(x);
  return [Math.round(255 + (r1 - 255) * a), Math.round(255 + (g1 - 255) * a), Math.round(255 + (b1 - 255) * a)];
}

/** A sequential scale for saliency, t ∈ [0, 1]: black → purple → orange → yellow (close to matplotlib's inferno). */
export function sequential(t: number): [number, number, number] {
  const stops: [number, number, number][] = [
    [0, 0, 4],
    [87, 16, 110],
    [188, 55, 84],
    [249, 142, 9],
    [252, 255, 164],
  ];
  const x = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((k) => Math.round(stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f)) as [number, number, number];
}

/**
 * One tile per filter of a kernel [kh, kw, cin, filters] (float32): `channel` 'rgb' draws the
 * three input channels as colour (cin must be 3), a number draws that input channel in grey;
 * each tile is normalized by its own filter's min and max (a constant filter is mid-grey).
 * @throws RangeError for 'rgb' without 3 input channels or a channel out of range.
 */
export function kernelTiles(values: Float32Array, shape: [number, number, number, number], channel: 'rgb' | number): Rgba[] {
  const [kh, kw, cin, filters] = shape;
  if (channel === 'rgb' && cin !== 3) throw new RangeError(`kernelTiles: RGB needs 3 input channels, the kernel has ${cin}`);
  if (channel !== 'rgb' && (channel < 0 || channel >= cin)) throw new RangeError(`kernelTiles: input channel ${channel} of 0–${cin - 1}`);
  const at = (y: number, x: number, c: number, f: number): number => values[((y * kw + x) * cin + c) * filters + f];
  const tiles: Rgba[] = [];
  for (let f = 0; f < filters; f++) {
    const chans = channel === 'rgb' ? [0, 1, 2] : [channel];
    let lo = Infinity;
    let hi = -Infinity;
    for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (const c of chans) [lo, hi] = [Math.min(lo, at(y, x, c, f)), Math.max(hi, at(y, x, c, f))];
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    const data = new Uint8ClampedArray(kh * kw * 4);
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        const p = (y * kw + x) * 4;
        const v = chans.map((c) => (scale ? (at(y, x, c, f) - lo) * scale : 128));
        data[p] = v[0];
        data[p + 1] = v[chans.length === 3 ? 1 : 0];
        data[p + 2] = v[chans.length === 3 ? 2 : 0];
        data[p + 3] = 255;
      }
    }
    tiles.push({ width: kw, height: kh, data });
  }
  return tiles;
}

/**
 * The channels of a feature map [h, w, c] quantized around zero (q − 128 ↔ value·127/maxAbs)
 * as tiles on the diverging scale, ±`range` at the ends: the node's own maxAbs (per-node range)
 * or the largest over all nodes (global range). A dense output [units] is one 1 × units row.
 */
export function featureTiles(q: Uint8Array, shape: number[], maxAbs: number, range: number): Rgba[] {
  const [h, w, c] = shape.length === 3 ? shape : [1, shape[0] ?? q.length, 1];
  const k = range > 0 ? maxAbs / 127 / range : 0;
  const tiles: Rgba[] = [];
  for (let ch = 0; ch < c; ch++) {
    const data = new Uint8ClampedArray(h * w * 4);
    for (let p = 0; p < h * w; p++) {
      const [r, g, b] = diverging((q[p * c + ch] - 128) * k);
      data.set([r, g, b, 255], p * 4);
    }
    tiles.push({ width: w, height: h, data });
  }
  return tiles;
}

/** The smallest height, in CSS pixels, a dense / flatten output's bar of values is drawn at. */
export const VECTOR_BAR_MIN_HEIGHT = 20;
/** The largest: a few units (logits of 2 classes) make a strip, not a 120 px block. */
export const VECTOR_BAR_MAX_HEIGHT = 40;

/**
 * The CSS size to draw a node's output tile at: a feature map [h, w, c] as a `mapSize` square
 * on its long side; a vector [units] (dense, flatten, pooling to 1-D) as a bar 3 px per value,
 * 240–720 px wide (narrower than a value per pixel only past 720 units), at least
 * VECTOR_BAR_MIN_HEIGHT and at most VECTOR_BAR_MAX_HEIGHT tall whatever its length (a 1 × units
 * image scaled by its long side would be a strip under a pixel high for 240+ units).
 */
export function tileDisplaySize(shape: number[], mapSize = 48): { width: number; height: number } {
  if (shape.length === 3) {
    const [h, w] = shape;
    const k = mapSize / Math.max(h, w);
    return { width: Math.round(w * k), height: Math.round(h * k) };
  }
  const units = Math.max(1, shape[0] ?? 1);
  const width = Math.max(240, Math.min(720, 3 * units));
  return { width, height: Math.max(VECTOR_BAR_MIN_HEIGHT, Math.min(VECTOR_BAR_MAX_HEIGHT, Math.round(width / units))) };
}

/** uint8 HWC pixels (1 or 3 channels) → RGBA. */
export function pixelsToRgba(px: Uint8Array, shape: number[]): Rgba {
  const [h, w, c] = shape;
  const data = new Uint8ClampedArray(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    const v = c === 3 ? [px[p * 3], px[p * 3 + 1], px[p * 3 + 2]] : [px[p], px[p], px[p]];
    data.set([v[0], v[1], v[2], 255], p * 4);
  }
  return { width: w, height: h, data };
}

/** The image with a saliency map (uint8 [h, w], 255 = the map's maximum) on the sequential scale over it, `opacity` ∈ [0, 1]. */
export function overlay(image: Rgba, map: Uint8Array, opacity: number): Rgba {
  const data = new Uint8ClampedArray(image.data.length);
  const a = Math.max(0, Math.min(1, opacity));
  for (let p = 0; p < image.width * image.height; p++) {
    const s = sequential(map[p] / 255);
    for (let k = 0; k < 3; k++) data[p * 4 + k] = image.data[p * 4 + k] * (1 - a) + s[k] * a;
    data[p * 4 + 3] = 255;
  }
  return { width: image.width, height: image.height, data };
}

/** Nodes grouped by depth (rows top to bottom); nodes of one depth — parallel branches — share a row, side by side. */
export function rowsByDepth<T extends { depth: number }>(nodes: T[]): T[][] {
  const rows = new Map<number, T[]>();
  for (const n of nodes) rows.set(n.depth, [...(rows.get(n.depth) ?? []), n]);
  return [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
}
