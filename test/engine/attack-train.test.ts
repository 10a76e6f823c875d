/**
 * Adversarial training (src/engine/attack-train.ts) on the wasm backend: `mix` replaces exactly
 * the first ratio·n images of a batch by examples inside the ε-ball (the rest bit for bit as
 * they were), the same for the same step; a training run with PGD adversarial training reports
 * `valRobustAccuracy` each epoch, equal to the curve's PGD accuracy on the same checkpoint; a run
 * without it reports none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attackCurve } from '../../src/engine/attack-curve';
import { adversarialTrainer } from '../../src/engine/attack-train';
import { initBackend } from '../../src/engine/backend';
import { readCheckpoint } from '../../src/engine/checkpoint';
import { buildModel } from '../../src/engine/model';
import { readPack } from '../../src/engine/pack-reader';
import { Rng } from '../../src/engine/random';
import { train } from '../../src/engine/train';
import { AdversarialTrainingSpecSchema } from '../../src/shared/attack';
import type { EngineToMain } from '../../src/shared/engine-protocol';
import { buildPreset } from '../../src/shared/spec';
import { haveMnist, lenetSpec, writeMnistPack } from './helpers/mnist-lenet';

const dir = mkdtempSync(join(tmpdir(), 'lw-attack-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend('cpu');
});

describe('adversarialTrainer', () => {
  it('mix: the first round(ratio·n) images become adversarial within ε, the rest stay; reproducible per step', async () => {
    const model = buildModel(buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }), 3);
    const spec = AdversarialTrainingSpecSchema.parse({ method: 'pgd', ratio: 0.4, epsilon: 16, steps: 3 });
    const trainer = adversarialTrainer(model, spec, [28, 28, 1], 9, 'unit')!;
    const n = 10;
    const rng = new Rng(5);
    const clean = Float32Array.from({ length: n * 784 }, () => rng.next());
    const labels = Int32Array.from({ length: n }, (_, i) => i);
    const a = clean.slice();
    const b = clean.slice();
    await trainer.mix(a, labels, n, 7);
    const tensors = tf.memory().numTensors;
    await trainer.mix(b, labels, n, 7);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(Array.from(a)).toEqual(Array.from(b));
    const eps = 16 / 255;
    let moved = 0;
    for (let i = 0; i < 4 * 784; i++) {
      expect(Math.abs(a[i] - clean[i])).toBeLessThanOrEqual(eps * (1 + 1e-6));
      if (a[i] !== clean[i]) moved++;
    }
    expect(moved).toBeGreaterThan(3 * 784);
    expect(Array.from(a.subarray(4 * 784))).toEqual(Array.from(clean.subarray(4 * 784)));
    expect(adversarialTrainer(model, AdversarialTrainingSpecSchema.parse({}), [28, 28, 1], 9, 'unit')).toBeNull();
    model.dispose();
  });
});

describe.skipIf(!haveMnist)('training with PGD adversarial examples (MNIST test set, LeNet-5)', () => {
  it('reports val_robust_accuracy per epoch, equal to the attack curve on the checkpoint', { timeout: 900_000 }, async () => {
    const packDir = writeMnistPack(join(dir, 'pack'));
    const adversarial = { method: 'pgd', ratio: 0.5, epsilon: 16, steps: 3, robustEpsilon: 16, robustSteps: 5, robustImages: 200 };
    const spec = lenetSpec(1, { maxTrainSamples: 2000, adversarial });
    const msgs: EngineToMain[] = [];
    await train({ type: 'train', runId: 1, spec, packDir, outDir: join(dir, 'adv') }, (m) => void (m.type === 'metrics' && msgs.push(m)));
    const m = msgs[0] as Extract<EngineToMain, { type: 'metrics' }>;
    console.log(`PGD-3 adversarial training, 2,000 images: val accuracy ${m.valAccuracy}, val robust accuracy (PGD-5 at 16/255) ${m.valRobustAccuracy}`);
    expect(m.valRobustAccuracy).toBeGreaterThan(0);
    expect(m.valRobustAccuracy).toBeLessThan(m.valAccuracy!);
    const model = await readCheckpoint(join(dir, 'adv', 'epoch-0'));
    const r = (await attackCurve(model, readPack(packDir), { methods: ['pgd'], epsilons: [16], steps: 5, stepSize: undefined, target: 'none', split: 'val', maxImages: 200, galleryCount: 0, seed: spec.seed, inputRange: 'unit' }))!;
    expect(r.points[0].accuracy).toBe(m.valRobustAccuracy);
    model.dispose();

    const plain: EngineToMain[] = [];
    await train({ type: 'train', runId: 2, spec: lenetSpec(1, { maxTrainSamples: 500 }), packDir, outDir: join(dir, 'plain') }, (x) => void (x.type === 'metrics' && plain.push(x)));
    expect('valRobustAccuracy' in plain[0]).toBe(false);
  });
});
