/**
 * The native addon's kernels (src/engine/kernels/native.ts) against tfjs' `cpu` backend
 * (the reference) on random shapes, strides, paddings and dilations: max |native − cpu| /
 * max |cpu| ≤ 1e-4. Skipped, with the reason, when the addon is not built.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/engine/backend';
import { engineKernelLayers } from '../../src/engine/kernels';
import { batchNormTraining, nativeBatchNormTrainingAvailable } from '../../src/engine/kernels/batch-norm';
import { nativeAddon, nativeLoadError, setNativeThreads } from '../../src/engine/kernels/native';
import { Rng } from '../../src/engine/random';
import { maxRelErr as relErr, on } from './helpers/compare';

const na = nativeAddon();
if (!na) console.warn(`kernels-native: skipped: ${nativeLoadError()}`);

function rand(rng: Rng, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return tf.tensor(a, shape);
}

/** Same random inputs on both backends (built inside `f` from plain arrays via the seed). */
async function compare(f: (rng: Rng) => tf.Tensor, seed: number): Promise<number> {
  const ref = await on('cpu', () => f(new Rng(seed)));
  const got = await on('wasm', () => f(new Rng(seed)));
  expect(got.length).toBe(ref.length);
  return relErr(got, ref);
}

beforeAll(async () => {
  await initBackend('cpu', { threads: 2 });
});

