/**
 * The graph spec's new ops on the backend the app trains on (wasm + our kernels, set up by
 * src/engine/backend.ts initBackend('cpu')) against tfjs' `cpu` backend, forward and backward,
 * on random shapes: add, concatenate, globalAveragePooling2d, globalMaxPooling2d,
 * depthwiseConv2d (depth multiplier 1 and 2, strides 1 and 2, 'same' and 'valid'),
 * zeroPadding2d, relu6, elu, leakyRelu. Error measure (./helpers/compare.ts): max |wasm − cpu| /
 * max |cpu| ≤ 1e-4 per tensor.
 *
 * Then the lecture's gradient check on a tiny graph model with a branch and a merge
 * (conv → [depthwise → batch norm → relu6 ; 1×1 projection] → add → global average pooling →
 * dense), built by buildModel from a parsed graph spec: every weight's analytic gradient (tfjs'
 * backprop on wasm) against the numerical one, by central differences of the same network
 * computed independently here in float64 (see the tolerance note at GRAD_TOL).
 *
 * And heNormal's statistics: std ≈ √(2/fan_in) (He et al. 2015, §2.2) over a large kernel.
 * Over 400 lines: the float64 reference network (convolution, depthwise, batch norm, the loss)
 * is written out here, independent of the code under test.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/engine/backend';
import { engineKernelLayers } from '../../src/engine/kernels';
import { buildModel, crossEntropyFromLogits } from '../../src/engine/model';
import { Rng } from '../../src/engine/random';
import { GraphBuilder } from '../../src/shared/graph-builder';
import { ModelSpecSchema } from '../../src/shared/spec';
import { maxRelErr } from './helpers/compare';

const TOL = 1e-4;

beforeAll(async () => {
  const info = await initBackend('cpu', { threads: 2 });
  expect(info.backend).toBe('wasm');
});

function randArray(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** Run f on `backend` (fresh tensors made inside f), return every output's values; the current backend is wasm again afterwards. */
async function on(backend: string, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  try {
    const outs = tf.tidy(f);
    for (const t of outs) expect(tf.engine().state.tensorInfo.get(t.dataId)?.backend === tf.engine().backend, `computed on ${backend}`).toBe(true);
    const data = outs.map((t) => Float32Array.from(t.dataSync() as Float32Array));
    tf.dispose(outs);
    return data;
  } finally {
    await tf.setBackend('wasm');
  }
}

/** f on wasm and on cpu; each output (named) within TOL; returns the errors. */
async function compare(names: string[], f: () => tf.Tensor[]): Promise<number[]> {
  const got = await on('wasm', f);
  const ref = await on('cpu', f);
  expect(got.length).toBe(names.length);
  return names.map((name, i) => {
    const err = maxRelErr(got[i], ref[i]);
    expect(Number.isFinite(err), `${name} finite`).toBe(true);
    expect(err, name).toBeLessThanOrEqual(TOL);
    return err;
  });
}

/** Forward value and the gradient of Σ y·r with respect to each input (r random, so every output element matters differently). */
function withGrads(fn: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], r: Float32Array): tf.Tensor[] {
  const y = fn(...xs);
  const rt = tf.tensor(r.subarray(0, y.size), y.shape);
  const grads = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(fn(...a), rt)))(xs);
  return [y, ...grads];
}

type Shape4 = [number, number, number, number];
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

