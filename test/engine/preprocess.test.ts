/**
 * One preprocessing step (src/engine/preprocess.ts): its two ranges, and that training
 * batches, evaluation and predictions feed the model the same inputs for the same pack items
 * (recorded at the model's `apply` on tfjs' cpu backend, where the tfjs graph runs for all three).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildModel } from '../../src/engine/model';
import { readPack, type LoadedPack } from '../../src/engine/pack-reader';
import { writePredictions } from '../../src/engine/predict';
import { preprocess, preprocessInto } from '../../src/engine/preprocess';
import { evaluate, fillBatch } from '../../src/engine/train';
import { buildPreset } from '../../src/shared/spec';
import { writePack } from './helpers/pack';

const [H, W, C, COUNT] = [4, 4, 3 as const, 12];
let dir = '';
let pack: LoadedPack;

beforeAll(async () => {
  await tf.setBackend('cpu'); // tfjs' own cpu backend: no native executor, so all three paths call model.apply
  dir = mkdtempSync(join(tmpdir(), 'lw-engine-preprocess-'));
  // Every uint8 value occurs: 12 images × 48 values, pixel i = (7·i) mod 256.
  const pixels = Uint8Array.from({ length: COUNT * H * W * C }, (_, i) => (7 * i) % 256);
  const labels = Int32Array.from({ length: COUNT }, (_, i) => i % 3);
  const splits = Uint8Array.from({ length: COUNT }, (_, i) => i % 3);
  pack = readPack(writePack(join(dir, 'pack'), { height: H, width: W, channels: C, numClasses: 3, pixels, labels, splits }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('preprocess', () => {
  it("maps uint8 to [0, 1] ('unit') and [−1, 1] ('symmetric')", () => {
    const px = Uint8Array.from([0, 51, 127, 128, 255]);
    expect(Array.from(preprocess(px))).toEqual(Array.from(Float32Array.from([0, 0.2, 127 / 255, 128 / 255, 1])));
    expect(Array.from(preprocess(px, 'symmetric'))).toEqual(Array.from(Float32Array.from([-1, 51 / 127.5 - 1, 127 / 127.5 - 1, 128 / 127.5 - 1, 1])));
    const out = new Float32Array(7).fill(9);
    preprocessInto(px, out, 2);
    expect(Array.from(out.subarray(0, 2))).toEqual([9, 9]);
    expect(out[6]).toBe(1);
    expect(() => preprocessInto(px, new Float32Array(6), 2)).toThrow(/needs 7/);
  });

  it('training batches, evaluation and predictions give the model identical inputs', async () => {
    const model = buildModel(buildPreset('linear', { inputShape: [H, W, C], numClasses: 3 }), 1);
    const seen: Float32Array[] = [];
    const apply = model.apply.bind(model);
    model.apply = ((x: tf.Tensor, kwargs?: Record<string, unknown>) => {
      seen.push((x as tf.Tensor).dataSync() as Float32Array);
      return apply(x, kwargs);
    }) as typeof model.apply;
    const all = Int32Array.from({ length: COUNT }, (_, i) => i);
    const size = H * W * C;

    const train = new Float32Array(COUNT * size);
    fillBatch(pack, all, 0, COUNT, train, new Int32Array(COUNT));
    await evaluate(model, pack, all, COUNT);
    await writePredictions(model, pack, dir, COUNT);
    expect(seen).toHaveLength(2);
    const [evaluation, prediction] = seen;
    expect(Array.from(evaluation)).toEqual(Array.from(train));
    expect(Array.from(prediction)).toEqual(Array.from(train));
    // And they are x / 255 of the pack's bytes.
    expect(Array.from(train)).toEqual(Array.from(Float32Array.from(pack.pixels, (p) => p / 255)));

    // A batch of other items in another order: the same values per item.
    const some = Int32Array.from([5, 0, 11]);
    const part = new Float32Array(3 * size);
    fillBatch(pack, some, 0, 3, part, new Int32Array(3));
    some.forEach((item, b) => expect(Array.from(part.subarray(b * size, (b + 1) * size))).toEqual(Array.from(train.subarray(item * size, (item + 1) * size))));
    model.dispose();
  });
});
