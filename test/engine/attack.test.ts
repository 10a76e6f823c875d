/**
 * Adversarial examples (src/engine/attack.ts, attack-curve.ts) on the wasm backend:
 * - the input gradient of our softmax cross-entropy equals the numerical gradient (central
 *   differences, as in the lecture) on a small smooth model;
 * - FGSM and PGD stay inside the ε-ball and the input range; at ε = 0 they return the input
 *   bit for bit, so the curve's ε = 0 points equal train.ts `evaluate`'s accuracy exactly;
 * - on a LeNet-5 trained on the MNIST test set (80/10/10): PGD accuracy does not rise with ε,
 *   PGD is no weaker than FGSM at the same ε, a targeted attack reaches its target more often
 *   as ε grows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fgsm, fgsmFromSign, gradientSign, inputGradient, pgd, uniformStart } from '../../src/engine/attack';
import { attackCurve, attackSample } from '../../src/engine/attack-curve';
import { initBackend } from '../../src/engine/backend';
import { buildModel, crossEntropyFromLogits } from '../../src/engine/model';
import type { LoadedPack } from '../../src/engine/pack-reader';
import { Rng } from '../../src/engine/random';
import { evaluate } from '../../src/engine/train';
import { AttackParamsSchema } from '../../src/shared/attack';
import { ModelSpecSchema } from '../../src/shared/spec';
import { haveMnist, lenetSpec, trainAndLoad, writeMnistPack } from './helpers/mnist-lenet';

const dir = mkdtempSync(join(tmpdir(), 'lw-attack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend('cpu');
});

const bounds = { min: 0, max: 1 };

describe('inputGradient', () => {
  it('equals the numerical gradient (central differences) of the summed cross-entropy for every pixel', () => {
    const spec = ModelSpecSchema.parse({
      preset: 'custom',
      inputShape: [6, 6, 3],
      numClasses: 3,
      layers: [
        { type: 'conv2d', filters: 3, kernelSize: 3, strides: 1, padding: 'same', activation: 'tanh', useBias: true },
        { type: 'averagePooling2d', poolSize: 2, padding: 'valid' },
        { type: 'flatten' },
        { type: 'dense', units: 3, activation: 'linear', useBias: true },
      ],
    });
    const model = buildModel(spec, 5);
    const rng = new Rng(3);
    const n = 3;
    const xs = Float32Array.from({ length: n * 6 * 6 * 3 }, () => rng.next());
    const x = tf.tensor4d(xs, [n, 6, 6, 3]);
    const y = tf.tensor1d([0, 2, 1], 'int32');
    const g = inputGradient(model, x, y);
    const analytic = g.dataSync();
    const lossAt = (v: Float32Array): number => tf.tidy(() => crossEntropyFromLogits(model.apply(tf.tensor4d(v, [n, 6, 6, 3])) as tf.Tensor2D, y).dataSync()[0] * n);
    const h = 1e-2;
    let diff2 = 0;
    let norm2 = 0;
    for (let i = 0; i < xs.length; i++) {
      const plus = xs.slice();
      const minus = xs.slice();
      plus[i] += h;
      minus[i] -= h;
      const numerical = (lossAt(plus) - lossAt(minus)) / (2 * h);
      diff2 += (numerical - analytic[i]) ** 2;
      norm2 += numerical ** 2;
    }
    const rel = Math.sqrt(diff2 / norm2);
    console.log(`input gradient check: relative error ${rel.toExponential(2)} over ${xs.length} pixels`);
    expect(norm2).toBeGreaterThan(0);
    expect(rel).toBeLessThan(1e-3);
    tf.dispose([x, y, g]);
    model.dispose();
  });
});

describe.skipIf(!haveMnist)('attacks on LeNet-5 trained on the MNIST test set', () => {
  let model: tfl.LayersModel;
  let pack: LoadedPack;
  beforeAll(async () => {
    ({ model, pack } = await trainAndLoad(lenetSpec(1), writeMnistPack(join(dir, 'pack')), join(dir, 'run')));
  }, 600_000);
  afterAll(() => model?.dispose());

  it('FGSM and PGD stay in the ε-ball and [0, 1]; at ε = 0 they return the input bit for bit', () => {
    const idx = attackSample(pack, { split: 'test', maxImages: 64, seed: 1 });
    const x = tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(Array.from(idx).flatMap((i) => Array.from(pack.pixels.subarray(i * 784, (i + 1) * 784)))), [64, 28, 28, 1]), 255) as tf.Tensor4D);
    const y = tf.tensor1d(Array.from(idx, (i) => pack.labels[i]), 'int32');
    const xv = x.dataSync();
    const eps = 8 / 255;
    const start = tf.tensor4d(uniformStart(new Rng(2), x.size), x.shape);
    for (const adv of [fgsm(model, x, y, eps, bounds), pgd(model, x, y, { epsilon: eps, steps: 5, stepSize: eps / 2, bounds, start })]) {
      const a = adv.dataSync();
      let moved = 0;
      for (let i = 0; i < a.length; i++) {
        expect(Math.abs(a[i] - xv[i])).toBeLessThanOrEqual(eps * (1 + 1e-6));
        expect(a[i]).toBeGreaterThanOrEqual(0);
        expect(a[i]).toBeLessThanOrEqual(1);
        if (a[i] !== xv[i]) moved++;
      }
      expect(moved).toBeGreaterThan(a.length / 4);
      adv.dispose();
    }
    // One gradient sign for every ε (the curve's FGSM) gives FGSM's images bit for bit.
    const sign = gradientSign(model, x, y);
    for (const e of [2 / 255, eps]) {
      const [a, b] = [fgsm(model, x, y, e, bounds), fgsmFromSign(x, sign, e, bounds)];
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      tf.dispose([a, b]);
    }
    sign.dispose();
    for (const adv of [fgsm(model, x, y, 0, bounds), pgd(model, x, y, { epsilon: 0, steps: 5, stepSize: 0, bounds, start })]) {
      expect(Array.from(adv.dataSync())).toEqual(Array.from(xv));
      adv.dispose();
    }
    tf.dispose([x, y, start]);
  });

  it('ε = 0 gives evaluate()’s clean accuracy exactly; PGD does not rise with ε and is no weaker than FGSM', async () => {
    const params = AttackParamsSchema.parse({ epsilons: [0, 2, 4, 8, 16, 32], steps: 10, maxImages: 0, split: 'test', galleryCount: 3 });
    let lastProgress = [0, 0];
    const r = (await attackCurve(model, pack, params, { onProgress: (d, t) => (lastProgress = [d, t]) }))!;
    const clean = (await evaluate(model, pack, pack.indices.test))!;
    console.log(`MNIST LeNet-5 (1 epoch), ${r.count} test images, ${r.seconds.toFixed(1)} s: clean ${clean.accuracy}; ` + r.points.map((p) => `${p.method}@${p.epsilon} ${(100 * p.accuracy).toFixed(1)} %`).join(', '));
    expect(r.count).toBe(pack.indices.test.length);
    expect(r.cleanAccuracy).toBe(clean.accuracy);
    expect(clean.accuracy).toBeGreaterThan(0.9);
    const at = (m: string, e: number) => r.points.find((p) => p.method === m && p.epsilon === e)!.accuracy;
    expect(at('fgsm', 0)).toBe(clean.accuracy);
    expect(at('pgd', 0)).toBe(clean.accuracy);
    const eps = params.epsilons;
    for (let i = 1; i < eps.length; i++) {
      expect(at('pgd', eps[i])).toBeLessThanOrEqual(at('pgd', eps[i - 1]));
      expect(at('pgd', eps[i])).toBeLessThanOrEqual(at('fgsm', eps[i]));
    }
    // The attack bites: at 32/255 PGD-10 takes a standard LeNet-5 far below its clean accuracy.
    expect(at('pgd', 32)).toBeLessThan(clean.accuracy - 0.3);
    expect(lastProgress[0]).toBe(lastProgress[1]);
    // FGSM: one gradient per image for all its ε; PGD-10: ten per ε.
    expect(lastProgress[1]).toBe(r.count * (1 + 5 * 10));
    // Gallery: 3 images × 6 ε × 2 methods; the adversarial image decodes to h·w·c bytes; at ε = 0 it is the original.
    expect(r.gallery.items).toHaveLength(3);
    for (const item of r.gallery.items) {
      expect(item.entries).toHaveLength(12);
      expect(Buffer.from(item.original, 'base64')).toHaveLength(784);
      const e0 = item.entries.find((e) => e.epsilon === 0)!;
      expect(e0.adversarial).toBe(item.original);
      expect(e0.predicted).toBe(item.clean.predicted);
      const e8 = item.entries.find((e) => e.epsilon === 8 && e.method === 'fgsm')!;
      // FGSM moves every pixel not clipped by the range by exactly ±ε: shown as 0 or 255.
      const p = Buffer.from(e8.perturbation, 'base64');
      expect(e8.amplification).toBeCloseTo(127.5 / 8, 10);
      expect(Array.from(p).filter((v) => v === 0 || v === 255).length).toBeGreaterThan(200);
    }
  });

  it('a targeted PGD attack ("next" class) reaches its target more often as ε grows', async () => {
    const params = AttackParamsSchema.parse({ methods: ['pgd'], epsilons: [0, 16, 64], steps: 20, maxImages: 300, target: 'next', galleryCount: 0 });
    const r = (await attackCurve(model, pack, params))!;
    const rate = r.points.map((p) => p.targetRate!);
    console.log(`targeted PGD-10 (next class), target rate by ε: ${rate.map((v) => (100 * v).toFixed(1)).join(' → ')} %`);
    expect(rate[0]).toBeLessThan(0.05);
    expect(rate[1]).toBeGreaterThan(rate[0]);
    expect(rate[2]).toBeGreaterThan(rate[1]);
    expect(rate[2]).toBeGreaterThan(0.5);
  });

  it('leaks no tensors: a curve with FGSM, PGD and a target leaves tf.memory().numTensors as it was', async () => {
    const params = AttackParamsSchema.parse({ epsilons: [0, 4], steps: 2, maxImages: 150, target: 'next', galleryCount: 2 });
    await attackCurve(model, pack, params, { batchSize: 64 });
    const before = tf.memory().numTensors;
    await attackCurve(model, pack, params, { batchSize: 64 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops and returns null when cancelled', async () => {
    const signal = { aborted: false };
    const params = AttackParamsSchema.parse({ epsilons: [4, 8], maxImages: 400 });
    const r = await attackCurve(model, pack, params, { signal, onProgress: () => (signal.aborted = true) });
    expect(r).toBeNull();
  });
});
