/** Histograms of oriented gradients (Dalal & Triggs, CVPR 2005). */
import type { DescriptorSpec } from '../../shared/descriptors';

type HogSpec = Extract<DescriptorSpec, { type: 'hog' }>;

export function hog(grey: Float64Array, width: number, height: number, spec: HogSpec): Float32Array {
  void grey;
  void width;
  void height;
  void spec;
  throw new Error('hog: not implemented');
}
