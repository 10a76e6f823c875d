/**
 * Hand-crafted image descriptors of the classic pipeline (issue 11): the spec of each
 * (zod), a short label, and the length of the vector it gives. The computation is in
 * src/engine/descriptors/ (`computeDescriptor`). Zod only; no node, DOM or Vue.
 *
 * - `colorHistogram`: per channel, `bins` equal bins over 0..255, each channel's
 *   histogram divided by the pixel count.
 * - `dominantColors`: the lecture's first toy descriptor, the `count` most frequent
 *   colours after quantizing each channel to `bins` levels.
 * - `hog`: histograms of oriented gradients (Dalal & Triggs, CVPR 2005), on grey.
 * - `lbp`: local binary patterns (Ojala, Pietikäinen & Mäenpää, TPAMI 2002), on grey,
 *   histogrammed per cell of a `gridCells`×`gridCells` grid.
 */
import { z } from 'zod';

const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const ColorHistogramSpecSchema = z
  .object({
    type: z.literal('colorHistogram'),
    /** Bins per channel, equal widths over 0..255. */
    bins: int(1, 256).default(8).meta({ label: 'Bins', unit: 'per channel' }),
  })
  .strict()
  .meta({ label: 'Colour histogram' });

export const DominantColorsSpecSchema = z
  .object({
    type: z.literal('dominantColors'),
    /** How many of the most frequent colours. */
    count: int(1, 64).default(2).meta({ label: 'Colours' }),
    /** Quantization levels per channel before counting colours. */
    bins: int(1, 16).default(4).meta({ label: 'Levels', unit: 'per channel' }),
  })
  .strict()
  .meta({ label: 'Dominant colours' });

export const HogBlockNormSchema = z.enum(['L2-Hys', 'L2', 'L1', 'L1-sqrt']);
export type HogBlockNorm = z.infer<typeof HogBlockNormSchema>;

export const HogSpecSchema = z
  .object({
    type: z.literal('hog'),
    /** Unsigned orientation bins over 0..180°. */
    orientations: int(1, 36).default(9).meta({ label: 'Orientation bins' }),
    /** Cell side in pixels (square cells). */
    pixelsPerCell: int(2, 64).default(8).meta({ label: 'Cell size', unit: 'px' }),
    /** Block side in cells (square blocks, stride one cell). */
    cellsPerBlock: int(1, 8).default(2).meta({ label: 'Block size', unit: 'cells' }),
    blockNorm: HogBlockNormSchema.default('L2-Hys').meta({ label: 'Block normalization' }),
  })
  .strict()
  .meta({ label: 'HoG' });

export const LbpMethodSchema = z.enum(['uniform', 'default']);
export type LbpMethod = z.infer<typeof LbpMethodSchema>;

export const LbpSpecSchema = z
  .object({
    type: z.literal('lbp'),
    /** Radius of the sampling circle in pixels. */
    radius: z.number().positive().max(16).default(1).meta({ label: 'Radius', unit: 'px' }),
    /** Samples on the circle (P). */
    points: int(1, 24).default(8).meta({ label: 'Points' }),
    /** 'uniform': rotation-invariant uniform codes 0..P+1; 'default': the raw P-bit code. */
    method: LbpMethodSchema.default('uniform').meta({ label: 'Codes' }),
    /** Histogram per cell of a gridCells×gridCells grid over the image, concatenated. */
    gridCells: int(1, 32).default(4).meta({ label: 'Grid', unit: 'cells per side' }),
  })
  .strict()
  .meta({ label: 'LBP' })
  .refine((s) => s.method !== 'default' || s.points <= 16, {
    message: "points: at most 16 with method 'default' (2^points bins per cell)",
    path: ['points'],
  });

export const DescriptorSpecSchema = z.discriminatedUnion('type', [
  ColorHistogramSpecSchema,
  DominantColorsSpecSchema,
  HogSpecSchema,
  LbpSpecSchema,
]);
export type DescriptorSpec = z.infer<typeof DescriptorSpecSchema>;
export type DescriptorType = DescriptorSpec['type'];

/** A short human label: "Colour histogram 8 bins", "Dominant colours 2 (4 levels)", "HoG 9×8px×2", "LBP P8 R1 uniform 4×4". */
export function describeDescriptor(spec: DescriptorSpec): string {
  switch (spec.type) {
    case 'colorHistogram':
      return `Colour histogram ${spec.bins} bins`;
    case 'dominantColors':
      return `Dominant colours ${spec.count} (${spec.bins} levels)`;
    case 'hog':
      return `HoG ${spec.orientations}×${spec.pixelsPerCell}px×${spec.cellsPerBlock}${spec.blockNorm === 'L2-Hys' ? '' : ` ${spec.blockNorm}`}`;
    case 'lbp':
      return `LBP P${spec.points} R${spec.radius} ${spec.method} ${spec.gridCells}×${spec.gridCells}`;
  }
}

/** Number of LBP histogram bins per cell: P + 2 for 'uniform', 2^P for 'default'. */
export function lbpBins(points: number, method: LbpMethod): number {
  return method === 'uniform' ? points + 2 : 2 ** points;
}

/**
 * Length of the vector `computeDescriptor` returns for an image of width × height ×
 * channels (1 or 3). Throws an Error naming the field when the image is too small for
 * the spec (HoG: fewer cells than a block; LBP: fewer pixels than grid cells).
 */
export function descriptorLength(spec: DescriptorSpec, width: number, height: number, channels: number): number {
  switch (spec.type) {
    case 'colorHistogram':
      return spec.bins * channels;
    case 'dominantColors':
      return spec.count * channels;
    case 'hog': {
      const blocksRow = Math.floor(height / spec.pixelsPerCell) - spec.cellsPerBlock + 1;
      const blocksCol = Math.floor(width / spec.pixelsPerCell) - spec.cellsPerBlock + 1;
      if (blocksRow < 1 || blocksCol < 1) {
        throw new Error(
          `hog.cellsPerBlock: a ${width}×${height} image has fewer than ${spec.cellsPerBlock}×${spec.cellsPerBlock} cells of ${spec.pixelsPerCell} px`,
        );
      }
      return blocksRow * blocksCol * spec.cellsPerBlock * spec.cellsPerBlock * spec.orientations;
    }
    case 'lbp':
      if (width < spec.gridCells || height < spec.gridCells) {
        throw new Error(`lbp.gridCells: a ${width}×${height} image is smaller than a ${spec.gridCells}×${spec.gridCells} grid`);
      }
      return spec.gridCells * spec.gridCells * lbpBins(spec.points, spec.method);
  }
}