describe('new ops, wasm (+ our kernels) against cpu, forward and backward', () => {
  const rng = new Rng(2026);
  const shape4 = (): Shape4 => [1 + rng.int(3), 1 + rng.int(9), 1 + rng.int(9), 1 + rng.int(6)];

  it.each([0, 1, 2])('add of 2 and 3 tensors (random shape %i)', async () => {
    const s = shape4();
    const xs = [0, 1, 2].map(() => randArray(rng, size(s)));
    const r = randArray(rng, size(s));
    const add2 = (a: tf.Tensor, b: tf.Tensor) => tf.add(a, b);
    const add3 = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.add(tf.add(a, b), c);
    await compare(['add2', 'd a', 'd b', 'add3', 'd a', 'd b', 'd c'], () => {
      const t = xs.map((x) => tf.tensor(x, s));
      return [...withGrads(add2, t.slice(0, 2), r), ...withGrads(add3, t, r)];
    });
  });

  it.each([0, 1, 2])('concatenate on the channel axis, 2 and 3 inputs of different depths (random shape %i)', async () => {
    const [n, h, w] = shape4();
    const depths = [1 + rng.int(5), 1 + rng.int(5), 1 + rng.int(5)];
    const xs = depths.map((c) => randArray(rng, n * h * w * c));
    const r = randArray(rng, n * h * w * (depths[0] + depths[1] + depths[2]));
    await compare(['concat2', 'd a', 'd b', 'concat3', 'd a', 'd b', 'd c'], () => {
      const t = xs.map((x, i) => tf.tensor(x, [n, h, w, depths[i]]));
      const cat = (...a: tf.Tensor[]) => tf.concat(a, -1);
      return [...withGrads(cat, t.slice(0, 2), r), ...withGrads(cat, t, r)];
    });
  });

  it.each([0, 1, 2])('globalAveragePooling2d and globalMaxPooling2d (random shape %i)', async () => {
    const s = shape4();
    const x = randArray(rng, size(s));
    const r = randArray(rng, s[0] * s[3]);
    // What tfjs-layers' GlobalAveragePooling2D / GlobalMaxPooling2D compute (mean / max over H, W).
    await compare(['gap', 'd x (gap)', 'gmp', 'd x (gmp)'], () => {
      const xt = tf.tensor(x, s);
      return [...withGrads((a) => tf.mean(a, [1, 2]), [xt], r), ...withGrads((a) => tf.max(a, [1, 2]), [xt], r)];
    });
  });

  const dwCases: { n: number; h: number; w: number; c: number; k: number; s: number; pad: 'same' | 'valid'; m: number }[] = [];
  for (const m of [1, 2])
    for (const s of [1, 2])
      for (const pad of ['same', 'valid'] as const)
        for (let rep = 0; rep < 2; rep++) {
          const k = 1 + rng.int(5);
          dwCases.push({ n: 1 + rng.int(3), h: k + rng.int(10), w: k + rng.int(10), c: 1 + rng.int(7), k, s, pad, m });
        }
  // MobileNet's shapes: 3×3 stride 2 'same' on an even size (TF pads bottom/right only), many channels.
  dwCases.push({ n: 2, h: 16, w: 16, c: 24, k: 3, s: 2, pad: 'same', m: 1 }, { n: 2, h: 8, w: 8, c: 64, k: 3, s: 1, pad: 'same', m: 1 });

  it.each(dwCases)('depthwiseConv2d (+ bias) forward, d x, d filter, d bias: %o', async (c) => {
    const x = randArray(rng, c.n * c.h * c.w * c.c);
    const fShape: Shape4 = [c.k, c.k, c.c, c.m];
    const f = randArray(rng, size(fShape), 0.5);
    const b = randArray(rng, c.c * c.m, 0.1);
    const r = randArray(rng, c.n * c.h * c.w * c.c * c.m);
    const dw = (a: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) => tf.add(tf.depthwiseConv2d(a as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad), bias);
    await compare(['y', 'd x', 'd filter', 'd bias'], () => withGrads(dw, [tf.tensor(x, [c.n, c.h, c.w, c.c]), tf.tensor(f, fShape), tf.tensor(b, [c.c * c.m])], r));
  });

  it.each(dwCases.slice(0, 8))('our pure-wasm depthwise gradient kernels (the fallback under native ones) match cpu: %o', async (c) => {
    const x = randArray(rng, c.n * c.h * c.w * c.c);
    const fShape: Shape4 = [c.k, c.k, c.c, c.m];
    const f = randArray(rng, size(fShape));
    const xShape: Shape4 = [c.n, c.h, c.w, c.c];
    const oh = c.pad === 'same' ? Math.ceil(c.h / c.s) : Math.floor((c.h - c.k) / c.s) + 1;
    const ow = c.pad === 'same' ? Math.ceil(c.w / c.s) : Math.floor((c.w - c.k) / c.s) + 1;
    const dy = randArray(rng, c.n * oh * ow * c.c * c.m);
    const attrs = { strides: [c.s, c.s], pad: c.pad, dilations: [1, 1], dimRoundingMode: undefined };
    const fills = ['DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'].map((k) => engineKernelLayers.get(`${k}/wasm`)?.wasm);
    expect(fills.every(Boolean)).toBe(true);
    const dyT = () => tf.tensor4d(dy, [c.n, oh, ow, c.c * c.m]);
    const viaFill = tf.tidy(() => {
      const run = (i: number, inputs: Record<string, tf.Tensor>, extra: object) => {
        const out = fills[i]!.kernelFunc({ inputs, backend: tf.backend(), attrs: { ...attrs, ...extra } } as never) as tf.TensorInfo;
        return tf.engine().makeTensorFromTensorInfo(out);
      };
      return [run(0, { dy: dyT(), filter: tf.tensor(f, fShape) }, { inputShape: xShape }), run(1, { x: tf.tensor(x, xShape), dy: dyT() }, { filterShape: fShape })];
    });
    const got = viaFill.map((t) => Float32Array.from(t.dataSync() as Float32Array));
    tf.dispose(viaFill);
    const ref = await on('cpu', () => [
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dyT(), filter: tf.tensor(f, fShape) }, { ...attrs, inputShape: xShape } as never) as tf.Tensor,
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor(x, xShape), dy: dyT() }, { ...attrs, filterShape: fShape } as never) as tf.Tensor,
    ]);
    expect(maxRelErr(got[0], ref[0]), 'dx').toBeLessThanOrEqual(TOL);
    expect(maxRelErr(got[1], ref[1]), 'dfilter').toBeLessThanOrEqual(TOL);
  });

  it.each([0, 1, 2])('zeroPadding2d with asymmetric sides (random shape %i)', async () => {
    const s = shape4();
    const [t, b, l, r0] = [rng.int(3), rng.int(3), rng.int(3), rng.int(3)];
    const x = randArray(rng, size(s));
    const r = randArray(rng, s[0] * (s[1] + t + b) * (s[2] + l + r0) * s[3]);
    await compare(['padded', 'd x'], () =>
      withGrads(
        (a) =>
          tf.pad(a, [
            [0, 0],
            [t, b],
            [l, r0],
            [0, 0],
          ]),
        [tf.tensor(x, s)],
        r,
      ),
    );
  });

  it('relu6, elu, leakyRelu (alpha 0.3 and 0.1): forward and gradient, inputs on both sides of 0 and above 6', async () => {
    const x = randArray(rng, 500, 4);
    const r = randArray(rng, 500);
    const acts: Record<string, (a: tf.Tensor) => tf.Tensor> = { relu6: tf.relu6, elu: tf.elu, leakyRelu3: (a) => tf.leakyRelu(a, 0.3), leakyRelu1: (a) => tf.leakyRelu(a, 0.1) };
    expect(Array.from(x).some((v) => v > 6)).toBe(true);
    for (const [name, act] of Object.entries(acts)) await compare([name, `d ${name}`], () => withGrads(act, [tf.tensor1d(x)], r));
  });
});

