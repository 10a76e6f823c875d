/**
 * Our registered wasm kernels against tfjs' `cpu` backend (the reference), on random
 * shapes, strides 1 and 2, paddings 'same' and 'valid'. Error measure: max |wasm − cpu| /
 * max |cpu| ≤ 1e-4.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/engine/backend';
import { ENGINE_KERNELS, replacedKernels } from '../../src/engine/kernels';
import { nativeAddon } from '../../src/engine/kernels/native';
import { Rng } from '../../src/engine/random';
import { maxRelErr as relErr, on } from './helpers/compare';

function randArray(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

beforeAll(async () => {
  await initBackend('cpu');
});

describe('registered kernels', () => {
  it('registers ours for wasm: Conv2DBackpropFilter, the depthwise gradients (missing); Conv2DBackpropInput, MaxPoolGrad, BatchMatMul, Identity, Cast (replaced)', () => {
    expect(ENGINE_KERNELS.filter((k) => !k.kind.startsWith('native')).map((k) => `${k.kernelName}/${k.kind}`)).toEqual(['Conv2DBackpropFilter/fill', 'Conv2DBackpropInput/replace', 'MaxPoolGrad/replace', 'BatchMatMul/replace', 'DepthwiseConv2dNativeBackpropInput/fill', 'DepthwiseConv2dNativeBackpropFilter/fill', 'Identity/replace', 'Cast/replace']);
    for (const k of ENGINE_KERNELS) {
      // Kernels of our own name exist only with the addon (the others wrap tfjs' built-ins).
      if (k.kind === 'native-new' && !nativeAddon()) {
        expect(tf.getKernel(k.kernelName, 'wasm')).toBeUndefined();
        continue;
      }
      expect(tf.getKernel(k.kernelName, 'wasm')).toBeDefined();
      if (k.kind === 'replace') expect(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc).not.toBe(replacedKernels.get(`${k.kernelName}/wasm`)?.kernelFunc);
    }
  });

  const rng = new Rng(1234);
  const cases: { n: number; h: number; w: number; cin: number; cout: number; k: number; s: number; pad: 'same' | 'valid' }[] = [];
  for (const s of [1, 2]) {
    for (const pad of ['same', 'valid'] as const) {
      for (let rep = 0; rep < 3; rep++) {
        const k = 1 + rng.int(5);
        cases.push({ n: 1 + rng.int(4), h: k + rng.int(12), w: k + rng.int(12), cin: 1 + rng.int(5), cout: 1 + rng.int(7), k, s, pad });
      }
    }
  }
  // Filters larger than the input ('same' padding on both sides), odd strides.
  cases.push({ n: 2, h: 1, w: 1, cin: 2, cout: 3, k: 3, s: 1, pad: 'same' }, { n: 1, h: 2, w: 3, cin: 1, cout: 2, k: 5, s: 2, pad: 'same' }, { n: 2, h: 7, w: 9, cin: 3, cout: 2, k: 4, s: 3, pad: 'same' });
  // LeNet-5's own shapes, at a training batch size.
  cases.push({ n: 64, h: 28, w: 28, cin: 1, cout: 6, k: 5, s: 1, pad: 'same' }, { n: 64, h: 14, w: 14, cin: 6, cout: 16, k: 5, s: 1, pad: 'valid' });

  it.each(cases)('Conv2DBackpropFilter matches cpu: %o', async (c) => {
    const x = randArray(rng, c.n * c.h * c.w * c.cin);
    const oh = c.pad === 'same' ? Math.ceil(c.h / c.s) : Math.floor((c.h - c.k) / c.s) + 1;
    const ow = c.pad === 'same' ? Math.ceil(c.w / c.s) : Math.floor((c.w - c.k) / c.s) + 1;
    const dy = randArray(rng, c.n * oh * ow * c.cout);
    const filterShape = [c.k, c.k, c.cin, c.cout] as [number, number, number, number];
    const run = (): tf.Tensor =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(x, [c.n, c.h, c.w, c.cin]), dy: tf.tensor4d(dy, [c.n, oh, ow, c.cout]) }, {
        strides: [c.s, c.s],
        pad: c.pad,
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
        filterShape,
      } as any) as tf.Tensor;
    const ref = await on('cpu', run);
    const got = await on('wasm', run);
    expect(got.length).toBe(ref.length);
    expect(relErr(got, ref)).toBeLessThanOrEqual(1e-4);
  });

  it.each(cases)('Conv2DBackpropInput matches cpu: %o', async (c) => {
    const oh = c.pad === 'same' ? Math.ceil(c.h / c.s) : Math.floor((c.h - c.k) / c.s) + 1;
    const ow = c.pad === 'same' ? Math.ceil(c.w / c.s) : Math.floor((c.w - c.k) / c.s) + 1;
    const dy = randArray(rng, c.n * oh * ow * c.cout);
    const f = randArray(rng, c.k * c.k * c.cin * c.cout);
    const run = (): tf.Tensor =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor4d(dy, [c.n, oh, ow, c.cout]), filter: tf.tensor4d(f, [c.k, c.k, c.cin, c.cout]) }, {
        strides: [c.s, c.s],
        pad: c.pad,
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
        inputShape: [c.n, c.h, c.w, c.cin],
      } as any) as tf.Tensor;
    const ref = await on('cpu', run);
    const got = await on('wasm', run);
    expect(got.length).toBe(ref.length);
    expect(relErr(got, ref)).toBeLessThanOrEqual(1e-4);
  });

  const poolCases: { n: number; h: number; w: number; c: number; k: number; s: number; pad: 'same' | 'valid'; ties: boolean }[] = [];
  for (const s of [1, 2]) {
    for (const pad of ['same', 'valid'] as const) {
      for (let rep = 0; rep < 3; rep++) {
        const k = 1 + rng.int(3);
        poolCases.push({ n: 1 + rng.int(3), h: k + rng.int(9), w: k + rng.int(9), c: 1 + rng.int(5), k, s, pad, ties: rep === 2 });
      }
    }
  }
  poolCases.push({ n: 64, h: 28, w: 28, c: 6, k: 2, s: 2, pad: 'valid', ties: true });

  it.each(poolCases)('MaxPoolGrad matches cpu (ties = ReLU zeros): %o', async (c) => {
    const x = randArray(rng, c.n * c.h * c.w * c.c);
    if (c.ties) for (let i = 0; i < x.length; i++) x[i] = Math.max(0, x[i]); // ReLU output: many equal zeros
    const oh = c.pad === 'same' ? Math.ceil(c.h / c.s) : Math.floor((c.h - c.k) / c.s) + 1;
    const ow = c.pad === 'same' ? Math.ceil(c.w / c.s) : Math.floor((c.w - c.k) / c.s) + 1;
    const dy = randArray(rng, c.n * oh * ow * c.c);
    const run = (): tf.Tensor => {
      const xt = tf.tensor4d(x, [c.n, c.h, c.w, c.c]);
      const y = tf.maxPool(xt, c.k, c.s, c.pad);
      return tf.engine().runKernel('MaxPoolGrad', { dy: tf.tensor4d(dy, [c.n, oh, ow, c.c]), input: xt, output: y }, {
        filterSize: [c.k, c.k],
        strides: [c.s, c.s],
        pad: c.pad,
        dimRoundingMode: undefined,
      } as any) as tf.Tensor;
    };
    const ref = await on('cpu', run);
    const got = await on('wasm', run);
    expect(got.length).toBe(ref.length);
    expect(relErr(got, ref)).toBeLessThanOrEqual(1e-4);
  });

  const mmCases: { batch: number[]; m: number; k: number; n: number; ta: boolean; tb: boolean }[] = [];
  for (const ta of [false, true]) for (const tb of [false, true]) for (const batch of [[], [3], [2, 2]]) mmCases.push({ batch, m: 1 + rng.int(70), k: 1 + rng.int(90), n: 1 + rng.int(50), ta, tb });
  mmCases.push({ batch: [], m: 64, k: 784, n: 128, ta: true, tb: false }, { batch: [], m: 64, k: 120, n: 400, ta: false, tb: true });

  it.each(mmCases)('BatchMatMul matches cpu: %o', async (c) => {
    const aShape = [...c.batch, ...(c.ta ? [c.k, c.m] : [c.m, c.k])];
    const bShape = [...c.batch, ...(c.tb ? [c.n, c.k] : [c.k, c.n])];
    const a = randArray(rng, aShape.reduce((p, q) => p * q, 1));
    const b = randArray(rng, bShape.reduce((p, q) => p * q, 1));
    const run = (): tf.Tensor => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), c.ta, c.tb);
    const ref = await on('cpu', run);
    const got = await on('wasm', run);
    expect(got.length).toBe(ref.length);
    expect(relErr(got, ref)).toBeLessThanOrEqual(1e-4);
  });

  it('both gradients of conv2d (through autograd) match cpu, and no tensors leak', async () => {
    const x = randArray(rng, 3 * 9 * 11 * 2);
    const f = randArray(rng, 3 * 3 * 2 * 4);
    // d/dx and d/dW of Σ conv2d(x, W)², concatenated.
    const grad = (): tf.Tensor => {
      const [gx, gw] = tf.grads((xx: tf.Tensor, w: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'))))([tf.tensor4d(x, [3, 9, 11, 2]), tf.tensor4d(f, [3, 3, 2, 4])]);
      return tf.concat([tf.reshape(gx, [-1]), tf.reshape(gw, [-1])]);
    };
    const ref = await on('cpu', grad);
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const got = await on('wasm', grad);
    expect(tf.memory().numTensors).toBe(before);
    expect(relErr(got, ref)).toBeLessThanOrEqual(1e-4);
  });
});
