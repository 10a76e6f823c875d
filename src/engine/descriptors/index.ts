/**
 * Hand-crafted descriptors of the classic pipeline (issue 11), computed on sharp's raw
 * pixels. One file per descriptor: `color.ts` (colour histogram, dominant colours),
 * `hog.ts` (Dalal & Triggs 2005), `lbp.ts` (Ojala, Pietikäinen & Mäenpää 2002). Specs,
 * labels and vector lengths in src/shared/descriptors.ts.
 */
import { descriptorLength, type DescriptorSpec } from '../../shared/descriptors';
import { colorHistogram, dominantColors } from './color';
import { hog } from './hog';
import { lbp } from './lbp';
import { toGrey, type RawImage } from './image';

export type { RawImage } from './image';
export { toGrey } from './image';

/**
 * The descriptor `spec` of one image: a Float32Array of length
 * `descriptorLength(spec, image.width, image.height, image.channels)`. HoG and LBP work
 * on the grey image (`toGrey`), the colour descriptors on the channels. Throws when the
 * pixel buffer does not match width × height × channels or the image is too small.
 */
export function computeDescriptor(spec: DescriptorSpec, image: RawImage): Float32Array {
  const { width, height, channels, data } = image;
  if (data.length !== width * height * channels) {
    throw new Error(`image: ${data.length} bytes for ${width}×${height}×${channels}`);
  }
  const length = descriptorLength(spec, width, height, channels);
  let out: Float32Array;
  switch (spec.type) {
    case 'colorHistogram':
      out = colorHistogram(image, spec.bins);
      break;
    case 'dominantColors':
      out = dominantColors(image, spec.count, spec.bins);
      break;
    case 'hog':
      out = hog(toGrey(image), width, height, spec);
      break;
    case 'lbp':
      out = lbp(toGrey(image), width, height, spec);
      break;
  }
  if (out.length !== length) throw new Error(`${spec.type}: ${out.length} values, expected ${length}`);
  return out;
}
