/**
 * Model building, loss and gradients on the wasm backend (with our kernels).
 * Gradient check as in the lecture: the analytic gradient (backprop) equals the
 * numerical one, (L(w + ε) − L(w − ε)) / 2ε, for every parameter of a small
 * conv + batch-norm + pooling + dense network.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/engine/backend';
import { augmentBatch } from '../../src/engine/augment';
import { buildModel, crossEntropyFromLogits, penalisedKernels, setDropoutSeeds, trainableVariables, weightPenalty } from '../../src/engine/model';
import { nativeAddon } from '../../src/engine/kernels/native';
import { Rng } from '../../src/engine/random';
import { buildPreset, ModelSpecSchema, type ModelSpec } from '../../src/shared/spec';

beforeAll(async () => {
  await initBackend('cpu');
});

function fixedBatch(n: number, h: number, w: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const rng = new Rng(seed);
  const xs = new Float32Array(n * h * w);
  for (let i = 0; i < xs.length; i++) xs[i] = rng.next();
  return { x: tf.tensor4d(xs, [n, h, w, 1]), y: tf.tensor1d(Array.from({ length: n }, (_, i) => i % 10), 'int32') };
}

describe('crossEntropyFromLogits', () => {
  it('equals −log softmax at the label and is not clipped for confident logits', () => {
    const logits = tf.tensor2d([
      [2, 1, 0],
      [100, 0, 0],
    ]);
    const y = tf.tensor1d([0, 1], 'int32');
    const l = crossEntropyFromLogits(logits, y).dataSync()[0];
    const ref0 = -Math.log(Math.exp(2) / (Math.exp(2) + Math.exp(1) + 1));
    const ref1 = 100 + Math.log(1 + 2 * Math.exp(-100)); // −log softmax = 100, not −log(1e-7) ≈ 16.1
    expect(l).toBeCloseTo((ref0 + ref1) / 2, 4);
    tf.dispose([logits, y]);
  });
});

describe('weightPenalty', () => {
  it('is l1·Σ|w| + l2·Σw² over kernels, null when both are 0', () => {
    const a = tf.variable(tf.tensor1d([1, -2]));
    const b = tf.variable(tf.tensor1d([3]));
    expect(weightPenalty([a, b], 0, 0)).toBeNull();
    const p = weightPenalty([a, b], 0.1, 0.01)!;
    expect(p.dataSync()[0]).toBeCloseTo(0.1 * 6 + 0.01 * 14, 6);
    tf.dispose([a, b, p]);
  });
});

describe('buildModel', () => {
  it('is seeded: same seed gives the same weights, another seed other weights', () => {
    const spec = buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 });
    const [m1, m2, m3] = [buildModel(spec, 5), buildModel(spec, 5), buildModel(spec, 6)];
    const w = (m: ReturnType<typeof buildModel>) => Array.from(m.getWeights()[0].dataSync());
    expect(w(m1)).toEqual(w(m2));
    expect(w(m1)).not.toEqual(w(m3));
    expect(m1.outputs[0].shape).toEqual([null, 10]);
    expect(penalisedKernels(m1).map((v) => v.shape.length)).toEqual([4, 4, 2, 2, 2]);
    [m1, m2, m3].forEach((m) => m.dispose());
  });

  const presets: [string, ModelSpec][] = [];
  for (const name of ['linear', 'mlp', 'lenet5'] as const) {
    presets.push([name, buildPreset(name, { inputShape: [28, 28, 1], numClasses: 10 })]);
    if (name !== 'linear') presets.push([`${name}+bn+dropout`, buildPreset(name, { inputShape: [28, 28, 1], numClasses: 10, batchNormalization: true, dropoutRate: 0.3 })]);
  }

  it.each(presets)('one SGD step of %s reduces the loss on a fixed batch, without leaking tensors', (_name, spec) => {
    const model = buildModel(spec, 11);
    const { x, y } = fixedBatch(32, 28, 28, 3);
    const opt = tf.train.sgd(0.05);
    const vars = trainableVariables(model);
    // Same dropout masks before and after the step, so the two losses are the same function.
    const loss = (): number => {
      setDropoutSeeds(model, 1, 0);
      return tf.tidy(() => crossEntropyFromLogits(model.apply(x, { training: true }) as tf.Tensor2D, y).dataSync()[0]);
    };
    const before = loss();
    const n0 = tf.memory().numTensors;
    setDropoutSeeds(model, 1, 0);
    tf.tidy(() => {
      opt.minimize(() => crossEntropyFromLogits(model.apply(x, { training: true }) as tf.Tensor2D, y), false, vars);
    });
    const after = loss();
    // The SGD optimizer keeps one scalar (−lr) after its first step.
    expect(tf.memory().numTensors - n0).toBeLessThanOrEqual(1);
    expect(after).toBeLessThan(before);
    opt.dispose();
    model.dispose();
    tf.dispose([x, y]);
  });

  it('analytic gradient = numerical gradient (central differences) for conv(stride 2, same) + BN + avg-pool + dense', () => {
    const spec = ModelSpecSchema.parse({
      preset: 'custom',
      inputShape: [8, 8, 1],
      numClasses: 3,
      layers: [
        { type: 'conv2d', filters: 2, kernelSize: 3, strides: 2, padding: 'same', activation: 'linear', useBias: true },
        { type: 'batchNormalization', momentum: 0.99, epsilon: 1e-3 },
        { type: 'activation', activation: 'tanh' },
        { type: 'averagePooling2d', poolSize: 2, padding: 'valid' },
        { type: 'conv2d', filters: 3, kernelSize: 2, strides: 1, padding: 'valid', activation: 'sigmoid', useBias: true },
        { type: 'flatten' },
        { type: 'dense', units: 3, activation: 'linear', useBias: true },
      ],
    });
    const model = buildModel(spec, 3);
    const { x } = fixedBatch(4, 8, 8, 9);
    const y = tf.tensor1d([0, 1, 2, 1], 'int32');
    const vars = trainableVariables(model);
    const lossFn = (): tf.Scalar => crossEntropyFromLogits(model.apply(x, { training: true }) as tf.Tensor2D, y);
    const { grads } = tf.variableGrads(lossFn, vars);
    const eps = 1e-2;
    let num2 = 0;
    let diff2 = 0;
    let an2 = 0;
    for (const v of vars) {
      const g = grads[v.name].dataSync();
      const w0 = v.dataSync().slice();
      for (let i = 0; i < w0.length; i++) {
        const at = (delta: number): number => {
          const w = w0.slice();
          w[i] += delta;
          v.assign(tf.tensor(w, v.shape));
          return tf.tidy(() => lossFn().dataSync()[0]);
        };
        const numerical = (at(eps) - at(-eps)) / (2 * eps);
        num2 += numerical * numerical;
        an2 += g[i] * g[i];
        diff2 += (numerical - g[i]) ** 2;
      }
      v.assign(tf.tensor(w0, v.shape));
    }
    const rel = Math.sqrt(diff2) / Math.sqrt(Math.max(an2, num2));
    console.log(`gradient check: relative error ${rel.toExponential(2)}, |g| = ${Math.sqrt(an2).toExponential(2)}`);
    expect(an2).toBeGreaterThan(0);
    expect(rel).toBeLessThan(1e-3);
    tf.dispose(Object.values(grads));
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('augmentBatch', () => {
  it('is reproducible from the seed and flips / shifts with zero fill', () => {
    const img = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i + 1); // 2 images 3×4×1
    const a = img.slice();
    const b = img.slice();
    augmentBatch(a, 2, 3, 4, 1, { horizontalFlip: true, randomTranslation: 0.3, gaussianNoise: 0.1 }, new Rng(4));
    augmentBatch(b, 2, 3, 4, 1, { horizontalFlip: true, randomTranslation: 0.3, gaussianNoise: 0.1 }, new Rng(4));
    expect(Array.from(a)).toEqual(Array.from(b));
    // Flip only, find a seed that flips the first image.
    for (let s = 0; s < 20; s++) {
      const c = img.slice(0, 12);
      augmentBatch(c, 1, 3, 4, 1, { horizontalFlip: true, randomTranslation: 0, gaussianNoise: 0 }, new Rng(s));
      if (c[0] !== 1) {
        expect(Array.from(c)).toEqual([4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9]);
        break;
      }
    }
    // Shifts keep every pixel either a source pixel or 0.
    const d = img.slice(0, 12);
    augmentBatch(d, 1, 3, 4, 1, { horizontalFlip: false, randomTranslation: 0.5, gaussianNoise: 0 }, new Rng(1));
    for (const v of d) expect(v === 0 || img.includes(v)).toBe(true);
  });
});

describe.skipIf(!nativeAddon())('batch normalization layer (native training path on wasm)', () => {
  const spec = ModelSpecSchema.parse({
    preset: 'custom',
    inputShape: [12, 12, 3],
    numClasses: 4,
    layers: [
      // No bias before a batch norm: its gradient is 0 up to rounding, which no relative tolerance can compare.
      { type: 'conv2d', filters: 8, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear', useBias: false },
      { type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 },
      { type: 'activation', activation: 'relu' },
      { type: 'flatten' },
      { type: 'dense', units: 6, activation: 'linear', useBias: false },
      { type: 'batchNormalization', momentum: 0.99, epsilon: 1e-5 },
      { type: 'dense', units: 4, activation: 'linear', useBias: true },
    ],
  });
  /** Two training steps' logits, gradients and every weight (incl. moving statistics) after them. */
  async function run(backend: string): Promise<{ vals: Float32Array[]; names: string[]; json: string }> {
    await tf.setBackend(backend);
    const model = buildModel(spec, 4);
    const rng = new Rng(8);
    const x = tf.tensor4d(Float32Array.from({ length: 16 * 12 * 12 * 3 }, () => rng.next() * 2 - 0.5), [16, 12, 12, 3]);
    const y = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 4), 'int32');
    const vars = trainableVariables(model);
    const out: tf.Tensor[] = [];
    for (let step = 0; step < 2; step++) {
      const { value, grads } = tf.variableGrads(() => crossEntropyFromLogits(model.apply(x, { training: true }) as tf.Tensor2D, y), vars);
      out.push(value, ...vars.map((v) => grads[v.name]));
      tf.tidy(() => vars.forEach((v) => v.assign(tf.sub(v, tf.mul(0.1, grads[v.name])))));
    }
    out.push(...model.getWeights().map((w) => w.clone()));
    const vals = await Promise.all(out.map((t) => t.data() as Promise<Float32Array>));
    const names = model.weights.map((w) => w.originalName);
    const json = JSON.stringify(model.toJSON(null, false));
    tf.dispose([...out, x, y]);
    model.dispose();
    await tf.setBackend('wasm');
    return { vals, names, json };
  }

  it('matches the stock layer on the cpu backend: loss, gradients, weights and moving statistics after 2 steps; same names and topology', async () => {
    const ref = await run('cpu');
    const got = await run('wasm');
    expect(got.names).toEqual(ref.names);
    expect(got.names.filter((n) => n.startsWith('batchNormalization_1/'))).toEqual(['batchNormalization_1/gamma', 'batchNormalization_1/beta', 'batchNormalization_1/moving_mean', 'batchNormalization_1/moving_variance']);
    expect(got.json).toEqual(ref.json);
    expect(JSON.parse(got.json).config.layers.filter((l: { class_name: string }) => l.class_name === 'BatchNormalization')).toHaveLength(2);
    const errs = ref.vals.map((r, i) => {
      let d = 0;
      let m = 0;
      for (let j = 0; j < r.length; j++) {
        d = Math.max(d, Math.abs(got.vals[i][j] - r[j]));
        m = Math.max(m, Math.abs(r[j]));
      }
      return d / Math.max(m, 1e-30);
    });
    console.log(`native BN layer vs stock (cpu): max relative error ${Math.max(...errs).toExponential(2)} over ${errs.length} tensors`);
    expect(errs.map((e, i) => (e <= 1e-4 ? 'ok' : `${i}: ${e}`))).toEqual(errs.map(() => 'ok'));
    // The saved topology loads as stock layers.
    const loaded = await tfl.models.modelFromJSON(JSON.parse(got.json));
    expect(loaded.layers.filter((l) => l.getClassName() === 'BatchNormalization')).toHaveLength(2);
    loaded.dispose();
  });
});
