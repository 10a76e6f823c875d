/**
 * The native addon's kernels (src/engine/kernels/native.ts) against tfjs' `cpu` backend
 * (the reference) on random shapes, strides, paddings and dilations: max |native − cpu| /
 * max |cpu| ≤ 1e-4. Skipped, with the reason, when the addon is not built.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/engine/backend';
import { engineKernelLayers } from '../../src/engine/kernels';
import { batchNormTraining, nativeBatchNormTrainingAvailable, type BatchNormActivation } from '../../src/engine/kernels/batch-norm';
import { nativeAddon, nativeLoadError, setNativeThreads } from '../../src/engine/kernels/native';
import { ADAM_UPDATE, FusedAdamOptimizer, FusedMomentumOptimizer, MOMENTUM_UPDATE } from '../../src/engine/kernels/optimizer';
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
    for (const k of ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul', '_FusedMatMul', 'Sum', 'Mean', 'Tile', 'MaxPool', 'MaxPoolGrad', 'FusedBatchNorm', 'LwBatchNormTrain', 'LwBatchNormTrainGrad', 'Add', 'Relu', 'LwReluGrad', 'LwAdamUpdate', 'LwMomentumUpdate']) {
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
  // ≥ 8 input channels at stride 1: the input gradient as a forward conv of dy with the rotated filter; ≤ 16 (or 16 +
  // 32·j) outputs: the one-vector GEMM tile; filter gradients read im2col in place (K = fh·fw·cin rows, not a multiple of 14).
  convCases.push({ n: 2, h: 32, w: 32, cin: 16, cout: 16, k: 3, s: 1, d: 1, pad: 'same' }, { n: 2, h: 9, w: 7, cin: 9, cout: 48, k: 2, s: 1, d: 1, pad: 'same' });
  for (let rep = 0; rep < 4; rep++) {
    const k = 1 + rng.int(5);
    convCases.push({ n: 1 + rng.int(3), h: k + rng.int(12), w: k + rng.int(12), cin: 8 + rng.int(20), cout: 1 + rng.int(20), k, s: 1, d: 1, pad: rep % 2 ? 'same' : 'valid' });
  }
  // 16 outputs, stride 1, ≥ 4 images per thread pair: the direct vector-over-cout kernel on a zero-padded copy (forward;
  // with 16 input channels also the input gradient), incl. an even kernel ('same' pads bottom / right only) and 'valid'.
  convCases.push({ n: 5, h: 9, w: 11, cin: 5, cout: 16, k: 3, s: 1, d: 1, pad: 'same' }, { n: 4, h: 8, w: 6, cin: 16, cout: 7, k: 2, s: 1, d: 1, pad: 'same' });
  convCases.push({ n: 6, h: 10, w: 13, cin: 16, cout: 16, k: 3, s: 1, d: 1, pad: 'valid' }, { n: 8, h: 32, w: 32, cin: 16, cout: 16, k: 3, s: 1, d: 1, pad: 'same' });
  // 32 and 64 outputs (2 and 4 vectors a pixel), partial pixel blocks (ow not a multiple of 12 / 6).
  convCases.push({ n: 4, h: 16, w: 16, cin: 32, cout: 32, k: 3, s: 1, d: 1, pad: 'same' }, { n: 5, h: 8, w: 8, cin: 64, cout: 64, k: 3, s: 1, d: 1, pad: 'same' });
  convCases.push({ n: 4, h: 7, w: 15, cin: 6, cout: 32, k: 2, s: 1, d: 1, pad: 'same' }, { n: 4, h: 9, w: 11, cin: 5, cout: 64, k: 3, s: 1, d: 1, pad: 'valid' });
  convCases.push({ n: 1, h: 9, w: 11, cin: 5, cout: 32, k: 3, s: 1, d: 1, pad: 'same' }, { n: 3, h: 5, w: 4, cin: 16, cout: 16, k: 3, s: 1, d: 1, pad: 'same' }); // bands of rows
  // Winograd F(2×2, 3×3) (3×3, stride 1, channels a multiple of the vector width): odd sizes (edge tiles half outside),
  // 'valid', mixed channel counts, one image; from 32 channels in and out the filter gradient too, over several tile blocks.
  convCases.push({ n: 3, h: 9, w: 7, cin: 32, cout: 64, k: 3, s: 1, d: 1, pad: 'same' }, { n: 2, h: 11, w: 6, cin: 64, cout: 32, k: 3, s: 1, d: 1, pad: 'valid' });
  convCases.push({ n: 1, h: 3, w: 5, cin: 48, cout: 16, k: 3, s: 1, d: 1, pad: 'same' }, { n: 7, h: 13, w: 13, cin: 32, cout: 48, k: 3, s: 1, d: 1, pad: 'same' });
  // One input channel, ≤ 16 outputs: the direct kernel (any y-stride, x-stride 1 … or im2col otherwise).
  convCases.push({ n: 3, h: 28, w: 28, cin: 1, cout: 6, k: 5, s: 1, d: 1, pad: 'same' }, { n: 2, h: 19, w: 37, cin: 1, cout: 16, k: 3, s: 1, d: 1, pad: 'valid' });
  convCases.push({ n: 2, h: 11, w: 9, cin: 1, cout: 5, k: 3, s: 1, d: 2, pad: 'same' }, { n: 2, h: 13, w: 13, cin: 1, cout: 3, k: 4, s: 2, d: 1, pad: 'same' });
  // One input channel, ≤ 8 outputs, stride 1: the direct filter gradient (pixels as the vector; widths not a multiple of 16).
  convCases.push({ n: 3, h: 9, w: 37, cin: 1, cout: 3, k: 3, s: 1, d: 1, pad: 'valid' }, { n: 5, h: 12, w: 7, cin: 1, cout: 8, k: 2, s: 1, d: 1, pad: 'same' });
  for (let rep = 0; rep < 4; rep++) {
    const k = 1 + rng.int(6);
    convCases.push({ n: 1 + rng.int(3), h: k + rng.int(20), w: k + rng.int(40), cin: 1, cout: 1 + rng.int(17), k, s: 1, d: 1, pad: rep % 2 ? 'same' : 'valid' });
  }
  // One input channel, stride 1: the input gradient over zero-padded planes of dy (pixels as the vector), incl. 64
  // outputs, widths across vector blocks, an even kernel ('same' pads bottom / right only) and dilation with 'valid'.
  convCases.push({ n: 3, h: 7, w: 35, cin: 1, cout: 64, k: 3, s: 1, d: 1, pad: 'same' }, { n: 2, h: 10, w: 18, cin: 1, cout: 9, k: 4, s: 1, d: 1, pad: 'same' });
  convCases.push({ n: 2, h: 12, w: 21, cin: 1, cout: 6, k: 3, s: 1, d: 2, pad: 'valid' }, { n: 1, h: 5, w: 5, cin: 1, cout: 65, k: 5, s: 1, d: 1, pad: 'same' });
  // Fewer than 4 input channels with 16 / 32 / 64 outputs: the vector-over-cout kernel too (RGB first layers, the channel
  // count 3 a constant of the kernel; 1 and 2 at run time), 'same' and 'valid', partial pixel blocks, bands of rows (n = 1).
  convCases.push({ n: 4, h: 32, w: 32, cin: 3, cout: 32, k: 3, s: 1, d: 1, pad: 'same' }, { n: 3, h: 13, w: 17, cin: 3, cout: 16, k: 3, s: 1, d: 1, pad: 'same' });
  convCases.push({ n: 2, h: 11, w: 9, cin: 3, cout: 64, k: 5, s: 1, d: 1, pad: 'valid' }, { n: 1, h: 10, w: 14, cin: 3, cout: 16, k: 2, s: 1, d: 1, pad: 'same' });
  convCases.push({ n: 3, h: 9, w: 13, cin: 1, cout: 32, k: 3, s: 1, d: 1, pad: 'same' }, { n: 2, h: 8, w: 7, cin: 2, cout: 64, k: 3, s: 1, d: 1, pad: 'same' });
  // 1×1 with 16 / 32 / 64 outputs and ≤ 64 input channels: the vector-over-cout kernel over blocks of pixels (x in place).
  convCases.push({ n: 3, h: 17, w: 19, cin: 8, cout: 16, k: 1, s: 1, d: 1, pad: 'same' }, { n: 2, h: 9, w: 7, cin: 64, cout: 32, k: 1, s: 1, d: 1, pad: 'valid' });
  convCases.push({ n: 1, h: 5, w: 3, cin: 3, cout: 64, k: 1, s: 1, d: 1, pad: 'same' });
  // Fewer outputs than a vector's lanes, ≤ 16 input channels, any stride: one vector with zero-weight upper lanes over
  // strided pixels of a padded band (MobileNet's 3 → 8 at stride 2, 'same' on even sizes padding bottom / right only).
  convCases.push({ n: 2, h: 16, w: 16, cin: 3, cout: 8, k: 3, s: 2, d: 1, pad: 'same' }, { n: 1, h: 13, w: 11, cin: 5, cout: 7, k: 5, s: 3, d: 1, pad: 'valid' });
  convCases.push({ n: 2, h: 12, w: 10, cin: 16, cout: 12, k: 2, s: 1, d: 1, pad: 'same' }, { n: 3, h: 15, w: 17, cin: 3, cout: 15, k: 3, s: 1, d: 1, pad: 'same' });
  // 16 / 32 / 64 outputs at stride 2 and 3 (ResNet's 16 → 32 / 32 → 64 downsampling convs): the same block, 1, 2 and 4 vectors.
  convCases.push({ n: 2, h: 16, w: 16, cin: 16, cout: 32, k: 3, s: 2, d: 1, pad: 'same' }, { n: 3, h: 11, w: 9, cin: 32, cout: 64, k: 3, s: 2, d: 1, pad: 'same' });
  convCases.push({ n: 1, h: 14, w: 17, cin: 5, cout: 16, k: 4, s: 3, d: 1, pad: 'valid' }, { n: 2, h: 15, w: 15, cin: 3, cout: 32, k: 3, s: 2, d: 1, pad: 'valid' });

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

  it('cases the addon does not cover (elu, sigmoid, non-contiguous axes) go to the wrapped kernel and match cpu', async () => {
    const seed = rng.int(1e9);
    const conv = (r: Rng): tf.Tensor =>
      tf.fused.conv2d({ x: rand(r, [2, 9, 9, 3]) as tf.Tensor4D, filter: rand(r, [3, 3, 3, 5]) as tf.Tensor4D, strides: 1, pad: 'same', bias: rand(r, [5]), activation: 'elu' });
    expect(await compare(conv, seed)).toBeLessThanOrEqual(1e-4);
    expect(await compare((r) => tf.fused.matMul({ a: rand(r, [7, 6]), b: rand(r, [6, 4]), bias: rand(r, [4]), activation: 'sigmoid' }), seed)).toBeLessThanOrEqual(1e-4);
    expect(await compare((r) => tf.sum(rand(r, [4, 5, 6]), [0, 2]), seed)).toBeLessThanOrEqual(1e-4);
  });
});

describe.skipIf(!na)('native max pooling', () => {
  const rng = new Rng(5);
  const cases: { n: number; h: number; w: number; c: number; f: number; s: number; pad: 'same' | 'valid' }[] = [
    { n: 64, h: 28, w: 28, c: 6, f: 2, s: 2, pad: 'valid' },
    { n: 2, h: 7, w: 9, c: 3, f: 3, s: 2, pad: 'same' },
    { n: 3, h: 8, w: 8, c: 5, f: 3, s: 1, pad: 'same' },
    // Non-overlapping windows with rows / columns no window covers: 2×2 / 2 under 16 channels (its own kernel) and from 16.
    { n: 3, h: 9, w: 11, c: 7, f: 2, s: 2, pad: 'valid' },
    { n: 3, h: 9, w: 11, c: 20, f: 2, s: 2, pad: 'valid' },
    { n: 2, h: 9, w: 10, c: 17, f: 3, s: 3, pad: 'valid' },
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

  it('MaxPoolGrad routes ties to the first maximum of each window, as cpu', async () => {
    // Values in {−1, 0, 1}: most windows hold several maxima; overlapping windows (3×3 / 1) and padding.
    const xShape = [2, 7, 6, 5];
    const x = Float32Array.from({ length: 2 * 7 * 6 * 5 }, (_, i) => ((i * 7919) % 3) - 1);
    for (const [f, s, pad] of [[2, 2, 'valid'], [3, 3, 'valid'], [3, 1, 'same'], [3, 2, 'same']] as const) {
      const g = (r: Rng): tf.Tensor => rand(r, tf.tidy(() => tf.maxPool(tf.tensor4d(x, xShape as [number, number, number, number]), f, s, pad).shape));
      const dx = (r: Rng): tf.Tensor => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, f, s, pad), g(r))))(tf.tensor4d(x, xShape as [number, number, number, number]));
      // Overlapping windows add in another order on cpu (≈ 1e-8); a gradient routed to another tied element would be off by O(1).
      expect(await compare(dx, 17)).toBeLessThanOrEqual(1e-6);
    }
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
  /**
   * y, mean, variance: the native kernel on wasm (the activation fused in it), tf.moments + tf.batchNorm (the stock
   * layer's path) and then tf.relu / tf.relu6 on cpu.
   */
  function bnTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number, act: BatchNormActivation = 'linear'): tf.Tensor[] {
    if (tf.getBackend() === 'wasm') {
      expect(nativeBatchNormTrainingAvailable(x)).toBe(true);
      const { y, mean, variance } = batchNormTraining(x, gamma, beta, eps, act);
      return [y, mean, variance];
    }
    const m = tf.moments(x, axesOf(x.rank));
    const y = tf.batchNorm(x, m.mean, m.variance, beta, gamma, eps);
    return [act === 'relu' ? tf.relu(y) : act === 'relu6' ? tf.relu6(y) : y, m.mean, m.variance];
  }
  const cases: { shape: number[]; eps: number; shift: number }[] = [
    { shape: [8, 16, 16, 32], eps: 1e-3, shift: 0 },
    { shape: [4, 8, 8, 64], eps: 1e-7, shift: 3 },
    { shape: [64, 10], eps: 1e-3, shift: 0 },
    { shape: [3, 5, 7], eps: 1e-3, shift: -2 },
    { shape: [16, 8, 8, 16], eps: 1e-3, shift: 30 }, // one-pass shifted sums far from 0 (C = 16, 8: the vector paths)
    { shape: [2, 9, 9, 8], eps: 1e-3, shift: -5 },
  ];
  for (let rep = 0; rep < 4; rep++) cases.push({ shape: [1 + rng.int(6), 1 + rng.int(12), 1 + rng.int(12), 1 + rng.int(40)], eps: 1e-3, shift: rng.normal() * 2 });
  // The fused ReLU / ReLU6 on every shape too: C = 8, 16, 32, 64 take the vector paths, the random C the scalar one.
  const actCases = cases.flatMap((c) => (['linear', 'relu', 'relu6'] as const).map((act) => ({ ...c, act })));
  it.each(actCases)('training forward (y, mean, variance) and gradients (dx, dγ, dβ, through mean/variance too) match cpu: %o', async (c) => {
    const C = c.shape[c.shape.length - 1];
    const inputs = (r: Rng): tf.Tensor[] => [tf.add(tf.mul(rand(r, c.shape), 1.5), c.shift), tf.add(rand(r, [C]), 1), rand(r, [C]), rand(r, c.shape), rand(r, [C]), rand(r, [C])];
    const seed = rng.int(1e9);
    const fwd = await compareMany((r) => {
      const [x, g, b] = inputs(r);
      return bnTrain(x, g, b, c.eps, c.act);
    }, seed);
    for (const e of fwd) expect(e).toBeLessThanOrEqual(1e-4);
    // Gradients of Σ y·gy (+ Σ mean·gm + Σ variance·gv: the mean / variance outputs' gradients).
    for (const withStats of [false, true]) {
      const back = await compareMany((r) => {
        const [x, g, b, gy, gm, gv] = inputs(r);
        return tf.grads((xv: tf.Tensor, gv2: tf.Tensor, bv: tf.Tensor) => {
          const [y, mean, variance] = bnTrain(xv, gv2, bv, c.eps, c.act);
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

  it.each(['linear', 'relu6'] as const)('forward and gradient are bit-identical for 1, 2 and 3 threads (M2 first-layer shape, %s)', async (act) => {
    await tf.setBackend('wasm');
    const r = new Rng(3);
    const [x, g, b, gy] = [rand(r, [64, 32, 32, 32]), rand(r, [32]), rand(r, [32]), rand(r, [64, 32, 32, 32])];
    const run = async (threads: number): Promise<Float32Array[]> => {
      setNativeThreads(threads);
      const outs = tf.tidy(() => {
        const { y, mean, variance } = batchNormTraining(x, g, b, 1e-3, act);
        const grads = tf.grads((xv: tf.Tensor, gv: tf.Tensor, bv: tf.Tensor) => tf.sum(tf.mul(batchNormTraining(xv, gv, bv, 1e-3, act).y, gy)))([x, g, b]);
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

describe.skipIf(!na)('native depthwise convolution', () => {
  it('is registered over the wasm forward and the plain-JS gradients', () => {
    for (const k of ['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter']) {
      expect(tf.getKernel(k, 'wasm')?.kernelFunc).toBe(engineKernelLayers.get(`${k}/wasm`)?.native?.kernelFunc);
    }
  });

  const rng = new Rng(21);
  const cases: { n: number; h: number; w: number; c: number; m: number; k: number; s: number; pad: 'same' | 'valid' }[] = [
    { n: 4, h: 16, w: 16, c: 8, m: 1, k: 3, s: 2, pad: 'same' }, // MobileNet's stride-2 block on even sizes: padding only bottom / right
    { n: 2, h: 9, w: 7, c: 5, m: 2, k: 3, s: 1, pad: 'same' },
    { n: 3, h: 8, w: 8, c: 16, m: 1, k: 3, s: 1, pad: 'valid' },
  ];
  for (const s of [1, 2, 3]) {
    for (const pad of ['same', 'valid'] as const) {
      const k = 1 + rng.int(5);
      cases.push({ n: 1 + rng.int(4), h: k + rng.int(12), w: k + rng.int(12), c: 1 + rng.int(20), m: 1 + rng.int(3), k, s, pad });
    }
  }
  // The forward with the taps in registers (depthwise_vec.cc): channels dividing the vector at stride 1 (the output row
  // flat; widths whose row is not a whole number of vectors), multiples of it at any stride, one image (bands of rows).
  cases.push({ n: 3, h: 11, w: 13, c: 8, m: 1, k: 3, s: 1, pad: 'same' }, { n: 2, h: 7, w: 9, c: 4, m: 1, k: 2, s: 1, pad: 'same' });
  cases.push({ n: 2, h: 6, w: 5, c: 2, m: 1, k: 3, s: 1, pad: 'valid' }, { n: 2, h: 9, w: 10, c: 1, m: 1, k: 5, s: 1, pad: 'same' });
  cases.push({ n: 3, h: 12, w: 14, c: 32, m: 1, k: 3, s: 2, pad: 'same' }, { n: 2, h: 13, w: 11, c: 48, m: 1, k: 3, s: 3, pad: 'valid' });
  cases.push({ n: 1, h: 10, w: 9, c: 16, m: 1, k: 5, s: 1, pad: 'same' }, { n: 1, h: 9, w: 9, c: 8, m: 1, k: 3, s: 1, pad: 'same' });
  // Stride 1, multiplier 1: the input gradient as the forward with the filter turned 180° ('valid': all the padding on
  // the other side; an even filter's 'same' pads bottom / right only). 3×3, channels a multiple of 8: the filter
  // gradient's nine taps in registers over a padded band per image (chunks of rows spanning several images).
  cases.push({ n: 2, h: 10, w: 7, c: 24, m: 1, k: 3, s: 1, pad: 'valid' }, { n: 2, h: 7, w: 8, c: 8, m: 1, k: 2, s: 1, pad: 'same' });
  cases.push({ n: 40, h: 3, w: 5, c: 8, m: 1, k: 3, s: 1, pad: 'same' }, { n: 3, h: 9, w: 11, c: 16, m: 1, k: 3, s: 2, pad: 'valid' });
  it.each(cases)('DepthwiseConv2dNative and both gradients (input, filter) match cpu: %o', async (c) => {
    const xShape: [number, number, number, number] = [c.n, c.h, c.w, c.c];
    const fShape: [number, number, number, number] = [c.k, c.k, c.c, c.m];
    const yShape = tf.tidy(() => tf.depthwiseConv2d(tf.zeros(xShape) as tf.Tensor4D, tf.zeros(fShape) as tf.Tensor4D, c.s, c.pad).shape);
    const seed = rng.int(1e9);
    expect(await compare((r) => tf.depthwiseConv2d(rand(r, xShape) as tf.Tensor4D, rand(r, fShape) as tf.Tensor4D, c.s, c.pad), seed)).toBeLessThanOrEqual(1e-4);
    // Gradients of Σ depthwise(x, W)·g with respect to x and W: the two backprop kernels with dy = g.
    for (const which of [0, 1]) {
      expect(
        await compare((r) => {
          const [x, f, g] = [rand(r, xShape), rand(r, fShape), rand(r, yShape)];
          return tf.grads((xv: tf.Tensor, fv: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(xv as tf.Tensor4D, fv as tf.Tensor4D, c.s, c.pad), g)))([x, f])[which];
        }, seed),
      ).toBeLessThanOrEqual(1e-4);
    }
  });

  it('filter gradient is bit-identical for 1, 2 and 3 threads', async () => {
    await tf.setBackend('wasm');
    const r = new Rng(4);
    const [x, gy] = [rand(r, [16, 32, 32, 16]), rand(r, [16, 16, 16, 16])];
    const run = async (threads: number): Promise<Float32Array> => {
      setNativeThreads(threads);
      const dw = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: gy }, { strides: 2, pad: 'same', dilations: 1, filterShape: [3, 3, 16, 1] } as never) as tf.Tensor;
      const v = (await dw.data()) as Float32Array;
      dw.dispose();
      return v;
    };
    try {
      const one = await run(1);
      for (const t of [2, 3]) expect(Buffer.from((await run(t)).buffer).equals(Buffer.from(one.buffer))).toBe(true);
    } finally {
      setNativeThreads(2);
      tf.dispose([x, gy]);
    }
  });
});

describe.skipIf(!na)('native ReLU6', () => {
  const rng = new Rng(31);
  /** x·4 + 3 with exact 0s and 6s mixed in: both kinks of ReLU6 and values on either side. */
  const inputs = (r: Rng, shape: number[]): tf.Tensor => {
    const x = tf.add(tf.mul(rand(r, shape), 4), 3);
    const n = x.size;
    const edges = tf.tensor(Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : i % 7 === 1 ? 6 : Number.NaN)), shape);
    return tf.where(tf.isNaN(edges), x, edges);
  };
  it.each([[64, 16, 16, 8], [3, 5, 7], [1000]])("the 'relu6' activation (forward, gradient) matches cpu's minimum(6, relu(x)) and runs LwRelu6 on wasm: %o", async (...shape) => {
    const act = tfl.layers.activation({ activation: 'relu6' });
    const seed = rng.int(1e9);
    expect(await compare((r) => act.apply(inputs(r, shape)) as tf.Tensor, seed)).toBe(0);
    expect(await compare((r) => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(act.apply(x) as tf.Tensor, rand(r, shape))))(inputs(r, shape)), seed)).toBe(0);
    await tf.setBackend('wasm');
    const x = tf.ones(shape);
    const prof = await tf.profile(() => tf.grad((v: tf.Tensor) => tf.sum(act.apply(v) as tf.Tensor))(x));
    x.dispose();
    const names = prof.kernels.map((k) => k.name);
    expect(names).toContain('LwRelu6');
    expect(names).toContain('LwRelu6Grad');
    expect(names).not.toContain('Minimum');
  });
});

describe.skipIf(!na)('native ReLU', () => {
  const rng = new Rng(37);
  /** Normal values with exact 0s (the kink: tfjs' step(0) is 0) mixed in. */
  const inputs = (r: Rng, shape: number[]): tf.Tensor => {
    const x = rand(r, shape);
    const zeros = tf.tensor(Float32Array.from({ length: x.size }, (_, i) => (i % 5 === 0 ? 0 : 1)), shape);
    return tf.mul(x, zeros);
  };
  it.each([[64, 32, 32, 16], [3, 5, 7], [1000]])('relu and its gradient equal cpu exactly and run Relu / LwReluGrad natively on wasm: %o', async (...shape) => {
    const seed = rng.int(1e9);
    expect(await compare((r) => tf.relu(inputs(r, shape)), seed)).toBe(0);
    expect(await compare((r) => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.relu(x), rand(r, shape))))(inputs(r, shape)), seed)).toBe(0);
    await tf.setBackend('wasm');
    const x = tf.ones(shape);
    const prof = await tf.profile(() => tf.grad((v: tf.Tensor) => tf.sum(tf.relu(v)))(x));
    x.dispose();
    const names = prof.kernels.map((k) => k.name);
    expect(names).toContain('LwReluGrad');
    expect(names).not.toContain('Step');
    expect(tf.getKernel('Relu', 'wasm')?.kernelFunc).toBe(engineKernelLayers.get('Relu/wasm')?.native?.kernelFunc);
  });
  it('NaN and infinities propagate as on cpu (NaN x → NaN; ∞·0 → NaN where x ≤ 0)', async () => {
    const xs = [Number.NaN, -1, 0, 2, -3, 4, Number.NaN, 0.5];
    const dys = [1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 2, Number.NaN, -1, 3];
    const run = async (backend: string): Promise<number[][]> => {
      await tf.setBackend(backend);
      const x = tf.tensor(xs);
      const dy = tf.tensor(dys);
      const [y, dx] = [tf.relu(x), tf.grad((v: tf.Tensor) => tf.relu(v))(x, dy)];
      const out = [Array.from(await y.data()), Array.from(await dx.data())];
      tf.dispose([x, dy, y, dx]);
      return out;
    };
    const ref = await run('cpu');
    const got = await run('wasm');
    expect(got).toEqual(ref); // toEqual treats NaN as equal to NaN
    expect(Number.isNaN(got[1][0]) && Number.isNaN(got[1][1]) && Number.isNaN(got[1][2])).toBe(true);
  });
});

describe.skipIf(!na)('native Add', () => {
  const rng = new Rng(41);
  it.each([
    { a: [64, 32, 32, 16], b: [64, 32, 32, 16] },
    { a: [3, 5, 7], b: [3, 5, 7] },
    { a: [17], b: [17] },
    { a: [3, 3, 64, 64], b: [] }, // a scalar, either side, any rank of ones
    { a: [1, 1], b: [5, 7] },
    { a: [1], b: [1] },
    { a: [64, 28, 28, 6], b: [1, 1, 1, 6] }, // a conv bias as tfjs-layers adds it under autograd
    { a: [64, 120], b: [120] }, // a dense bias
    { a: [5], b: [3, 2, 5] }, // the bias on the left
    { a: [4, 6], b: [4, 1] }, // another broadcast: the wasm kernel
  ])('same-shape, scalar and last-axis bias float32 adds equal cpu exactly (other broadcasts fall back): %o', async (c) => {
    const seed = rng.int(1e9);
    expect(await compare((r) => tf.add(rand(r, c.a), rand(r, c.b)), seed)).toBe(0);
  });
  it('int32 adds fall back to the wasm kernel', async () => {
    await tf.setBackend('wasm');
    const y = tf.add(tf.tensor([1, 2, 3], [3], 'int32'), tf.tensor([4, 5, 6], [3], 'int32'));
    expect(y.dtype).toBe('int32');
    expect(Array.from(await y.data())).toEqual([5, 7, 9]);
    y.dispose();
  });
});

describe('zero-copy Identity (wasm)', () => {
  it('a clone shares its data and outlives its source', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const before = tf.memory().numDataBuffers;
    const c = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(before); // no new buffer: the clone reads x's
    expect((c as unknown as { dataId: object }).dataId).toBe((x as unknown as { dataId: object }).dataId);
    x.dispose();
    expect(Array.from(await c.data())).toEqual([1, 2, 3, 4]);
    c.dispose();
  });

  it('a Cast to the same dtype (Identity\'s gradient) shares too; to another dtype it converts', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor([1.5, -2.5, 3, 4], [2, 2]);
    const before = tf.memory().numDataBuffers;
    const same = tf.cast(x, 'float32');
    expect(tf.memory().numDataBuffers).toBe(before);
    const ints = tf.cast(x, 'int32');
    expect(ints.dtype).toBe('int32');
    expect(Array.from(await ints.data())).toEqual([1, -2, 3, 4]);
    x.dispose();
    expect(Array.from(await same.data())).toEqual([1.5, -2.5, 3, 4]);
    // The gradient of a clone (tfjs: Identity's gradient casts dy to float32) is dy.
    const v = tf.tensor([1, 2, 3]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.clone(t), tf.tensor([4, 5, 6]))))(v);
    expect(Array.from(await g.data())).toEqual([4, 5, 6]);
    tf.dispose([same, ints, v, g]);
  });
});