/** The tiny branch-and-merge model: conv → [depthwise ×2 stride 2 → bn → relu6 ; 1×1 stride-2 projection] → add → gap → dense. */
function tinySpec() {
  const g = new GraphBuilder();
  const stem = g.add({ type: 'conv2d', filters: 2, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear' }, { name: 'stem' });
  // No bias before batch norm (its gradient is 0: the batch mean takes it out), as in MobileNet.
  g.add({ type: 'depthwiseConv2d', kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, useBias: false }, { name: 'dw' });
  g.add({ type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 }, { name: 'bn' });
  const a = g.add({ type: 'activation', activation: 'relu6' }, { name: 'relu6' });
  const p = g.add({ type: 'conv2d', filters: 4, kernelSize: 1, strides: 2, padding: 'valid', activation: 'linear' }, { name: 'proj', inputs: [stem] });
  g.add({ type: 'add' }, { name: 'merge', inputs: [a, p] });
  g.add({ type: 'globalAveragePooling2d' }, { name: 'gap' });
  g.add({ type: 'dense', units: 3 }, { name: 'logits' });
  return ModelSpecSchema.parse(g.spec('custom', { inputShape: [6, 6, 3], numClasses: 3 }));
}

type F64 = Float64Array;

/** TF's output size and leading pad for one axis ('same': ceil(n / s), pad total max((o − 1)·s + k − n, 0), top = ⌊total / 2⌋). */
function axis(n: number, k: number, s: number, pad: 'same' | 'valid'): [number, number] {
  if (pad === 'valid') return [Math.floor((n - k) / s) + 1, 0];
  const o = Math.ceil(n / s);
  return [o, Math.floor(Math.max((o - 1) * s + k - n, 0) / 2)];
}

/** A float64 NHWC tensor. */
interface T64 {
  d: F64;
  s: Shape4;
}

/**
 * Convolution in float64, NHWC: full (W [k, k, cin, cout]) or depthwise (W [k, k, cin, m], output channel c·m + q);
 * y = Σ x·W + bias (Goodfellow et al. 2016, §9.1; Howard et al. 2017, eq. 3).
 */
function conv64(x: T64, W: F64, bias: F64, k: number, cout: number, s: number, pad: 'same' | 'valid', depthwise: boolean): T64 {
  const [n, h, w, cin] = x.s;
  const [oh, top] = axis(h, k, s, pad);
  const [ow, left] = axis(w, k, s, pad);
  const y = new Float64Array(n * oh * ow * cout);
  const m = cout / cin;
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < cout; o++) {
          let acc = bias[o];
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) {
              const iy = oy * s - top + i;
              const ix = ox * s - left + j;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const xo = ((b * h + iy) * w + ix) * cin;
              if (depthwise) acc += x.d[xo + Math.floor(o / m)] * W[(i * k + j) * cout + o];
              else for (let c = 0; c < cin; c++) acc += x.d[xo + c] * W[((i * k + j) * cin + c) * cout + o];
            }
          y[((b * oh + oy) * ow + ox) * cout + o] = acc;
        }
  return { d: y, s: [n, oh, ow, cout] };
}

