/**
 * Local binary patterns: T. Ojala, M. Pietikäinen and T. Mäenpää, "Multiresolution
 * Gray-Scale and Rotation Invariant Texture Classification with Local Binary Patterns",
 * IEEE TPAMI 24(7), 2002 (§2: the circular neighbour set, eq. 3 sampling and bilinear
 * interpolation, eq. 9 the rotation-invariant uniform codes LBP^riu2). Codes are
 * computed as scikit-image's `feature.local_binary_pattern` does, so they agree exactly
 * (checked in test/engine/descriptors.test.ts):
 *
 * - neighbour p of P at (row − R·sin(2πp/P), col + R·cos(2πp/P)), offsets rounded to 5
 *   decimals, sampled bilinearly with 0 outside the image;
 * - bit p = 1 when the sample minus the centre is ≥ 0;
 * - 'default': Σ bit_p · 2^p (0 … 2^P − 1); 'uniform': the number of ones when the
 *   pattern has at most two 0/1 transitions, else P + 1 (0 … P + 1).
 *
 * The descriptor is the codes' histogram in each cell of a gridCells × gridCells grid.
 */
import { lbpBins, type DescriptorSpec, type LbpMethod } from '../../shared/descriptors';

type LbpSpec = Extract<DescriptorSpec, { type: 'lbp' }>;

/** numpy's `round(x, decimals)`: x · 10^d rounded half to even, divided by 10^d. */
function roundDecimals(x: number, decimals: number): number {
  const f = 10 ** decimals;
  const y = x * f;
  let r = Math.round(y);
  if (r - y === 0.5 && r % 2 !== 0) r -= 1; // a tie rounded up to odd: go to even
  return r / f;
}

/**
 * The LBP code of every pixel of a grey image (row-major height × width), row-major
 * height × width; values 0 … P + 1 ('uniform') or 0 … 2^P − 1 ('default').
 */
export function lbpCodes(
  grey: Float64Array,
  width: number,
  height: number,
  points: number,
  radius: number,
  method: LbpMethod,
): Uint32Array {
  const R = Math.fround(radius); // scikit-image takes R as a C float
  const rp = new Float64Array(points);
  const cp = new Float64Array(points);
  for (let p = 0; p < points; p++) {
    const angle = (2 * Math.PI * p) / points;
    rp[p] = roundDecimals(-R * Math.sin(angle), 5);
    cp[p] = roundDecimals(R * Math.cos(angle), 5);
  }
  const pixel = (r: number, c: number): number => (r < 0 || r >= height || c < 0 || c >= width ? 0 : grey[r * width + c]);
  const bits = new Uint8Array(points);
  const codes = new Uint32Array(width * height);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const centre = grey[r * width + c];
      for (let p = 0; p < points; p++) {
        const sr = r + rp[p];
        const sc = c + cp[p];
        const r0 = Math.floor(sr);
        const c0 = Math.floor(sc);
        const r1 = Math.ceil(sr);
        const c1 = Math.ceil(sc);
        const dr = sr - r0;
        const dc = sc - c0;
        let tl: number, tr: number, bl: number, br: number;
        if (r0 >= 0 && r1 < height && c0 >= 0 && c1 < width) {
          const i0 = r0 * width;
          const i1 = r1 * width;
          tl = grey[i0 + c0];
          tr = grey[i0 + c1];
          bl = grey[i1 + c0];
          br = grey[i1 + c1];
        } else {
          tl = pixel(r0, c0);
          tr = pixel(r0, c1);
          bl = pixel(r1, c0);
          br = pixel(r1, c1);
        }
        const top = (1 - dc) * tl + dc * tr;
        const bottom = (1 - dc) * bl + dc * br;
        const sample = (1 - dr) * top + dr * bottom;
        bits[p] = sample - centre >= 0 ? 1 : 0;
      }
      let code = 0;
      if (method === 'uniform') {
        let changes = 0;
        for (let p = 0; p < points - 1; p++) if (bits[p] !== bits[p + 1]) changes++;
        // With P − 1 linear transitions ≤ 2 the circular count is ≤ 2 too (same parity rule).
        if (changes <= 2) for (let p = 0; p < points; p++) code += bits[p];
        else code = points + 1;
      } else {
        for (let p = 0; p < points; p++) code += bits[p] * 2 ** p;
      }
      codes[r * width + c] = code;
    }
  }
  return codes;
}

/**
 * The LBP descriptor of a grey image (row-major height × width, values in [0, 1]): the
 * image is cut into gridCells × gridCells cells (cell i spans rows ⌊i·height/g⌋ …
 * ⌊(i+1)·height/g⌋ − 1, columns likewise), each cell's code histogram divided by its
 * pixel count. Layout: `[(cellRow * g + cellCol) * bins + code]`, bins = P + 2
 * ('uniform') or 2^P ('default'). Throws when the image is smaller than the grid.
 */
export function lbp(grey: Float64Array, width: number, height: number, spec: LbpSpec): Float32Array {
  const g = spec.gridCells;
  if (width < g || height < g) throw new Error(`lbp.gridCells: a ${width}×${height} image is smaller than a ${g}×${g} grid`);
  const bins = lbpBins(spec.points, spec.method);
  const codes = lbpCodes(grey, width, height, spec.points, spec.radius, spec.method);
  const out = new Float32Array(g * g * bins);
  const counts = new Float64Array(bins);
  for (let i = 0; i < g; i++) {
    const y0 = Math.floor((i * height) / g);
    const y1 = Math.floor(((i + 1) * height) / g);
    for (let j = 0; j < g; j++) {
      const x0 = Math.floor((j * width) / g);
      const x1 = Math.floor(((j + 1) * width) / g);
      counts.fill(0);
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) counts[codes[y * width + x]]++;
      const n = (y1 - y0) * (x1 - x0);
      for (let b = 0; b < bins; b++) out[(i * g + j) * bins + b] = counts[b] / n;
    }
  }
  return out;
}
