/**
 * The final model's class probabilities for every pack item, for main's confusion matrix
 * and label-error suggestions (see src/shared/engine-protocol.ts, message `predictions`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { INFERENCE_FILE, type InferenceTiming } from '../shared/pipelines';
import { compileInference } from './infer';
import type { LoadedPack } from './pack-reader';
import { preprocessInto, type InputRange } from './preprocess';

/** Name of the predictions file in a run's output folder. */
export const PREDICTIONS_FILE = 'predictions.f32';

/**
 * Softmax probabilities of `model` (inference mode, inputs in `range`: ./preprocess.ts) for every item of `pack` in pack order,
 * written to `<outDir>/predictions.f32` as little-endian float32, count × numClasses
 * (this runs only on little-endian hosts: x86-64 and ARM64). `<outDir>/inference.json` records
 * the wall time per image of that pass (preprocessing, forward pass and softmax of every item in
 * batches of `batchSize`, model compilation included): the Pipelines table's inference time of a network.
 * @returns the file path, the item count and the class count.
 * @throws Error when the folder is not writable or the backend fails.
 */
export async function writePredictions(model: tfl.LayersModel, pack: LoadedPack, outDir: string, batchSize = 500, range: InputRange = 'unit'): Promise<{ path: string; count: number; numClasses: number }> {
  const { count, height, width, channels, numClasses } = pack.meta;
  const t0 = performance.now();
  const out = await probabilities(model, pack.pixels, count, [height, width, channels], numClasses, batchSize, range);
  const seconds = (performance.now() - t0) / 1000;
  const path = join(outDir, PREDICTIONS_FILE);
  writeFileSync(path, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  const timing: InferenceTiming = { secondsPerImage: count > 0 ? seconds / count : 0, images: count, batchSize: Math.max(1, Math.min(batchSize, count)), backend: tf.getBackend() };
  writeFileSync(join(outDir, INFERENCE_FILE), JSON.stringify(timing));
  return { path, count, numClasses };
}

/**
 * Softmax probabilities of `model` (inference mode) for `count` images of uint8 NHWC `pixels`
 * at `shape` [h, w, c], preprocessed into `range` (./preprocess.ts), in batches of `batchSize`
 * through the native executor (./infer.ts) when it covers the model, else the tfjs graph:
 * the path of a run's stored predictions and of classifying new images.
 * @returns float32 count × numClasses, row-major
 */
export async function probabilities(model: tfl.LayersModel, pixels: Uint8Array, count: number, shape: readonly [number, number, number], numClasses: number, batchSize = 500, range: InputRange = 'unit'): Promise<Float32Array> {
  const [height, width, channels] = shape;
  const size = height * width * channels;
  const out = new Float32Array(count * numClasses);
  const batch = Math.max(1, Math.min(batchSize, count));
  const buf = new Float32Array(batch * size);
  const plan = compileInference(model, batch);
  for (let from = 0; from < count; from += batch) {
    const n = Math.min(batch, count - from);
    preprocessInto(pixels.subarray(from * size, (from + n) * size), buf, 0, range);
    const probs = tf.tidy(() =>
      tf.softmax(plan ? tf.tensor2d(plan.run(buf, n), [n, numClasses]) : (model.apply(tf.tensor4d(buf.subarray(0, n * size), [n, height, width, channels]), { training: false }) as tf.Tensor2D)),
    );
    // Asynchronous read: the webgpu backend cannot read synchronously in Node.
    out.set((await probs.data()) as Float32Array, from * numClasses);
    probs.dispose();
  }
  return out;
}
