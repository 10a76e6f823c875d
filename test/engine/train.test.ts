/**
 * The training core in-process on the wasm backend, on a small synthetic pack.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/engine/backend';
import { evaluate } from '../../src/engine/train';
import { readPack } from '../../src/engine/pack-reader';
import type { EngineToMain, TrainJob } from '../../src/shared/engine-protocol';
import { buildPreset, learningRateAt, parseRunSpec, type RunSpecInput } from '../../src/shared/spec';
import { writeSyntheticPack } from './helpers/pack';
import { runJob } from './helpers/run';

let dir = '';
let pack = '';

beforeAll(async () => {
  await initBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'lw-engine-train-'));
  pack = writeSyntheticPack(join(dir, 'pack'), { count: 200 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let runNo = 0;
function job(training: Partial<RunSpecInput['training']> = {}, model: RunSpecInput['model'] = buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }), seed = 42): TrainJob {
  const spec = parseRunSpec({
    datasetId: 1,
    seed,
    backend: 'cpu',
    model,
    training: { optimizer: { type: 'adam', learningRate: 3e-3 }, batchSize: 16, epochs: 2, ...training },
  });
  return { type: 'train', runId: 1, spec, packDir: pack, outDir: join(dir, `out-${++runNo}`) };
}

const run = runJob;

const strip = (msgs: EngineToMain[]) =>
  msgs.filter((m) => m.type === 'metrics' || m.type === 'done').map((m) => (m.type === 'metrics' ? { ...m, seconds: 0 } : { ...m, samplesPerSec: 0 }));

describe('train', () => {
  it('streams progress, metrics, checkpoints and done; checkpoints reload to the same test result', async () => {
    const j = job({ learningRateSchedule: { type: 'step', stepSize: 1, gamma: 0.5 }, regularization: { l1: 1e-5, l2: 1e-4 } });
    const msgs = await run(j);
    const kinds = msgs.map((m) => m.type);
    expect(kinds[kinds.length - 1]).toBe('done');
    expect(kinds.filter((k) => k === 'metrics')).toHaveLength(2);
    // Every epoch ends with its last step's progress, then metrics, then checkpoint.
    const steps = Math.ceil(140 / 16);
    for (let e = 0; e < 2; e++) {
      const i = msgs.findIndex((m) => m.type === 'metrics' && m.epoch === e);
      const p = msgs[i - 1];
      expect(p.type === 'progress' && p.step === (e + 1) * steps - 1 && p.totalSteps === 2 * steps).toBe(true);
      const metrics = msgs[i] as Extract<EngineToMain, { type: 'metrics' }>;
      expect(metrics.learningRate).toBeCloseTo(learningRateAt(3e-3, j.spec.training.learningRateSchedule, e, 2), 12);
      expect(metrics.valAccuracy).not.toBeNull();
      const cp = msgs[i + 1];
      expect(cp).toEqual({ type: 'checkpoint', epoch: e, path: join(j.outDir, `epoch-${e}`, 'model.json') });
      expect(existsSync(join(j.outDir, `epoch-${e}`, 'weights.bin'))).toBe(true);
    }
    const m1 = msgs.find((m) => m.type === 'metrics' && m.epoch === 1) as Extract<EngineToMain, { type: 'metrics' }>;
    expect(m1.trainAccuracy).toBeGreaterThan(0.5); // learnable synthetic data
    const done = msgs[msgs.length - 1] as Extract<EngineToMain, { type: 'done' }>;
    expect(done.cancelled).toBe(false);
    expect(done.testAccuracy).not.toBeNull();
    expect(done.samplesPerSec).toBeGreaterThan(0);

    // Reload the tested (best by validation accuracy) checkpoint (TF.js layers format) and evaluate it: same test metrics.
    const vals = [0, 1].map((e) => (msgs.find((m) => m.type === 'metrics' && m.epoch === e) as Extract<EngineToMain, { type: 'metrics' }>).valAccuracy!);
    expect(done.testedEpoch).toBe(vals[1] > vals[0] ? 1 : 0);
    const mj = JSON.parse(readFileSync(join(j.outDir, `epoch-${done.testedEpoch}`, 'model.json'), 'utf8'));
    expect(mj.format).toBe('layers-model');
    expect(mj.weightsManifest[0].paths).toEqual(['weights.bin']);
    const w = readFileSync(join(j.outDir, `epoch-${done.testedEpoch}`, 'weights.bin'));
    const model = await tfl.loadLayersModel(
      tf.io.fromMemory({ modelTopology: mj.modelTopology, weightSpecs: mj.weightsManifest[0].weights, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.length) }),
    );
    const p = readPack(pack);
    const again = (await evaluate(model, p, p.indices.test))!;
    expect(again.accuracy).toBe(done.testAccuracy);
    expect(again.loss).toBeCloseTo(done.testLoss!, 5);
    model.dispose();
  });

  it('is reproducible: same spec and seed give identical metrics (BN, dropout, augmentation, shuffling)', async () => {
    const model = buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10, batchNormalization: true, dropoutRate: 0.25 });
    const training = { augmentation: { horizontalFlip: true, randomTranslation: 0.1, gaussianNoise: 0.05 }, maxTrainSamples: 96 };
    const a = strip(await run(job(training, model, 7)));
    const b = strip(await run(job(training, model, 7)));
    const c = strip(await run(job(training, model, 8)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('does not grow tf.memory().numTensors across steps and epochs, and frees everything at the end', async () => {
    const before = tf.memory().numTensors;
    const atEpochEnd: number[] = [];
    const perStep: number[] = [];
    await run(job({ epochs: 4, batchSize: 8, maxTrainSamples: 40 }, buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10, batchNormalization: true, dropoutRate: 0.2 })), (m) => {
      if (m.type === 'progress') perStep.push(tf.memory().numTensors);
      if (m.type === 'metrics') atEpochEnd.push(tf.memory().numTensors);
    });
    // After the first step (the optimizer creates its slots) the count is flat.
    expect(new Set(perStep.slice(1)).size).toBe(1);
    expect(new Set(atEpochEnd).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops between steps on cancel and sends done with cancelled: true', async () => {
    const signal = { aborted: false };
    const msgs = await run(job({ epochs: 3, batchSize: 4 }), (m) => {
      if (m.type === 'progress') signal.aborted = true;
    }, signal);
    const last = msgs[msgs.length - 1];
    expect(last).toMatchObject({ type: 'done', cancelled: true, testLoss: null, testAccuracy: null });
    expect(msgs.filter((m) => m.type === 'metrics')).toHaveLength(0);
  });

  it.each(['sgd', 'momentum', 'rmsprop', 'adam'] as const)('trains a custom net (strides, avg-pool, tanh/sigmoid, BN, dropout, L1) with %s', async (type) => {
    const lr = type === 'sgd' || type === 'momentum' ? 0.05 : 3e-3;
    const model = {
      preset: 'custom' as const,
      inputShape: [28, 28, 1] as [number, number, 1],
      numClasses: 10,
      layers: [
        { type: 'conv2d' as const, filters: 8, kernelSize: 3, strides: 2, padding: 'same' as const, activation: 'tanh' as const },
        { type: 'batchNormalization' as const },
        { type: 'averagePooling2d' as const, poolSize: 2 },
        { type: 'conv2d' as const, filters: 8, kernelSize: 3, padding: 'valid' as const, activation: 'relu' as const },
        { type: 'maxPooling2d' as const, poolSize: 2, strides: 1, padding: 'same' as const },
        { type: 'flatten' as const },
        { type: 'dropout' as const, rate: 0.2 },
        { type: 'dense' as const, units: 32, activation: 'sigmoid' as const },
        { type: 'dense' as const, units: 10 },
      ],
    };
    const msgs = await run(job({ optimizer: { type, learningRate: lr }, epochs: 3, learningRateSchedule: { type: 'exponential', gamma: 0.9 }, regularization: { l1: 1e-4, l2: 0 } }, model));
    const metrics = msgs.filter((m): m is Extract<EngineToMain, { type: 'metrics' }> => m.type === 'metrics');
    expect(metrics).toHaveLength(3);
    expect(metrics[2].learningRate).toBeCloseTo(lr * 0.81, 12);
    expect(metrics[2].trainLoss).toBeLessThan(metrics[0].trainLoss);
  });

  it('caps samples per epoch with maxTrainSamples', async () => {
    const msgs = await run(job({ epochs: 1, batchSize: 10, maxTrainSamples: 25 }, buildPreset('linear', { inputShape: [28, 28, 1], numClasses: 10 })));
    const p = msgs.filter((m) => m.type === 'progress');
    expect(p[p.length - 1]).toMatchObject({ step: 2, totalSteps: 3 });
  });

  it('rejects a pack that does not fit the model, naming both shapes', async () => {
    const j = job({}, buildPreset('linear', { inputShape: [32, 32, 3], numClasses: 10 }));
    await expect(run(j)).rejects.toThrow(/28×28×1.*32×32×3/);
    await expect(run({ ...j, packDir: join(dir, 'nope') })).rejects.toThrow(/cannot read meta\.json/);
  });
});
