/**
 * The inspect job's numbers against independent references:
 *  - input gradients (vanilla saliency's raw material) against the lecture's numerical
 *    gradient, central differences (f(x + h) − f(x − h)) / 2h of the model's own forward pass;
 *  - Grad-CAM on a model trained here on data whose label depends only on the top-left
 *    quadrant (bars elsewhere are distractors in both classes): its maximum lies there; and its
 *    maps against the closed form of a global-average-pooling head, also inside a residual block;
 *  - the activations of a residual block (conv → conv, shortcut add, relu) equal the same
 *    block computed by hand with tf.conv2d / tf.add from the layers' weights;
 *  - weight histograms: counts and statistics by hand; a damaged checkpoint fails naming the file.
 */
import { mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/engine/backend';
import { saveCheckpoint } from '../../src/engine/checkpoint';
import { answerInspectOp, nodeActivations, runInspectJob, weightHistograms } from '../../src/engine/inspect';
import { buildModel, crossEntropyFromLogits, trainableVariables } from '../../src/engine/model';
import { modelNodes } from '../../src/engine/model-graph';
import { Rng } from '../../src/engine/random';
import { gradCam, inputGradients } from '../../src/engine/saliency';
import type { EngineToMain } from '../../src/shared/engine-protocol';
import { GraphBuilder } from '../../src/shared/graph-builder';
import { ModelSpecSchema } from '../../src/shared/spec';

let dir = '';
beforeAll(async () => {
  await initBackend('cpu', { threads: 2 });
  dir = mkdtempSync(join(tmpdir(), 'lw-inspect-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** conv(tanh) → conv(tanh) → flatten → dense: smooth, so finite differences are accurate. */
function smoothModel(): tfl.LayersModel {
  const g = new GraphBuilder();
  g.add({ type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh' }, { name: 'c1' });
  g.add({ type: 'conv2d', filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }, { name: 'c2' });
  g.add({ type: 'flatten' }, { name: 'flat' });
  g.add({ type: 'dense', units: 3 }, { name: 'logits' });
  return buildModel(ModelSpecSchema.parse(g.spec('custom', { inputShape: [6, 6, 3], numClasses: 3 })), 11);
}

describe('input gradients', () => {
  it('equal the central-difference gradient of the class score, for every input value', async () => {
    const model = smoothModel();
    const rng = new Rng(4);
    const n = 6 * 6 * 3;
    const x0 = Float32Array.from({ length: n }, () => rng.next());
    const cls = 2;
    const analytic = await inputGradients(model, tf.tensor4d(x0, [1, 6, 6, 3]), [cls]);
    // f(x ± h·e_i) for every i, as one batch of 2n images.
    const h = 1e-2;
    const batch = new Float32Array(2 * n * n);
    for (let i = 0; i < n; i++) {
      batch.set(x0, 2 * i * n);
      batch.set(x0, (2 * i + 1) * n);
      batch[2 * i * n + i] += h;
      batch[(2 * i + 1) * n + i] -= h;
    }
    const y = tf.tidy(() => model.predict(tf.tensor4d(batch, [2 * n, 6, 6, 3])) as tf.Tensor).dataSync();
    let maxErr = 0;
    let maxAbs = 0;
    for (let i = 0; i < n; i++) {
      const numeric = (y[2 * i * 3 + cls] - y[(2 * i + 1) * 3 + cls]) / (2 * h);
      maxErr = Math.max(maxErr, Math.abs(numeric - analytic[i]));
      maxAbs = Math.max(maxAbs, Math.abs(analytic[i]));
    }
    expect(maxAbs).toBeGreaterThan(1e-3);
    // float32 forward: differences carry ~1e-7/h ≈ 1e-5 rounding, the O(h²) term ~1e-4.
    expect(maxErr / maxAbs).toBeLessThan(5e-3);
    model.dispose();
  });
});

/**
 * 16×16 grey images on faint noise; label 1 iff the top-left 8×8 quadrant holds a bright 2×2
 * blob. The other quadrants hold distractors in both classes, a 1×3 bar each with probability
 * 0.6, so the answer does not depend on them.
 */
function quadrantData(count: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(count * 256);
  const y = new Int32Array(count);
  const mark = (i: number, r0: number, c0: number, cells: number[][]): void => {
    const r = r0 + Math.floor(rng.next() * 6);
    const c = c0 + Math.floor(rng.next() * 6);
    for (const [dr, dc] of cells) x[i * 256 + (r + dr) * 16 + c + dc] = 1;
  };
  for (let i = 0; i < count; i++) {
    for (let p = 0; p < 256; p++) x[i * 256 + p] = 0.2 * rng.next();
    y[i] = rng.next() < 0.5 ? 1 : 0;
    if (y[i]) mark(i, 0, 0, BLOB);
    for (const [r0, c0] of [[0, 8], [8, 0], [8, 8]]) if (rng.next() < 0.6) mark(i, r0, c0, BAR);
  }
  return { x, y };
}
const BLOB = [[0, 0], [0, 1], [1, 0], [1, 1]];
const BAR = [[0, 0], [0, 1], [0, 2]];

describe('Grad-CAM', () => {
  it('puts its maximum in the only region the answer depends on', async () => {
    const g = new GraphBuilder();
    g.add({ type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }, { name: 'c1' });
    g.add({ type: 'maxPooling2d', poolSize: 2 }, { name: 'p1' });
    g.add({ type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }, { name: 'c2' });
    g.add({ type: 'globalAveragePooling2d' }, { name: 'gap' });
    g.add({ type: 'dense', units: 2 }, { name: 'logits' });
    const model = buildModel(ModelSpecSchema.parse(g.spec('custom', { inputShape: [16, 16, 1], numClasses: 2 })), 5);
    const train = quadrantData(1024, 1);
    const opt = tf.train.adam(0.01);
    const vars = trainableVariables(model);
    for (let step = 0; step < 600; step++) {
      const from = (step * 32) % 1024;
      tf.tidy(() => {
        const xb = tf.tensor4d(train.x.subarray(from * 256, (from + 32) * 256), [32, 16, 16, 1]);
        const yb = tf.tensor1d(train.y.subarray(from, from + 32), 'int32');
        opt.minimize(() => crossEntropyFromLogits(model.apply(xb, { training: true }) as tf.Tensor2D, yb), false, vars);
      });
    }
    const test = quadrantData(200, 2);
    const pred = tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(test.x, [200, 16, 16, 1])) as tf.Tensor, 1).dataSync());
    const accuracy = Array.from(pred).filter((p, i) => p === test.y[i]).length / 200;
    expect(accuracy).toBeGreaterThan(0.9);

    const positives = Array.from(test.y.keys()).filter((i) => test.y[i] === 1 && pred[i] === 1);
    const xs = new Float32Array(positives.length * 256);
    positives.forEach((i, k) => xs.set(test.x.subarray(i * 256, (i + 1) * 256), k * 256));
    const nodes = modelNodes(model);
    const { maps, coarse, nodeShape } = await gradCam(model, nodes, tf.tensor4d(xs, [positives.length, 16, 16, 1]), positives.map(() => 1), 'c2');
    expect(nodeShape).toEqual([8, 8, 8]);
    expect(coarse.length).toBe(positives.length * 64);
    let inRegion = 0;
    for (let k = 0; k < positives.length; k++) {
      const m = maps.subarray(k * 256, (k + 1) * 256);
      const at = m.indexOf(Math.max(...m));
      if (Math.floor(at / 16) < 8 && at % 16 < 8) inRegion++;
    }
    // By hand for this head (c2 → global average → dense W): ∂y_c/∂A_ijk = W[k, c] / 64, so α_k = W[k, c] / 64.
    const W = model.getLayer('logits').getWeights()[0].dataSync();
    const { nodes: ns, values } = nodeActivations(model, xs.subarray(0, 256));
    const A = values[ns.findIndex((n) => n.name === 'c2')];
    for (let p = 0; p < 64; p++) {
      let z = 0;
      for (let k = 0; k < 8; k++) z += (W[k * 2 + 1] / 64) * A[p * 8 + k];
      expect(Math.abs(coarse[p] - Math.max(0, z)), `cam[${p}]`).toBeLessThan(1e-5);
    }
    console.log(`Grad-CAM: accuracy ${accuracy}, maximum in the top-left quadrant for ${inRegion} of ${positives.length} positives`);
    expect(positives.length).toBeGreaterThan(60);
    expect(inRegion / positives.length).toBeGreaterThanOrEqual(0.95);
    model.dispose();
  }, 180_000);
});

describe('activations', () => {
  it('of a residual block equal the block computed by hand (conv, conv, shortcut add, relu)', async () => {
    const g = new GraphBuilder();
    const stem = g.add({ type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }, { name: 'stem' });
    g.add({ type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }, { name: 'a' });
    const b = g.add({ type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', activation: 'linear' }, { name: 'b' });
    g.add({ type: 'add' }, { name: 'sum', inputs: [b, stem] });
    g.add({ type: 'activation', activation: 'relu' }, { name: 'out' });
    g.add({ type: 'globalAveragePooling2d' }, { name: 'gap' });
    g.add({ type: 'dense', units: 3 }, { name: 'logits' });
    const model = buildModel(ModelSpecSchema.parse(g.spec('custom', { inputShape: [8, 8, 3], numClasses: 3 })), 9);
    const rng = new Rng(3);
    const image = Float32Array.from({ length: 8 * 8 * 3 }, () => rng.next());
    const { nodes, values, logits } = nodeActivations(model, image);
    const got = new Map(nodes.map((n, i) => [n.name, values[i]]));
    expect(nodes.find((n) => n.name === 'sum')?.inputs).toEqual(['b', 'stem']);

    const w = (name: string) => model.getLayer(name).getWeights();
    const conv = (x: tf.Tensor4D, name: string) => tf.add(tf.conv2d(x, w(name)[0] as tf.Tensor4D, 1, 'same'), w(name)[1]) as tf.Tensor4D;
    const want = tf.tidy(() => {
      const x = tf.tensor4d(image, [1, 8, 8, 3]);
      const s = tf.relu(conv(x, 'stem'));
      const a = tf.relu(conv(s, 'a'));
      const bb = conv(a, 'b');
      const sum = tf.add(bb, s);
      const out = tf.relu(sum);
      const gap = tf.mean(out, [1, 2]);
      const lg = tf.add(tf.matMul(gap, w('logits')[0] as tf.Tensor2D), w('logits')[1]);
      return { stem: s.dataSync(), a: a.dataSync(), b: bb.dataSync(), sum: sum.dataSync(), out: out.dataSync(), gap: gap.dataSync(), logits: lg.dataSync() };
    });
    for (const [name, v] of Object.entries(want)) {
      const mine = got.get(name)!;
      expect(mine.length, name).toBe(v.length);
      for (let i = 0; i < v.length; i++) expect(Math.abs(mine[i] - v[i]), `${name}[${i}]`).toBeLessThan(1e-5);
    }
    expect(Array.from(logits)).toEqual(Array.from(got.get('logits')!));

    // Grad-CAM of node b, inside the block: y_c = Σ_k W[k, c]·mean_ij relu(b + stem)_ijk + bias, so
    // ∂y_c/∂b_ijk = W[k, c]·[sum_ijk > 0] / 64 — the gradient passes the add, not a sub-model.
    const W = model.getLayer('logits').getWeights()[0].dataSync();
    const { coarse } = await gradCam(model, modelNodes(model), tf.tensor4d(image, [1, 8, 8, 3]), [2], 'b');
    const B = got.get('b')!;
    const S = got.get('sum')!;
    const alpha = [0, 1, 2, 3].map((k) => {
      let t = 0;
      for (let p = 0; p < 64; p++) t += S[p * 4 + k] > 0 ? W[k * 3 + 2] / 64 : 0;
      return t / 64;
    });
    for (let p = 0; p < 64; p++) {
      const z = alpha.reduce((acc, a, k) => acc + a * B[p * 4 + k], 0);
      expect(Math.abs(coarse[p] - Math.max(0, z)), `cam[${p}]`).toBeLessThan(1e-6);
    }
    expect(Math.max(...coarse)).toBeGreaterThan(0);
    model.dispose();
  });
});

describe('weights and checkpoints', () => {
  it('histograms: counts sum to the weight size at every epoch; mean, std, L1, L2 as computed by hand', async () => {
    const model = smoothModel();
    const d0 = join(dir, 'h', 'epoch-0');
    const d1 = join(dir, 'h', 'epoch-1');
    await saveCheckpoint(model, d0);
    const k = model.getLayer('c1').getWeights()[0];
    model.getLayer('c1').setWeights([tf.mul(k, 3), model.getLayer('c1').getWeights()[1]]);
    // (v0 from v1 / 3: exact in float32 up to one rounding; the checks below allow for it.)
    await saveCheckpoint(model, d1);
    const hs = await weightHistograms([{ epoch: 1, dir: d1 }, { epoch: 0, dir: d0 }], 10);
    const h = hs.find((x) => x.node === 'c1' && x.weight === 'kernel')!;
    expect(h.epochs).toEqual([0, 1]);
    const v1 = Array.from(model.getLayer('c1').getWeights()[0].dataSync());
    const v0 = v1.map((v) => v / 3);
    expect(h.min).toBeCloseTo(Math.min(...v0, ...v1), 6);
    expect(h.max).toBeCloseTo(Math.max(...v0, ...v1), 6);
    for (const [e, v] of [v0, v1].entries()) {
      expect(h.counts[e].reduce((a, b) => a + b, 0)).toBe(v.length);
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      expect(h.stats[e].mean).toBeCloseTo(mean, 6);
      expect(h.stats[e].std).toBeCloseTo(Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length), 5);
      expect(h.stats[e].l1).toBeCloseTo(v.reduce((a, b) => a + Math.abs(b), 0), 4);
      expect(h.stats[e].l2).toBeCloseTo(Math.sqrt(v.reduce((a, b) => a + b * b, 0)), 5);
    }
    // Epoch 1's kernel is three times wider: fewer of its values in the middle bins.
    expect(h.counts[1][4] + h.counts[1][5]).toBeLessThan(h.counts[0][4] + h.counts[0][5]);
    expect(hs.some((x) => x.node === 'c1' && x.weight === 'bias')).toBe(true);
    model.dispose();
  });

  it('filters: every convolution kernel with its shape; a damaged checkpoint fails naming the file', async () => {
    const model = smoothModel();
    const r = await answerInspectOp(model, { op: 'filters' }, 0, () => undefined);
    expect(r?.op).toBe('filters');
    const kernels = r?.op === 'filters' ? r.kernels : [];
    expect(kernels.map((k) => [k.node, k.shape])).toEqual([
      ['c1', [3, 3, 3, 3]],
      ['c2', [3, 3, 3, 4]],
    ]);
    const c2 = new Float32Array(new Uint8Array(Buffer.from(kernels[1].dataBase64, 'base64')).buffer);
    expect(Array.from(c2)).toEqual(Array.from(model.getLayer('c2').getWeights()[0].dataSync()));

    // Depthwise kernels too: [kh, kw, inChannels, depthMultiplier].
    const g = new GraphBuilder();
    g.add({ type: 'depthwiseConv2d', kernelSize: 3, padding: 'same', depthMultiplier: 2 }, { name: 'dw' });
    g.add({ type: 'globalAveragePooling2d' }, { name: 'gap' });
    g.add({ type: 'dense', units: 2 }, { name: 'logits' });
    const dwModel = buildModel(ModelSpecSchema.parse(g.spec('custom', { inputShape: [5, 5, 3], numClasses: 2 })), 2);
    const dw = await answerInspectOp(dwModel, { op: 'filters' }, 0, () => undefined);
    expect(dw?.op === 'filters' && dw.kernels.map((k) => [k.node, k.type, k.shape])).toEqual([['dw', 'depthwiseConv2d', [3, 3, 3, 2]]]);
    dwModel.dispose();

    const d = join(dir, 'bad', 'epoch-3');
    await saveCheckpoint(model, d);
    const weights = join(d, 'weights.bin');
    truncateSync(weights, statSync(weights).size - 8);
    const posted: EngineToMain[] = [];
    await expect(runInspectJob({ type: 'inspect', jobId: 1, checkpointDir: d, op: { op: 'filters' } }, (m) => posted.push(m), new AbortController().signal)).rejects.toThrow(weights);
    expect(posted).toEqual([]);
    model.dispose();
  });
});