describe.skipIf(!na)('native optimizer updates (Adam, SGD momentum)', () => {
  // Variable shapes: a conv kernel, a bias, one element, and one past a task chunk (16,384) that is not a multiple of it.
  const shapes = [[5, 5, 6, 16], [16], [1], [170, 121]];
  const STEPS = 4;
  type Make = (fused: boolean) => tf.Optimizer;
  const optimizers: [string, string, Make][] = [
    ['adam', ADAM_UPDATE, (fused) => (fused ? new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7) : tf.train.adam(0.01, 0.9, 0.999, 1e-7))],
    ['momentum', MOMENTUM_UPDATE, (fused) => (fused ? new FusedMomentumOptimizer(0.05, 0.9, false) : tf.train.momentum(0.05, 0.9, false))],
  ];
  /** STEPS updates of fresh variables from seeded values and gradients on `backend`; the variables, the optimizer state, and the kernels that ran. */
  async function run(backend: string, make: Make, fused: boolean): Promise<{ values: Float32Array[]; state: Float32Array[]; kernels: Set<string> }> {
    await tf.setBackend(backend);
    const r = new Rng(123);
    const vars = shapes.map((s, i) => tf.variable(rand(r, s), true, `opt_test_${backend}_${fused}_${i}_${Math.random()}`));
    const opt = make(fused);
    const kernels = new Set<string>();
    for (let step = 0; step < STEPS; step++) {
      const grads = tf.tidy(() => vars.map((v) => ({ name: v.name, tensor: tf.mul(rand(r, v.shape), step + 1) })));
      const info = await tf.profile(() => opt.applyGradients(grads));
      for (const k of info.kernelNames) kernels.add(k);
      tf.dispose(grads.map((g) => g.tensor));
    }
    const values = await Promise.all(vars.map((v) => v.data() as Promise<Float32Array>));
    const state = await Promise.all((await opt.getWeights()).map((w) => w.tensor.data() as Promise<Float32Array>));
    opt.dispose();
    tf.dispose(vars);
    return { values, state, kernels };
  }
  it.each(optimizers)('%s: the fused update on wasm equals the stock one (bit for bit, state too), matches cpu and runs one kernel per variable', async (_, kernel, make) => {
    const fused = await run('wasm', make, true);
    const stock = await run('wasm', make, false);
    const ref = await run('cpu', make, false);
    expect(fused.kernels.has(kernel)).toBe(true);
    expect(stock.kernels.has(kernel)).toBe(false);
    expect(fused.values).toEqual(stock.values);
    expect(fused.state).toEqual(stock.state); // iterations, m / v or the accumulations (tfjs' getWeights order)
    for (let i = 0; i < shapes.length; i++) expect(relErr(fused.values[i], ref.values[i])).toBeLessThanOrEqual(1e-4);
    // The update really moved the variables (a no-op would fail the cpu comparison only if lr were large: check it too).
    const init = tf.tidy(() => rand(new Rng(123), shapes[0]).dataSync() as Float32Array);
    expect(relErr(fused.values[0], init)).toBeGreaterThan(1e-3);
  });
  it('Nesterov momentum and the cpu backend take tfjs\' own update', async () => {
    const nesterov = await run('wasm', () => new FusedMomentumOptimizer(0.05, 0.9, true), true);
    expect(nesterov.kernels.has(MOMENTUM_UPDATE)).toBe(false);
    const stock = await run('wasm', () => tf.train.momentum(0.05, 0.9, true), false);
    expect(nesterov.values).toEqual(stock.values);
    const cpu = await run('cpu', () => new FusedAdamOptimizer(0.01, 0.9, 0.999, 1e-7), true);
    expect(cpu.kernels.has(ADAM_UPDATE)).toBe(false);
  });
});
