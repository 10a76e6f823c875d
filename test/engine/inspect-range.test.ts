/**
 * The inspect job preprocesses into the run's input range (issue 13): a pre-trained backbone
 * trained on [−1, 1] must see x / 127.5 − 1, not x / 255. The job's class scores for an image
 * are compared with the model's own logits on the image preprocessed both ways.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/engine/backend';
import { saveCheckpoint } from '../../src/engine/checkpoint';
import { runInspectJob } from '../../src/engine/inspect';
import { buildModel } from '../../src/engine/model';
import { preprocess } from '../../src/engine/preprocess';
import type { EngineToMain } from '../../src/shared/engine-protocol';
import type { InspectResult } from '../../src/shared/inspect';
import { buildPreset } from '../../src/shared/spec';

const dir = mkdtempSync(join(tmpdir(), 'lw-inspect-range-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend('cpu');
});

describe('inspect job input range', () => {
  it('activations: scores are the model\'s logits on x / 127.5 − 1 for a symmetric-range run, on x / 255 otherwise', async () => {
    const spec = buildPreset('lenet5', { inputShape: [32, 32, 3], numClasses: 4 });
    const model = buildModel(spec, 9);
    const ckpt = join(dir, 'epoch-0');
    await saveCheckpoint(model, ckpt);
    let s = 5;
    const px = Uint8Array.from({ length: 32 * 32 * 3 }, () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 24));
    const logitsOn = (range: 'unit' | 'symmetric'): number[] => tf.tidy(() => Array.from((model.predict(tf.tensor4d(preprocess(px, range), [1, 32, 32, 3])) as tf.Tensor).dataSync()));
    const job = async (inputRange?: 'unit' | 'symmetric'): Promise<number[]> => {
      const msgs: EngineToMain[] = [];
      await runInspectJob({ type: 'inspect', jobId: 1, checkpointDir: ckpt, op: { op: 'activations', image: { dataBase64: Buffer.from(px).toString('base64'), label: 'x' } }, inputRange }, (m) => msgs.push(m), new AbortController().signal);
      const r = msgs.find((m) => m.type === 'jobResult') as { result: Extract<InspectResult, { op: 'activations' }> };
      return r.result.scores.logits;
    };
    const sym = await job('symmetric');
    const unit = await job();
    const d = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
    expect(d(sym, logitsOn('symmetric'))).toBeLessThan(1e-5);
    expect(d(unit, logitsOn('unit'))).toBeLessThan(1e-5);
    // The two ranges give different logits, so the first check could fail.
    expect(d(logitsOn('symmetric'), logitsOn('unit'))).toBeGreaterThan(1e-3);
    model.dispose();
  }, 60_000);
});
