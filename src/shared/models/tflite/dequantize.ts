/**
 * A TFLite constant tensor's values as float32: float32 / float16 as stored, quantized
 * integers by the affine rule of TFLite's quantization spec, real = scale · (q − zero_point),
 * with one (scale, zero_point) per tensor (the uint8 MobileNets) or one per slice along
 * `quantizedDimension` (int8 per-channel weights, and their int32 biases). A bias without
 * parameters of its own gets scale = input scale × weight scale and zero point 0, the rule
 * by which TFLite quantizes biases (Jacob et al. 2018, "Quantization and training of neural
 * networks for efficient integer-arithmetic-only inference", §2.4).
 */
import { Model, TensorType, type QuantizationParameters, type Tensor } from './tables';

/** Per-channel (or one) affine parameters of a tensor along `axis`. */
export interface Affine {
  scale: number[];
  zeroPoint: number[];
  /** The axis the parameters run along (ignored when there is one pair). */
  axis: number;
}

/** The tensor's affine parameters, or null when it carries none (scale empty). */
export function affineOf(q: QuantizationParameters | null): Affine | null {
  if (!q) return null;
  const scale = q.scale;
  if (scale.length === 0) return null;
  if (q.detailsType !== 0) throw new Error('custom quantization details are not supported');
  const zp = q.zeroPoint;
  return { scale, zeroPoint: zp.length ? zp : scale.map(() => 0), axis: q.quantizedDimension };
}

const elements = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** IEEE 754 half → number. */
function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * The stored integers (or floats) of `tensor`, as numbers in row-major order.
 * @throws Error for element types other than float32, float16, int32, uint8, int8, int16, or a buffer shorter than the shape.
 */
function rawValues(data: Uint8Array, tensor: Tensor): { values: Float32Array | Int32Array | Uint8Array | Int8Array | Int16Array; float: boolean } {
  const n = elements(tensor.shape);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const need = (bytes: number): void => {
    if (data.byteLength < n * bytes) throw new Error(`tensor "${tensor.name}": buffer holds ${data.byteLength} bytes, shape [${tensor.shape.join(', ')}] needs ${n * bytes}`);
  };
  /** n values `bytes` apart, each read by `at` into a new array of `Ctor`. */
  const read = <T extends Float32Array | Int32Array | Int16Array>(Ctor: new (n: number) => T, bytes: number, at: (offset: number) => number): T => {
    need(bytes);
    const out = new Ctor(n);
    for (let i = 0; i < n; i++) out[i] = at(bytes * i);
    return out;
  };
  switch (tensor.type) {
    case TensorType.FLOAT32:
      return { values: read(Float32Array, 4, (o) => view.getFloat32(o, true)), float: true };
    case TensorType.FLOAT16:
      return { values: read(Float32Array, 2, (o) => half(view.getUint16(o, true))), float: true };
    case TensorType.INT32:
      return { values: read(Int32Array, 4, (o) => view.getInt32(o, true)), float: false };
    case TensorType.INT16:
      return { values: read(Int16Array, 2, (o) => view.getInt16(o, true)), float: false };
    case TensorType.UINT8:
      need(1);
      return { values: data.slice(0, n), float: false };
    case TensorType.INT8:
      need(1);
      return { values: new Int8Array(data.buffer.slice(data.byteOffset, data.byteOffset + n)), float: false };
    default:
      throw new Error(`tensor "${tensor.name}": element type ${tensor.type} is not supported (float32, float16, int32, int16, uint8, int8 are)`);
  }
}

/**
 * Apply real = scale[c] · (q − zeroPoint[c]) where c is the index along `affine.axis` of
 * each element of a row-major tensor of `shape` (a single pair applies to every element).
 * @throws Error when the number of pairs is neither 1 nor shape[axis].
 */
export function applyAffine(q: ArrayLike<number>, shape: readonly number[], affine: Affine): Float32Array {
  const out = new Float32Array(q.length);
  const { scale, zeroPoint, axis } = affine;
  if (scale.length === 1) {
    for (let i = 0; i < q.length; i++) out[i] = scale[0] * (q[i] - zeroPoint[0]);
    return out;
  }
  if (axis < 0 || axis >= shape.length || shape[axis] !== scale.length) {
    throw new Error(`${scale.length} quantization scales along axis ${axis} of shape [${shape.join(', ')}]`);
  }
  const inner = elements(shape.slice(axis + 1));
  const dim = shape[axis];
  for (let i = 0; i < q.length; i++) {
    const c = Math.floor(i / inner) % dim;
    out[i] = scale[c] * (q[i] - zeroPoint[c]);
  }
  return out;
}

/**
 * Float values of constant tensor `index` of the model's first subgraph.
 * @param fallback the affine parameters to use when an integer tensor carries none (a bias: see `biasAffine`).
 * @throws Error when the tensor has no buffer, an integer tensor has no quantization and no fallback, or its type is unsupported.
 */
export function constantValues(model: Model, tensor: Tensor, fallback?: Affine): Float32Array {
  const data = model.bufferData(tensor.buffer);
  if (tensor.buffer === 0 || data.byteLength === 0) throw new Error(`tensor "${tensor.name}" is not a constant (no buffer)`);
  if (tensor.isSparse) throw new Error(`tensor "${tensor.name}" is sparse; sparse weights are not supported`);
  const { values, float } = rawValues(data, tensor);
  if (float) return values as Float32Array;
  const affine = affineOf(tensor.quantization) ?? fallback;
  if (!affine) throw new Error(`tensor "${tensor.name}": integer weights without quantization parameters`);
  return applyAffine(values, tensor.shape, affine);
}

/**
 * The bias rule: scale = input scale × weight scale (per output channel when the weights are
 * per-channel), zero point 0; the bias of a conv / depthwise / fully-connected runs along its
 * only axis. Null when either side is not quantized.
 */
export function biasAffine(input: Tensor, weights: Tensor): Affine | null {
  const a = affineOf(input.quantization);
  const w = affineOf(weights.quantization);
  if (!a || !w) return null;
  const scale = w.scale.map((s) => s * a.scale[0]);
  return { scale, zeroPoint: scale.map(() => 0), axis: 0 };
}
