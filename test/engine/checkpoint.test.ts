/**
 * Checkpoints: saveCheckpoint → readCheckpoint gives the same weights and the same outputs;
 * a missing or damaged file fails with an error naming that file.
 */
import { mkdtempSync, rmSync, truncateSync, writeFileSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { CheckpointError, readCheckpoint, saveCheckpoint } from '../../src/engine/checkpoint';
import { buildModel } from '../../src/engine/model';
import { buildPreset } from '../../src/shared/spec';

let dir = '';
beforeAll(async () => {
  await initBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'lw-checkpoint-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function saved(name: string, batchNormalization = true): Promise<{ dir: string; model: ReturnType<typeof buildModel> }> {
  const model = buildModel(buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10, batchNormalization, dropoutRate: 0.25 }), 3);
  const d = join(dir, name);
  await saveCheckpoint(model, d);
  return { dir: d, model };
}

describe('readCheckpoint', () => {
  it('loads the saved topology and weights: every weight equal by name, the same logits', async () => {
    const { dir: d, model } = await saved('ok');
    const back = await readCheckpoint(d);
    const a = model.weights.map((w) => [w.originalName, w.read().dataSync()] as const);
    const b = new Map(back.weights.map((w) => [w.originalName, w.read().dataSync()] as const));
    expect(a.length).toBeGreaterThan(8);
    expect(b.size).toBe(a.length);
    for (const [name, values] of a) expect(Array.from(b.get(name)!), name).toEqual(Array.from(values));
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 5);
    const ya = (model.predict(x) as tf.Tensor).dataSync();
    const yb = (back.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(yb)).toEqual(Array.from(ya));
    tf.dispose(x);
    model.dispose();
    back.dispose();
  });

  it('names weights.bin when it is truncated, model.json when it is missing or not JSON', async () => {
    const { dir: d, model } = await saved('bad');
    model.dispose();
    const weights = join(d, 'weights.bin');
    const size = statSync(weights).size;
    truncateSync(weights, size - 4);
    await expect(readCheckpoint(d)).rejects.toThrow(CheckpointError);
    await expect(readCheckpoint(d)).rejects.toThrow(`checkpoint ${weights}: ${size - 4} bytes, the manifest names ${size}`);

    rmSync(weights);
    await expect(readCheckpoint(d)).rejects.toThrow(`checkpoint ${weights}: missing`);

    const json = join(d, 'model.json');
    const text = readFileSync(json, 'utf8');
    writeFileSync(json, text.slice(0, text.length / 2));
    await expect(readCheckpoint(d)).rejects.toThrow(new RegExp(`^checkpoint ${json.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid JSON`));

    rmSync(json);
    const err = await readCheckpoint(d).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).file).toBe(json);
    expect((err as Error).message).toBe(`checkpoint ${json}: missing`);
  });

  it('refuses a manifest path outside the folder', async () => {
    const { dir: d, model } = await saved('escape', false);
    model.dispose();
    const json = join(d, 'model.json');
    const mj = JSON.parse(readFileSync(json, 'utf8'));
    mj.weightsManifest[0].paths = ['../ok/weights.bin'];
    writeFileSync(json, JSON.stringify(mj));
    await expect(readCheckpoint(d)).rejects.toThrow(`checkpoint ${json}: weights path ../ok/weights.bin lies outside the checkpoint folder`);
  });
});
