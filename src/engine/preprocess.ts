/**
 * The one preprocessing step between a pack's pixels and a model: uint8 NHWC values →
 * float32 in the model's input range. Training batches (train.ts `fillBatch`), evaluation
 * (train.ts `evaluate`) and predictions (predict.ts) all go through `preprocessInto`, so a
 * model sees the same numbers in each. Pure arithmetic (no tfjs).
 */

/**
 * The input range a model expects:
 * - 'unit': [0, 1], x / 255 — the models we build (model.ts);
 * - 'symmetric': [−1, 1], x / 127.5 − 1 — pre-trained nets trained that way (Keras'
 *   `preprocess_input` in mode 'tf': MobileNet, MobileNetV2, Inception, Xception).
 */
export type InputRange = 'unit' | 'symmetric';

/** Per range, y = x·scale + shift for a uint8 value x (scale is the double nearest 1/255 resp. 1/127.5). */
const AFFINE: Record<InputRange, { scale: number; shift: number }> = {
  unit: { scale: 1 / 255, shift: 0 },
  symmetric: { scale: 1 / 127.5, shift: -1 },
};

/**
 * The affine map of `range`, input = pixel·scale + shift for a uint8 pixel, and its bounds
 * `min` / `max` (the images of 0 and 255), for code that works in input units (attacks:
 * ε pixels = ε·scale input units, adversarial inputs clipped to [min, max]).
 */
export function inputAffine(range: InputRange = 'unit'): { scale: number; shift: number; min: number; max: number } {
  const { scale, shift } = AFFINE[range];
  return { scale, shift, min: shift, max: 255 * scale + shift };
}

/**
 * Write `pixels` (uint8, NHWC [n, height, width, channels] flattened, any n) into `out` from
 * index `outOffset` as float32 in `range`, element by element: shape and order unchanged.
 * 'unit': x / 255 ∈ [0, 1] (0 → 0, 255 → 1); 'symmetric': x / 127.5 − 1 ∈ [−1, 1] (0 → −1, 255 → 1).
 * @returns out
 * @throws RangeError when out has fewer than outOffset + pixels.length values.
 */
export function preprocessInto(pixels: Uint8Array, out: Float32Array, outOffset = 0, range: InputRange = 'unit'): Float32Array {
  if (outOffset < 0 || out.length < outOffset + pixels.length) {
    throw new RangeError(`preprocess: out holds ${out.length} values, needs ${outOffset + pixels.length} (offset ${outOffset} + ${pixels.length} pixels)`);
  }
  const { scale, shift } = AFFINE[range];
  for (let i = 0; i < pixels.length; i++) out[outOffset + i] = pixels[i] * scale + shift;
  return out;
}

/**
 * `pixels` (uint8 NHWC) as a new Float32Array of the same length in `range` (see `preprocessInto`).
 * @returns the float32 copy
 */
export function preprocess(pixels: Uint8Array, range: InputRange = 'unit'): Float32Array {
  return preprocessInto(pixels, new Float32Array(pixels.length), 0, range);
}