/** Training-mode batch normalization over N, H, W (biased variance; Ioffe & Szegedy 2015, Alg. 1). */
function bn64(x: T64, gamma: F64, beta: F64, eps: number): T64 {
  const C = x.s[3];
  const M = x.d.length / C;
  const y = new Float64Array(x.d.length);
  for (let c = 0; c < C; c++) {
    let mu = 0;
    for (let r = 0; r < M; r++) mu += x.d[r * C + c];
    mu /= M;
    let v = 0;
    for (let r = 0; r < M; r++) v += (x.d[r * C + c] - mu) ** 2;
    v /= M;
    for (let r = 0; r < M; r++) y[r * C + c] = ((x.d[r * C + c] - mu) / Math.sqrt(v + eps)) * gamma[c] + beta[c];
  }
  return { d: y, s: x.s };
}

/** The tiny model's loss (mean softmax cross-entropy of the logits) in float64, from its weights by node name. */
function tinyLoss64(p: Record<string, F64[]>, x: T64, labels: number[]): number {
  const stem = conv64(x, p.stem[0], p.stem[1], 3, 2, 1, 'same', false);
  const dw = conv64(stem, p.dw[0], new Float64Array(4), 3, 4, 2, 'same', true);
  const a = bn64(dw, p.bn[0], p.bn[1], 1e-3);
  const proj = conv64(stem, p.proj[0], p.proj[1], 1, 4, 2, 'valid', false);
  const [n, h, w, c] = a.s;
  let loss = 0;
  for (let b = 0; b < n; b++) {
    const pooled = new Float64Array(c);
    for (let q = 0; q < h * w; q++)
      for (let ch = 0; ch < c; ch++) {
        const i = (b * h * w + q) * c + ch;
        pooled[ch] += (Math.min(Math.max(a.d[i], 0), 6) + proj.d[i]) / (h * w);
      }
    const z = [0, 1, 2].map((o) => p.logits[1][o] + pooled.reduce((acc, v, ch) => acc + v * p.logits[0][ch * 3 + o], 0));
    const mx = Math.max(...z);
    loss += Math.log(z.reduce((acc, v) => acc + Math.exp(v - mx), 0)) + mx - z[labels[b]];
  }
  return loss / n;
}

