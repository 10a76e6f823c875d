/**
 * The native inference executor (src/engine/infer.ts) against the same tfjs LayersModel run
 * on tfjs' `cpu` backend (the reference): logits agree to ≤ 1e-4 relative (max |Δ| / max
 * |ref|), for the benchmark models (batch norm folded into conv, ReLU and bias fused) and a
 * few layouts, with batch-norm moving statistics and biases made non-trivial. Skipped when
 * the addon is not built.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/engine/backend';
import { compileInference } from '../../src/engine/infer';
import { nativeAddon } from '../../src/engine/kernels/native';
import { buildModel } from '../../src/engine/model';
import { Rng } from '../../src/engine/random';
import type { ModelSpec } from '../../src/shared/spec';
import { benchModel } from '../../bench/models';

const na = nativeAddon();

beforeAll(async () => {
  await initBackend('cpu', { threads: 2 });
});

function perturb(model: ReturnType<typeof buildModel>, rng: Rng): void {
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    layer.setWeights(
      ws.map((w, i) => {
        const a = Float32Array.from(w.dataSync() as Float32Array);
        const isVar = layer.getClassName() === 'BatchNormalization' && i === ws.length - 1;
        for (let q = 0; q < a.length; q++) a[q] = isVar ? 0.5 + rng.next() : a[q] + 0.1 * rng.normal();
        return tf.tensor(a, w.shape);
      }),
    );
  }
}

async function check(spec: ModelSpec, n: number, seed: number): Promise<number> {
  const rng = new Rng(seed);
  await tf.setBackend('wasm');
  const model = buildModel(spec, seed);
  perturb(model, rng);
  const [h, w, c] = spec.inputShape;
  const x = new Float32Array(n * h * w * c);
  for (let i = 0; i < x.length; i++) x[i] = rng.next();
  const plan = compileInference(model, n + 3);
  expect(plan).not.toBeNull();
  const got = Float32Array.from(plan!.run(x, n));
  // The one-call executor (chunks of images, one thread each) and the per-op path (each op over the whole batch) compute the same numbers.
  process.env.LAYERWISE_INFER_PER_OP = '1';
  const perOp = Float32Array.from(plan!.run(x, n));
  delete process.env.LAYERWISE_INFER_PER_OP;
  expect(Array.from(got)).toEqual(Array.from(perOp));
  expect(Array.from(plan!.run(x, n))).toEqual(Array.from(got));
  const weights = model.getWeights().map((t) => ({ data: Float32Array.from(t.dataSync() as Float32Array), shape: t.shape }));
  await tf.setBackend('cpu');
  const ref = buildModel(spec, seed);
  ref.setWeights(weights.map((v) => tf.tensor(v.data, v.shape)));
  const out = tf.tidy(() => ref.apply(tf.tensor4d(x, [n, h, w, c]), { training: false }) as tf.Tensor);
  const want = out.dataSync() as Float32Array;
  out.dispose();
  ref.dispose();
  await tf.setBackend('wasm');
  model.dispose();
  expect(got.length).toBe(want.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < want.length; i++) [d, s] = [Math.max(d, Math.abs(got[i] - want[i])), Math.max(s, Math.abs(want[i]))];
  return d / s;
}

describe.skipIf(!na)('native inference executor', () => {
  it('M1 (conv+relu, pool, dense) matches tfjs cpu', async () => {
    expect(await check(benchModel('M1').spec, 7, 1)).toBeLessThanOrEqual(1e-4);
  });
  it('M1 at batch 64 and 37 (several chunks per thread, a partial last chunk) matches tfjs cpu', async () => {
    expect(await check(benchModel('M1').spec, 64, 4)).toBeLessThanOrEqual(1e-4);
    expect(await check(benchModel('M1').spec, 37, 5)).toBeLessThanOrEqual(1e-4);
  });
  it('one image (the executor runs it on the calling thread) matches tfjs cpu', async () => {
    expect(await check(benchModel('M1').spec, 1, 6)).toBeLessThanOrEqual(1e-4);
  });
  it('M2 (conv + batch norm folded + relu, dropout) matches tfjs cpu', async () => {
    expect(await check(benchModel('M2').spec, 5, 2)).toBeLessThanOrEqual(1e-4);
  });
  it('strides, valid/same padding, dense + batch norm, 3 channels', async () => {
    const spec: ModelSpec = {
      preset: 'custom',
      inputShape: [17, 15, 3],
      numClasses: 4,
      layers: [
        { type: 'conv2d', filters: 9, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', useBias: true },
        { type: 'maxPooling2d', poolSize: 3, strides: 1, padding: 'same' },
        { type: 'conv2d', filters: 5, kernelSize: 2, strides: 1, padding: 'valid', activation: 'linear', useBias: true },
        { type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 },
        { type: 'flatten' },
        { type: 'dense', units: 12, activation: 'linear', useBias: false },
        { type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 },
        { type: 'activation', activation: 'relu' },
        { type: 'dense', units: 4, activation: 'linear', useBias: true },
      ],
    };
    expect(await check(spec, 6, 3)).toBeLessThanOrEqual(1e-4);
  });
  it('fused conv + 2×2 max pool (one input channel; 16 outputs), the 16-output direct conv, odd sizes', async () => {
    const spec: ModelSpec = {
      preset: 'custom',
      inputShape: [15, 13, 1],
      numClasses: 4,
      layers: [
        { type: 'conv2d', filters: 5, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu', useBias: true },
        { type: 'maxPooling2d', poolSize: 2, strides: 2, padding: 'valid' },
        { type: 'conv2d', filters: 16, kernelSize: 2, strides: 1, padding: 'valid', activation: 'linear', useBias: true },
        { type: 'conv2d', filters: 16, kernelSize: 2, strides: 1, padding: 'valid', activation: 'relu', useBias: true },
        { type: 'maxPooling2d', poolSize: 2, strides: 2, padding: 'valid' },
        { type: 'flatten' },
        { type: 'dense', units: 4, activation: 'linear', useBias: true },
      ],
    };
    expect(await check(spec, 19, 7)).toBeLessThanOrEqual(1e-4);
  });
  it('declines what it does not cover (tanh): callers keep the tfjs graph', async () => {
    await tf.setBackend('wasm');
    const m = buildModel({ preset: 'custom', inputShape: [8, 8, 1], numClasses: 2, layers: [{ type: 'conv2d', filters: 2, kernelSize: 3, strides: 1, padding: 'same', activation: 'tanh', useBias: true }, { type: 'flatten' }, { type: 'dense', units: 2, activation: 'linear', useBias: true }] } as ModelSpec, 1);
    expect(compileInference(m, 4)).toBeNull();
    m.dispose();
  });
});