describe.skipIf(!na)('native kernels', () => {
  it('are registered over the wasm kernels', () => {
    for (const k of ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul', '_FusedMatMul', 'Sum', 'Mean', 'Tile', 'MaxPool', 'MaxPoolGrad', 'FusedBatchNorm', 'LwBatchNormTrain', 'LwBatchNormTrainGrad']) {
      expect(tf.getKernel(k, 'wasm')?.kernelFunc).toBe(engineKernelLayers.get(`${k}/wasm`)?.native?.kernelFunc);
    }
  });

  const rng = new Rng(99);
  const convCases: { n: number; h: number; w: number; cin: number; cout: number; k: number; s: number; d: number; pad: 'same' | 'valid' }[] = [];
  for (const s of [1, 2, 3]) {
    for (const pad of ['same', 'valid'] as const) {
      for (let rep = 0; rep < 2; rep++) {
        const k = 1 + rng.int(5);
        convCases.push({ n: 1 + rng.int(4), h: k + rng.int(12), w: k + rng.int(12), cin: 1 + rng.int(6), cout: 1 + rng.int(40), k, s, d: 1, pad });
      }
    }
  }
  convCases.push({ n: 2, h: 9, w: 11, cin: 3, cout: 5, k: 3, s: 1, d: 2, pad: 'same' }, { n: 4, h: 32, w: 32, cin: 32, cout: 32, k: 3, s: 1, d: 1, pad: 'same' });
  convCases.push({ n: 3, h: 6, w: 6, cin: 4, cout: 8, k: 1, s: 1, d: 1, pad: 'valid' }); // 1×1: im2col skipped
  // One input channel, ≤ 16 outputs: the direct kernel (any y-stride, x-stride 1 … or im2col otherwise).
  convCases.push({ n: 3, h: 28, w: 28, cin: 1, cout: 6, k: 5, s: 1, d: 1, pad: 'same' }, { n: 2, h: 19, w: 37, cin: 1, cout: 16, k: 3, s: 1, d: 1, pad: 'valid' });
  convCases.push({ n: 2, h: 11, w: 9, cin: 1, cout: 5, k: 3, s: 1, d: 2, pad: 'same' }, { n: 2, h: 13, w: 13, cin: 1, cout: 3, k: 4, s: 2, d: 1, pad: 'same' });
  for (let rep = 0; rep < 4; rep++) {
    const k = 1 + rng.int(6);
    convCases.push({ n: 1 + rng.int(3), h: k + rng.int(20), w: k + rng.int(40), cin: 1, cout: 1 + rng.int(17), k, s: 1, d: 1, pad: rep % 2 ? 'same' : 'valid' });
  }

  it.each(convCases)('Conv2D, FusedConv2D (bias, relu), Conv2DBackpropInput, Conv2DBackpropFilter match cpu: %o', async (c) => {
    const xShape: [number, number, number, number] = [c.n, c.h, c.w, c.cin];
    const fShape: [number, number, number, number] = [c.k, c.k, c.cin, c.cout];
    const strides: [number, number] = [c.s, c.s];
    const dil: [number, number] = [c.d, c.d];
    const y = tf.tidy(() => tf.conv2d(tf.zeros(xShape) as tf.Tensor4D, tf.zeros(fShape) as tf.Tensor4D, strides, c.pad, 'NHWC', dil));
    const dyShape = y.shape;
    y.dispose();
    const seed = rng.int(1e9);
    expect(await compare((r) => tf.conv2d(rand(r, xShape) as tf.Tensor4D, rand(r, fShape) as tf.Tensor4D, strides, c.pad, 'NHWC', dil), seed)).toBeLessThanOrEqual(1e-4);
    expect(
      await compare((r) => tf.fused.conv2d({ x: rand(r, xShape) as tf.Tensor4D, filter: rand(r, fShape) as tf.Tensor4D, strides, pad: c.pad, dilations: dil, bias: rand(r, [c.cout]), activation: 'relu' }), seed),
    ).toBeLessThanOrEqual(1e-4);
    if (c.d !== 1) return; // tfjs takes no dilation in the gradient kernels
    expect(await compare((r) => tf.conv2dTranspose(rand(r, dyShape) as tf.Tensor4D, rand(r, fShape) as tf.Tensor4D, xShape as [number, number, number, number], strides, c.pad), seed)).toBeLessThanOrEqual(1e-4);
    expect(
      await compare(
        (r) =>
          tf.engine().runKernel('Conv2DBackpropFilter', { x: rand(r, xShape), dy: rand(r, dyShape) }, { strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: fShape } as never) as tf.Tensor,
        seed,
      ),
    ).toBeLessThanOrEqual(1e-4);
  });

  const mmCases: { batchA: number[]; batchB: number[]; m: number; n: number; k: number; ta: boolean; tb: boolean }[] = [];
  for (const ta of [false, true]) for (const tb of [false, true]) mmCases.push({ batchA: [], batchB: [], m: 1 + rng.int(70), n: 1 + rng.int(70), k: 1 + rng.int(300), ta, tb });
  mmCases.push({ batchA: [3], batchB: [3], m: 13, n: 17, k: 19, ta: false, tb: true }, { batchA: [2, 2], batchB: [], m: 5, n: 40, k: 7, ta: true, tb: false }, { batchA: [], batchB: [], m: 64, n: 4096, k: 128, ta: false, tb: true });

  it.each(mmCases)('BatchMatMul and _FusedMatMul (bias, relu) match cpu: %o', async (c) => {
    const aShape = [...c.batchA, ...(c.ta ? [c.k, c.m] : [c.m, c.k])];
    const bShape = [...c.batchB, ...(c.tb ? [c.n, c.k] : [c.k, c.n])];
    const seed = rng.int(1e9);
    expect(await compare((r) => tf.matMul(rand(r, aShape), rand(r, bShape), c.ta, c.tb), seed)).toBeLessThanOrEqual(1e-4);
    if (c.batchA.length === 0 && c.batchB.length === 0) {
      expect(await compare((r) => tf.fused.matMul({ a: rand(r, aShape), b: rand(r, bShape), transposeA: c.ta, transposeB: c.tb, bias: rand(r, [c.n]), activation: 'relu' }), seed)).toBeLessThanOrEqual(1e-4);
    }
  });

  it.each([
    { shape: [64, 32, 32, 32], axes: [0, 1, 2] },
    { shape: [7, 5, 3], axes: [1] },
    { shape: [7, 5, 3], axes: [2] },
    { shape: [4, 6], axes: [0, 1] },
    { shape: [2, 3, 4, 5], axes: [1, 2] },
  ])('Sum and Mean match cpu (double accumulation): %o', async (c) => {
    const seed = rng.int(1e9);
    expect(await compare((r) => tf.sum(rand(r, c.shape), c.axes), seed)).toBeLessThanOrEqual(1e-4);
    expect(await compare((r) => tf.mean(rand(r, c.shape), c.axes, true), seed)).toBeLessThanOrEqual(1e-4);
  });

  it.each([
    { shape: [1, 1, 1, 32], reps: [64, 32, 32, 1] },
    { shape: [2, 3], reps: [3, 2] },
    { shape: [5], reps: [4] },
    { shape: [2, 1, 3], reps: [1, 4, 2] },
  ])('Tile matches cpu: %o', async (c) => {
    expect(await compare((r) => tf.tile(rand(r, c.shape), c.reps), rng.int(1e9))).toBe(0);
  });
});

