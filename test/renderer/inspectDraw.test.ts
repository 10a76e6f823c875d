/**
 * The Inspect section's pixels by hand: a kernel tile normalized by its own filter (min → 0,
 * max → 255, RGB from the three input channels), feature maps centred on zero (0 → white,
 * ±range → the scale's ends, the global range dimming a node with a smaller maxAbs), the
 * saliency overlay at opacity 0 and 1, and branches grouped side by side by depth.
 */
import { describe, expect, it } from 'vitest';
import { diverging, featureTiles, kernelTiles, overlay, pixelsToRgba, rowsByDepth, sequential, tileDisplaySize } from '../../src/renderer/lib/inspectDraw';

describe('inspect drawing', () => {
  it('kernel tiles: each filter scaled to its own min–max; RGB reads channels 0, 1, 2', () => {
    // [kh=1, kw=2, cin=3, filters=2]: index ((y·kw + x)·cin + c)·filters + f
    const v = new Float32Array(12);
    const set = (x: number, c: number, f: number, val: number): void => void (v[(x * 3 + c) * 2 + f] = val);
    for (let x = 0; x < 2; x++) for (let c = 0; c < 3; c++) set(x, c, 0, x * 3 + c); // filter 0: 0..5
    for (let x = 0; x < 2; x++) for (let c = 0; c < 3; c++) set(x, c, 1, 100); // filter 1: constant
    const [t0, t1] = kernelTiles(v, [1, 2, 3, 2], 'rgb');
    expect(Array.from(t0.data)).toEqual([0, 51, 102, 255, 153, 204, 255, 255]);
    expect(Array.from(t1.data)).toEqual([128, 128, 128, 255, 128, 128, 128, 255]);
    const [g0] = kernelTiles(v, [1, 2, 3, 2], 1); // channel 1 only: values 1 and 4 → 0 and 255, grey
    expect(Array.from(g0.data)).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
    expect(() => kernelTiles(v, [1, 2, 3, 2], 3)).toThrow(RangeError);
  });

  it('feature maps: zero is white, ±range the ends; a global range larger than the node dims it', () => {
    expect(diverging(0)).toEqual([255, 255, 255]);
    expect(diverging(1)).toEqual([178, 24, 43]);
    expect(diverging(-1)).toEqual([33, 102, 172]);
    // [1, 3, 1]: values −2, 0, +2 quantized with maxAbs 2 → 1, 128, 255
    const q = Uint8Array.from([1, 128, 255]);
    const [own] = featureTiles(q, [1, 3, 1], 2, 2);
    expect(Array.from(own.data.subarray(0, 12))).toEqual([33, 102, 172, 255, 255, 255, 255, 255, 178, 24, 43, 255]);
    const [dim] = featureTiles(q, [1, 3, 1], 2, 4);
    expect(Array.from(dim.data.subarray(8, 11))).toEqual(diverging(0.5));
  });

  it('overlay: opacity 0 is the image, 1 the map; branches share a row', () => {
    const img = pixelsToRgba(Uint8Array.from([10, 200]), [1, 2, 1]);
    const map = Uint8Array.from([0, 255]);
    expect(Array.from(overlay(img, map, 0).data)).toEqual([10, 10, 10, 255, 200, 200, 200, 255]);
    expect(Array.from(overlay(img, map, 1).data)).toEqual([...sequential(0), 255, ...sequential(1), 255]);
    const rows = rowsByDepth([{ depth: 1, n: 'a' }, { depth: 2, n: 'b1' }, { depth: 2, n: 'b2' }, { depth: 3, n: 'add' }]);
    expect(rows.map((r) => r.map((x) => x.n))).toEqual([['a'], ['b1', 'b2'], ['add']]);
  });
});

describe('tileDisplaySize', () => {
  it('draws a vector as a bar 20–40 px tall at any length, a feature map as a square', () => {
    for (const units of [2, 10, 84, 576, 4096]) {
      const { width, height } = tileDisplaySize([units]);
      expect(height).toBeGreaterThanOrEqual(20);
      expect(height).toBeLessThanOrEqual(40);
      expect(width).toBeGreaterThanOrEqual(240);
      expect(width).toBeLessThanOrEqual(720);
    }
    expect(tileDisplaySize([576]).width).toBe(720); // 3 px per value up to 720 px
    expect(tileDisplaySize([84]).width).toBe(252);
    expect(tileDisplaySize([12, 6, 16])).toEqual({ width: 24, height: 48 });
  });
});
