/**
 * The final model's class probabilities for every pack item, for main's confusion matrix
 * and label-error suggestions (see src/shared/engine-protocol.ts, message `predictions`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { compileInference } from './infer';
import { INPUT_SCALE } from './model';
import type { LoadedPack } from './pack-reader';

/** Name of the predictions file in a run's output folder. */
export const PREDICTIONS_FILE = 'predictions.f32';

/**
 * Softmax probabilities of `model` (inference mode) for every item of `pack` in pack order,
 * written to `<outDir>/predictions.f32` as little-endian float32, count × numClasses
 * (this runs only on little-endian hosts: x86-64 and ARM64).
 * @returns the file path, the item count and the class count.
 * @throws Error when the folder is not writable or the backend fails.
 */
export async function writePredictions(model: tfl.LayersModel, pack: LoadedPack, outDir: string, batchSize = 500): Promise<{ path: string; count: number; numClasses: number }> {
  const { count, height, width, channels, numClasses } = pack.meta;
  const size = height * width * channels;
  const out = new Float32Array(count * numClasses);
  const buf = new Float32Array(batchSize * size);
  // Native executor (./infer.ts) when it covers the model; else the tfjs graph.
  const plan = compileInference(model, batchSize);
  for (let from = 0; from < count; from += batchSize) {
    const n = Math.min(batchSize, count - from);
    const px = pack.pixels.subarray(from * size, (from + n) * size);
    for (let i = 0; i < n * size; i++) buf[i] = px[i] * INPUT_SCALE;
    const probs = tf.tidy(() =>
      tf.softmax(plan ? tf.tensor2d(plan.run(buf, n), [n, numClasses]) : (model.apply(tf.tensor4d(buf.subarray(0, n * size), [n, height, width, channels]), { training: false }) as tf.Tensor2D)),
    );
    // Asynchronous read: the webgpu backend cannot read synchronously in Node.
    out.set((await probs.data()) as Float32Array, from * numClasses);
    probs.dispose();
  }
  const path = join(outDir, PREDICTIONS_FILE);
  writeFileSync(path, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  return { path, count, numClasses };
}
