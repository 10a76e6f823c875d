/**
 * Histograms of oriented gradients: N. Dalal and B. Triggs, "Histograms of Oriented
 * Gradients for Human Detection", CVPR 2005 (§6.2 gradients, §6.3 orientation binning,
 * §6.4 blocks and L2-Hys normalization), computed as scikit-image's `feature.hog` does
 * for a grey image so the two agree to float rounding (checked in
 * test/engine/descriptors.test.ts):
 *
 * - gradients by centred differences [-1, 0, 1] on rows and columns, zero on the image's
 *   border rows (row gradient) and columns (column gradient); no smoothing;
 * - unsigned orientation atan2(g_row, g_col) in degrees modulo 180, hard-assigned to
 *   `orientations` equal bins (no interpolation between bins or cells, no Gaussian
 *   window), each vote the gradient magnitude; a cell's bin is its votes' sum divided
 *   by the cell's pixel count;
 * - cells of pixelsPerCell² pixels from the top-left corner (right and bottom remainders
 *   dropped), blocks of cellsPerBlock² cells at a stride of one cell, each block
 *   normalized with eps = 1e-5: L1 v/(‖v‖₁+eps), L1-sqrt √(v/(‖v‖₁+eps)),
 *   L2 v/√(‖v‖₂²+eps²), L2-Hys the L2 result clipped at 0.2 and L2-normalized again.
 */
import type { DescriptorSpec } from '../../shared/descriptors';

type HogSpec = Extract<DescriptorSpec, { type: 'hog' }>;

const EPS = 1e-5;
const DEG_PER_RAD = 180 / Math.PI;

/** x modulo 180 with numpy's `remainder` rules (result in [0, 180]; may round up to 180). */
function mod180(x: number): number {
  let m = x % 180;
  if (m !== 0) {
    if (m < 0) m += 180;
  } else {
    m = 0;
  }
  return m;
}

/**
 * Per-cell orientation histograms of a grey image (row-major height × width, any
 * range). Layout: `[(cellRow * cellsCol + cellCol) * orientations + bin]`.
 */
export function hogCellHistograms(
  grey: Float64Array,
  width: number,
  height: number,
  orientations: number,
  pixelsPerCell: number,
): { cellsRow: number; cellsCol: number; histograms: Float64Array } {
  const cellsRow = Math.floor(height / pixelsPerCell);
  const cellsCol = Math.floor(width / pixelsPerCell);
  const binWidth = 180 / orientations;
  // Each pixel's bin (-1: in none, as an orientation that rounds to 180) and magnitude.
  const bin = new Int32Array(width * height);
  const magnitude = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const gRow = y === 0 || y === height - 1 ? 0 : grey[i + width] - grey[i - width];
      const gCol = x === 0 || x === width - 1 ? 0 : grey[i + 1] - grey[i - 1];
      magnitude[i] = Math.sqrt(gCol * gCol + gRow * gRow);
      const angle = mod180(Math.atan2(gRow, gCol) * DEG_PER_RAD);
      // Bin b holds angles in [binWidth*b, binWidth*(b+1)), both bounds as computed in doubles.
      let b = Math.min(orientations - 1, Math.floor(angle / binWidth));
      while (b > 0 && angle < binWidth * b) b--;
      while (b < orientations - 1 && angle >= binWidth * (b + 1)) b++;
      bin[i] = angle >= binWidth * (b + 1) || angle < binWidth * b ? -1 : b;
    }
  }
  const histograms = new Float64Array(cellsRow * cellsCol * orientations);
  const area = pixelsPerCell * pixelsPerCell;
  const sums = new Float64Array(orientations);
  for (let cr = 0; cr < cellsRow; cr++) {
    for (let cc = 0; cc < cellsCol; cc++) {
      sums.fill(0);
      for (let y = cr * pixelsPerCell; y < (cr + 1) * pixelsPerCell; y++) {
        for (let x = cc * pixelsPerCell; x < (cc + 1) * pixelsPerCell; x++) {
          const b = bin[y * width + x];
          // Summed in single precision, as scikit-image's cell loop does.
          if (b >= 0) sums[b] = Math.fround(sums[b] + magnitude[y * width + x]);
        }
      }
      const base = (cr * cellsCol + cc) * orientations;
      for (let o = 0; o < orientations; o++) histograms[base + o] = Math.fround(sums[o] / area);
    }
  }
  return { cellsRow, cellsCol, histograms };
}

/** Normalizes one block's values in place (Dalal & Triggs §6.4; eps = 1e-5). */
function normalizeBlock(v: Float64Array, method: HogSpec['blockNorm']): void {
  if (method === 'L1' || method === 'L1-sqrt') {
    let l1 = 0;
    for (const x of v) l1 += Math.abs(x);
    for (let k = 0; k < v.length; k++) {
      v[k] = v[k] / (l1 + EPS);
      if (method === 'L1-sqrt') v[k] = Math.sqrt(v[k]);
    }
    return;
  }
  const l2 = (): number => {
    let s = 0;
    for (const x of v) s += x * x;
    return Math.sqrt(s + EPS * EPS);
  };
  let norm = l2();
  for (let k = 0; k < v.length; k++) v[k] = v[k] / norm;
  if (method === 'L2-Hys') {
    for (let k = 0; k < v.length; k++) v[k] = Math.min(v[k], 0.2);
    norm = l2();
    for (let k = 0; k < v.length; k++) v[k] = v[k] / norm;
  }
}

/**
 * The HoG vector of a grey image (row-major height × width, values in [0, 1]).
 * Layout, as scikit-image's `feature_vector=True`: block row, block column, cell row in
 * the block, cell column in the block, orientation bin — length blocksRow · blocksCol ·
 * cellsPerBlock² · orientations with blocksRow = ⌊height / pixelsPerCell⌋ −
 * cellsPerBlock + 1 (same for columns). Throws when the image holds no whole block.
 */
export function hog(grey: Float64Array, width: number, height: number, spec: HogSpec): Float32Array {
  const { orientations, pixelsPerCell, cellsPerBlock } = spec;
  const { cellsRow, cellsCol, histograms } = hogCellHistograms(grey, width, height, orientations, pixelsPerCell);
  const blocksRow = cellsRow - cellsPerBlock + 1;
  const blocksCol = cellsCol - cellsPerBlock + 1;
  if (blocksRow < 1 || blocksCol < 1) {
    throw new Error(`hog.cellsPerBlock: a ${width}×${height} image has fewer than ${cellsPerBlock}×${cellsPerBlock} cells of ${pixelsPerCell} px`);
  }
  const blockLength = cellsPerBlock * cellsPerBlock * orientations;
  const out = new Float32Array(blocksRow * blocksCol * blockLength);
  const block = new Float64Array(blockLength);
  for (let br = 0; br < blocksRow; br++) {
    for (let bc = 0; bc < blocksCol; bc++) {
      let k = 0;
      for (let r = br; r < br + cellsPerBlock; r++) {
        for (let c = bc; c < bc + cellsPerBlock; c++) {
          const base = (r * cellsCol + c) * orientations;
          for (let o = 0; o < orientations; o++) block[k++] = histograms[base + o];
        }
      }
      normalizeBlock(block, spec.blockNorm);
      out.set(block, (br * blocksCol + bc) * blockLength);
    }
  }
  return out;
}