/**
 * Gradient check tolerance. The numerical gradient is taken in float64 with step h = 1e-6:
 * its truncation error is O(h²·|f'''|) ≈ 1e-12 and its rounding error ≈ 1e-16 / h = 1e-10, so
 * it is exact for this purpose; the difference to the analytic gradient is then the float32
 * rounding of tfjs' forward and backward passes (sums of ≤ a few hundred terms: ≈ n·2⁻²⁴
 * ≈ 1e-5 relative) and batch norm's division by √(σ² + ε). 1e-4 (normwise per weight tensor)
 * leaves that a margin of 10 while a wrong gradient (a missing term, a transposed filter, a
 * wrong padding side) is off by O(1). A ReLU6 kink crossed within ±h would spoil one
 * component: with h = 1e-6 that needs a pre-activation within ~1e-6 of 0 or 6 (none here).
 * The lecture's forward difference (f(w + δ) − f(w)) / δ has an O(δ) error; central
 * differences are used instead.
 */
const GRAD_TOL = 1e-4;

describe('gradient check on a graph model with a branch and a merge', () => {
  it('analytic gradients (wasm) of every weight = central differences of the float64 network', () => {
    const spec = tinySpec();
    const model = buildModel(spec, 7);
    const rng = new Rng(99);
    // Non-trivial batch norm scale and shift, biases off zero.
    for (const layer of model.layers) {
      const ws = layer.getWeights();
      if (ws.length) layer.setWeights(ws.map((w) => tf.tidy(() => tf.add(w, tf.tensor(randArray(rng, w.size, 0.3), w.shape)))));
    }
    const n = 3;
    const xs = Float64Array.from(randArray(rng, n * 6 * 6 * 3));
    const labels = [0, 2, 1];
    const x = tf.tensor4d(Float32Array.from(xs), [n, 6, 6, 3]);
    const y = tf.tensor1d(labels, 'int32');
    const names = ['stem', 'dw', 'bn', 'proj', 'logits'];
    const vars = new Map<string, tf.Variable[]>(names.map((name) => [name, model.getLayer(name).trainableWeights.map((w) => w.read() as tf.Variable)]));
    const lossFn = (): tf.Scalar => crossEntropyFromLogits(model.apply(x, { training: true }) as tf.Tensor2D, y);
    const { value, grads } = tf.variableGrads(lossFn, [...vars.values()].flat());
    const params: Record<string, F64[]> = {};
    for (const [name, vs] of vars) params[name] = vs.map((v) => Float64Array.from(v.dataSync()));
    const x64: T64 = { d: xs, s: [n, 6, 6, 3] };
    const l64 = tinyLoss64(params, x64, labels);
    // The float64 network is the model: same loss to float32 rounding.
    expect(Math.abs(value.dataSync()[0] - l64) / Math.abs(l64)).toBeLessThan(1e-5);
    const h = 1e-6;
    const report: string[] = [];
    for (const [name, vs] of vars) {
      vs.forEach((v, k) => {
        const p = params[name][k];
        const numerical = new Float64Array(p.length);
        for (let i = 0; i < p.length; i++) {
          const w0 = p[i];
          p[i] = w0 + h;
          const up = tinyLoss64(params, x64, labels);
          p[i] = w0 - h;
          const down = tinyLoss64(params, x64, labels);
          p[i] = w0;
          numerical[i] = (up - down) / (2 * h);
        }
        const analytic = grads[v.name].dataSync();
        const err = maxRelErr(analytic, numerical);
        report.push(`${name}/${v.name.split('/').pop()} ${err.toExponential(2)}`);
        expect(numerical.some((g) => Math.abs(g) > 1e-6), `${v.name} has a gradient`).toBe(true);
        expect(err, `${v.name}: analytic vs numerical`).toBeLessThanOrEqual(GRAD_TOL);
      });
    }
    console.info(`gradient check (max |analytic − numerical| / max |numerical| per weight): ${report.join(', ')}`);
    tf.dispose([value, x, y, ...Object.values(grads)]);
    model.dispose();
  });

  it('the same model on wasm and on cpu: logits, loss and every weight gradient within 1e-4', async () => {
    const spec = tinySpec();
    const rng = new Rng(5);
    const x = randArray(rng, 4 * 6 * 6 * 3);
    let weights: { data: Float32Array; shape: number[] }[] | null = null;
    const f = (): tf.Tensor[] => {
      const model: tfl.LayersModel = buildModel(spec, 3);
      if (!weights) weights = model.getWeights().map((w) => ({ data: Float32Array.from(w.dataSync() as Float32Array).map((v) => v + 0.2 * rng.normal()), shape: w.shape }));
      model.setWeights(weights.map((w) => tf.tensor(w.data, w.shape)));
      const xt = tf.tensor4d(x, [4, 6, 6, 3]);
      const yt = tf.tensor1d([0, 1, 2, 1], 'int32');
      const vs = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const logits = model.apply(xt, { training: true }) as tf.Tensor2D;
      const { value, grads } = tf.variableGrads(() => crossEntropyFromLogits(model.apply(xt, { training: true }) as tf.Tensor2D, yt), vs);
      const out = [logits, value, ...vs.map((v) => grads[v.name])];
      model.dispose();
      return out;
    };
    await compare(['logits', 'loss', ...Array.from({ length: 9 }, (_, i) => `grad ${i}`)], f);
  });
});