describe.skipIf(!na)('native max pooling', () => {
  const rng = new Rng(5);
  const cases: { n: number; h: number; w: number; c: number; f: number; s: number; pad: 'same' | 'valid' }[] = [
    { n: 64, h: 28, w: 28, c: 6, f: 2, s: 2, pad: 'valid' },
    { n: 2, h: 7, w: 9, c: 3, f: 3, s: 2, pad: 'same' },
    { n: 3, h: 8, w: 8, c: 5, f: 3, s: 1, pad: 'same' },
  ];
  for (let rep = 0; rep < 4; rep++) {
    const f = 1 + rng.int(4);
    cases.push({ n: 1 + rng.int(4), h: f + rng.int(12), w: f + rng.int(12), c: 1 + rng.int(20), f, s: 1 + rng.int(3), pad: rep % 2 ? 'same' : 'valid' });
  }
  it.each(cases)('MaxPool and MaxPoolGrad match cpu: %o', async (c) => {
    const xShape = [c.n, c.h, c.w, c.c];
    const seed = rng.int(1e9);
    expect(await compare((r) => tf.maxPool(rand(r, xShape) as tf.Tensor4D, c.f, c.s, c.pad), seed)).toBeLessThanOrEqual(1e-4);
    // Gradient of Σ(maxPool(x)·g) with respect to x: MaxPoolGrad with dy = g.
    expect(
      await compare((r) => {
        const x = rand(r, xShape) as tf.Tensor4D;
        const g = tf.tidy(() => rand(r, tf.maxPool(x, c.f, c.s, c.pad).shape));
        return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, c.f, c.s, c.pad), g)))(x);
      }, seed),
    ).toBeLessThanOrEqual(1e-4);
  });
});

