/** Local binary patterns (Ojala, Pietikäinen & Mäenpää, TPAMI 2002). */
import type { DescriptorSpec } from '../../shared/descriptors';

type LbpSpec = Extract<DescriptorSpec, { type: 'lbp' }>;

export function lbp(grey: Float64Array, width: number, height: number, spec: LbpSpec): Float32Array {
  void grey;
  void width;
  void height;
  void spec;
  throw new Error('lbp: not implemented');
}