describe('heNormal initializer', () => {
  it('draws kernels with mean 0 and std √(2 / fan_in) (conv 3×3×64→256 and dense 1024→512)', () => {
    const g = new GraphBuilder();
    g.add({ type: 'conv2d', filters: 64, kernelSize: 1 });
    g.add({ type: 'conv2d', filters: 256, kernelSize: 3, padding: 'same', kernelInitializer: 'heNormal' }, { name: 'conv' });
    g.add({ type: 'globalAveragePooling2d' });
    g.add({ type: 'dense', units: 1024, kernelInitializer: 'heNormal' }, { name: 'wide' });
    g.add({ type: 'dense', units: 512, kernelInitializer: 'heNormal' }, { name: 'dense' });
    g.add({ type: 'dense', units: 2 });
    const model = buildModel(ModelSpecSchema.parse(g.spec('custom', { inputShape: [4, 4, 3], numClasses: 2 })), 1);
    for (const [name, fanIn] of [
      ['conv', 3 * 3 * 64],
      ['dense', 1024],
    ] as const) {
      const w = model.getLayer(name).getWeights()[0].dataSync();
      let mean = 0;
      for (const v of w) mean += v;
      mean /= w.length;
      let v2 = 0;
      for (const v of w) v2 += (v - mean) ** 2;
      const std = Math.sqrt(v2 / w.length);
      const want = Math.sqrt(2 / fanIn);
      // Sampling error of a std estimate over N ≥ 147k draws: ≈ σ/√(2N) < 0.2 %; 2 % tolerance.
      expect(Math.abs(std / want - 1), `${name}: std ${std} vs √(2/${fanIn}) = ${want}`).toBeLessThan(0.02);
      expect(Math.abs(mean), `${name}: mean`).toBeLessThan((4 * want) / Math.sqrt(w.length));
    }
    model.dispose();
  });
});