describe.skipIf(!na)('native batch normalization', () => {
  const rng = new Rng(11);
  /** Per output, max |wasm − cpu| / max |cpu| of the tensors `f` returns on each backend. */
  async function compareMany(f: (r: Rng) => tf.Tensor[], seed: number): Promise<number[]> {
    const run = async (backend: string): Promise<Float32Array[]> => {
      await tf.setBackend(backend);
      const outs = tf.tidy(() => f(new Rng(seed)));
      const vals = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
      tf.dispose(outs);
      return vals;
    };
    const ref = await run('cpu');
    const got = await run('wasm');
    return ref.map((r, i) => relErr(got[i], r));
  }
  const axesOf = (rank: number): number[] => [...Array(rank - 1).keys()];
  /** y, mean, variance: the native kernel on wasm, tf.moments + tf.batchNorm (the stock layer's path) on cpu. */
  function bnTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor[] {
    if (tf.getBackend() === 'wasm') {
      expect(nativeBatchNormTrainingAvailable(x)).toBe(true);
      const { y, mean, variance } = batchNormTraining(x, gamma, beta, eps);
      return [y, mean, variance];
    }
    const m = tf.moments(x, axesOf(x.rank));
    return [tf.batchNorm(x, m.mean, m.variance, beta, gamma, eps), m.mean, m.variance];
  }
  const cases: { shape: number[]; eps: number; shift: number }[] = [
    { shape: [8, 16, 16, 32], eps: 1e-3, shift: 0 },
    { shape: [4, 8, 8, 64], eps: 1e-7, shift: 3 },
    { shape: [64, 10], eps: 1e-3, shift: 0 },
    { shape: [3, 5, 7], eps: 1e-3, shift: -2 },
  ];
  for (let rep = 0; rep < 4; rep++) cases.push({ shape: [1 + rng.int(6), 1 + rng.int(12), 1 + rng.int(12), 1 + rng.int(40)], eps: 1e-3, shift: rng.normal() * 2 });
  it.each(cases)('training forward (y, mean, variance) and gradients (dx, dγ, dβ, through mean/variance too) match cpu: %o', async (c) => {
    const C = c.shape[c.shape.length - 1];
    const inputs = (r: Rng): tf.Tensor[] => [tf.add(tf.mul(rand(r, c.shape), 1.5), c.shift), tf.add(rand(r, [C]), 1), rand(r, [C]), rand(r, c.shape), rand(r, [C]), rand(r, [C])];
    const seed = rng.int(1e9);
    const fwd = await compareMany((r) => {
      const [x, g, b] = inputs(r);
      return bnTrain(x, g, b, c.eps);
    }, seed);
    for (const e of fwd) expect(e).toBeLessThanOrEqual(1e-4);
    // Gradients of Σ y·gy (+ Σ mean·gm + Σ variance·gv: the mean / variance outputs' gradients).
    for (const withStats of [false, true]) {
      const back = await compareMany((r) => {
        const [x, g, b, gy, gm, gv] = inputs(r);
        return tf.grads((xv: tf.Tensor, gv2: tf.Tensor, bv: tf.Tensor) => {
          const [y, mean, variance] = bnTrain(xv, gv2, bv, c.eps);
          const loss = tf.sum(tf.mul(y, gy));
          return withStats ? tf.add(loss, tf.add(tf.sum(tf.mul(mean, gm)), tf.sum(tf.mul(variance, gv)))) : loss;
        })([x, g, b]);
      }, seed);
      for (const e of back) expect(e).toBeLessThanOrEqual(1e-4);
    }
  });

  it.each([
    { shape: [8, 6, 6, 16], pshape: [16] },
    { shape: [5, 24], pshape: [24] },
    { shape: [2, 3, 3, 4], pshape: [1, 1, 1, 4] },
  ])('FusedBatchNorm (inference, given statistics) matches cpu: %o', async (c) => {
    expect(tf.getKernel('FusedBatchNorm', 'wasm')?.kernelFunc).toBe(engineKernelLayers.get('FusedBatchNorm/wasm')?.native?.kernelFunc);
    const err = await compare((r) => {
      const x = rand(r, c.shape);
      const [mean, v, g, b] = [rand(r, c.pshape), tf.add(tf.abs(rand(r, c.pshape)), 0.1), rand(r, c.pshape), rand(r, c.pshape)];
      return tf.batchNorm(x, mean, v, b, g, 1e-3);
    }, rng.int(1e9));
    expect(err).toBeLessThanOrEqual(1e-4);
  });

  it('forward and gradient are bit-identical for 1, 2 and 3 threads (M2 first-layer shape)', async () => {
    await tf.setBackend('wasm');
    const r = new Rng(3);
    const [x, g, b, gy] = [rand(r, [64, 32, 32, 32]), rand(r, [32]), rand(r, [32]), rand(r, [64, 32, 32, 32])];
    const run = async (threads: number): Promise<Float32Array[]> => {
      setNativeThreads(threads);
      const outs = tf.tidy(() => {
        const { y, mean, variance } = batchNormTraining(x, g, b, 1e-3);
        const grads = tf.grads((xv: tf.Tensor, gv: tf.Tensor, bv: tf.Tensor) => tf.sum(tf.mul(batchNormTraining(xv, gv, bv, 1e-3).y, gy)))([x, g, b]);
        return [y, mean, variance, ...grads];
      });
      const vals = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
      tf.dispose(outs);
      return vals;
    };
    try {
      const one = await run(1);
      for (const t of [2, 3]) {
        const other = await run(t);
        other.forEach((v, i) => expect(Buffer.from(v.buffer).equals(Buffer.from(one[i].buffer))).toBe(true));
      }
    } finally {
      setNativeThreads(2);
      tf.dispose([x, g, b, gy]);
    }
  });
});
