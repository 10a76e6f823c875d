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
import { compileInference, planInference } from '../../src/engine/infer';
import { nativeAddon } from '../../src/engine/kernels/native';
import { buildModel } from '../../src/engine/model';
import { Rng } from '../../src/engine/random';
import { GraphBuilder } from '../../src/shared/graph-builder';
import { buildPreset, ModelSpecSchema, type ModelSpec } from '../../src/shared/spec';
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
    const spec = ModelSpecSchema.parse({
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
    });
    expect(await check(spec, 6, 3)).toBeLessThanOrEqual(1e-4);
  });
  it('fused conv + 2×2 max pool (one input channel; 16 outputs), the 16-output direct conv, odd sizes', async () => {
    const spec = ModelSpecSchema.parse({
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
    });
    expect(await check(spec, 19, 7)).toBeLessThanOrEqual(1e-4);
  });
  it('fused conv + 2×2 max pool for 32 and 64 outputs with padding (3, 1 and 32 input channels), odd sizes, relu and linear', async () => {
    const spec = ModelSpecSchema.parse({
      preset: 'custom',
      inputShape: [19, 17, 3],
      numClasses: 4,
      layers: [
        { type: 'conv2d', filters: 32, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear', useBias: true },
        { type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 },
        { type: 'activation', activation: 'relu' },
        { type: 'maxPooling2d', poolSize: 2, strides: 2, padding: 'valid' },
        { type: 'conv2d', filters: 64, kernelSize: 2, strides: 1, padding: 'same', activation: 'linear', useBias: true },
        { type: 'maxPooling2d', poolSize: 2, strides: 2, padding: 'valid' },
        { type: 'conv2d', filters: 32, kernelSize: 3, strides: 1, padding: 'valid', activation: 'relu', useBias: true },
        { type: 'flatten' },
        { type: 'dense', units: 4, activation: 'linear', useBias: true },
      ],
    });
    expect(await check(spec, 13, 8)).toBeLessThanOrEqual(1e-4);
    const gray = ModelSpecSchema.parse({
      preset: 'custom',
      inputShape: [12, 12, 1],
      numClasses: 3,
      layers: [
        { type: 'conv2d', filters: 32, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu', useBias: true },
        { type: 'maxPooling2d', poolSize: 2, strides: 2, padding: 'valid' },
        { type: 'flatten' },
        { type: 'dense', units: 3, activation: 'linear', useBias: true },
      ],
    });
    expect(await check(gray, 9, 9)).toBeLessThanOrEqual(1e-4);
  });
  it('declines what it does not cover (tanh): callers keep the tfjs graph', async () => {
    await tf.setBackend('wasm');
    const m = buildModel({ preset: 'custom', inputShape: [8, 8, 1], numClasses: 2, layers: [{ type: 'conv2d', filters: 2, kernelSize: 3, strides: 1, padding: 'same', activation: 'tanh', useBias: true }, { type: 'flatten' }, { type: 'dense', units: 2, activation: 'linear', useBias: true }] } as ModelSpec, 1);
    expect(compileInference(m, 4)).toBeNull();
    m.dispose();
  });
  // Graphs (branches and merges): ResNet-, MobileNet- and Inception-like blocks, then the real presets.
  /** The plan's op sequence for spec (weights as built). */
  async function describePlan(spec: ModelSpec): Promise<string> {
    await tf.setBackend('wasm');
    const m = buildModel(spec, 1);
    const { plan, reason } = planInference(m, 4);
    m.dispose();
    expect(reason).toBe('');
    return plan!.describe();
  }

  /** A ResNet basic block (He et al. 2016, §3.2 / §4.2): conv-bn-relu, conv-bn, + shortcut (identity, or 1×1 stride-2 conv + bn), relu. */
  function basicBlock(g: GraphBuilder, filters: number, stride: number): void {
    const from = g.last;
    g.add({ type: 'conv2d', filters, kernelSize: 3, strides: stride, padding: 'same', activation: 'linear', useBias: false });
    g.add({ type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 });
    g.add({ type: 'activation', activation: 'relu' });
    g.add({ type: 'conv2d', filters, kernelSize: 3, padding: 'same', activation: 'linear', useBias: false });
    const main = g.add({ type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 });
    let short = from;
    if (stride !== 1) {
      g.add({ type: 'conv2d', filters, kernelSize: 1, strides: stride, padding: 'valid', activation: 'linear', useBias: false }, { inputs: [from] });
      short = g.add({ type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 });
    }
    g.add({ type: 'add' }, { inputs: [main, short] });
    g.add({ type: 'activation', activation: 'relu' });
  }

  function resnetLike(): ModelSpec {
    const g = new GraphBuilder();
    g.add({ type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same', activation: 'linear', useBias: false });
    g.add({ type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 });
    g.add({ type: 'activation', activation: 'relu' });
    basicBlock(g, 8, 1);
    basicBlock(g, 16, 2);
    basicBlock(g, 16, 1);
    g.add({ type: 'globalAveragePooling2d' });
    g.add({ type: 'dense', units: 5 });
    return ModelSpecSchema.parse(g.spec('custom', { inputShape: [12, 12, 3], numClasses: 5 }));
  }

  it('ResNet-like graph (identity and projection shortcuts, add + relu, global average pooling) matches tfjs cpu', async () => {
    const spec = resnetLike();
    const d = await describePlan(spec);
    expect(d).toContain('conv+bn+relu');
    expect(d).toContain('add+relu');
    // Every batch norm folded: no standalone 'bn' op.
    expect(d.split(' → ').some((o) => o === 'bn')).toBe(false);
    // Slots by lifetime: fewer scratch buffers than tensors (here 3 of 20).
    const scratch = Number(/(\d+) scratch slots/.exec(d)![1]);
    expect(scratch).toBeLessThanOrEqual(4);
    expect(await check(spec, 5, 11)).toBeLessThanOrEqual(1e-4);
    expect(await check(spec, 37, 12)).toBeLessThanOrEqual(1e-4);
  });

  it('conv + residual add (+ relu) in one kernel: 16, 32 and 64 channels, odd sizes, a linear add, a conv output read again after its add', async () => {
    // The executor adds the residual in the epilogue of the conv before the add (convVecPadded with res). In the last
    // block the conv's output is also concatenated after the add (its residual, the block's input, dies at the add,
    // so the add runs in place there): that pair must not fuse (the conv's map is needed), and its add is linear.
    const g = new GraphBuilder();
    g.add({ type: 'conv2d', filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' });
    basicBlock(g, 16, 1);
    g.add({ type: 'conv2d', filters: 64, kernelSize: 1, activation: 'relu' });
    basicBlock(g, 64, 1);
    g.add({ type: 'conv2d', filters: 32, kernelSize: 1, activation: 'relu' });
    basicBlock(g, 32, 1);
    const from = g.last;
    g.add({ type: 'conv2d', filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' });
    g.add({ type: 'conv2d', filters: 32, kernelSize: 3, padding: 'same', activation: 'linear' });
    const c32 = g.add({ type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 });
    const sum = g.add({ type: 'add' }, { inputs: [from, c32] });
    g.add({ type: 'concatenate' }, { inputs: [sum, c32] });
    g.add({ type: 'globalAveragePooling2d' });
    g.add({ type: 'dense', units: 4 });
    const spec = ModelSpecSchema.parse(g.spec('custom', { inputShape: [7, 13, 3], numClasses: 4 }));
    const d = await describePlan(spec);
    expect(d).toContain('conv+bn → add+relu');
    expect(d).toContain('conv+bn → add → concat');
    // 1, 2 and 5 images: chunks of one image (one band each) and of several.
    for (const [n, seed] of [[1, 21], [2, 22], [5, 23]]) expect(await check(spec, n, seed)).toBeLessThanOrEqual(1e-4);
  });

  it('MobileNet-like graph (depthwise ×1 and ×2, stride 2, zero padding folded into the conv, bn + relu6) matches tfjs cpu', async () => {
    const g = new GraphBuilder();
    const bn = () => g.add({ type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 });
    const relu6 = () => g.add({ type: 'activation', activation: 'relu6' });
    g.add({ type: 'conv2d', filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'linear', useBias: false });
    bn();
    relu6();
    g.add({ type: 'depthwiseConv2d', kernelSize: 3, padding: 'same', useBias: false });
    bn();
    relu6();
    g.add({ type: 'conv2d', filters: 12, kernelSize: 1, activation: 'linear', useBias: false });
    bn();
    relu6();
    g.add({ type: 'zeroPadding2d', padding: [[0, 1], [0, 1]] });
    g.add({ type: 'depthwiseConv2d', kernelSize: 3, strides: 2, padding: 'valid', depthMultiplier: 2, useBias: true });
    bn();
    relu6();
    g.add({ type: 'conv2d', filters: 16, kernelSize: 1, activation: 'relu6' });
    g.add({ type: 'globalAveragePooling2d' });
    g.add({ type: 'dropout', rate: 0.2 });
    g.add({ type: 'dense', units: 4 });
    const spec = ModelSpecSchema.parse(g.spec('custom', { inputShape: [17, 17, 3], numClasses: 4 }));
    const d = await describePlan(spec);
    expect(d).toContain('dwconv+bn+relu6');
    expect(d).not.toContain('pad');
    expect(await check(spec, 6, 13)).toBeLessThanOrEqual(1e-4);
    expect(await check(spec, 19, 14)).toBeLessThanOrEqual(1e-4);
  });

  it('Inception-like graph (concatenate of 4 branches, batch norm and leaky relu after the merge, a tensor with 3 readers, add of 3, unfolded zero padding, elu, global max pooling) matches tfjs cpu', async () => {
    const g = new GraphBuilder();
    const stem = g.add({ type: 'conv2d', filters: 6, kernelSize: 3, padding: 'same', activation: 'elu' });
    const b1 = g.add({ type: 'conv2d', filters: 4, kernelSize: 1, activation: 'relu' }, { inputs: [stem] });
    g.add({ type: 'conv2d', filters: 3, kernelSize: 1, activation: 'relu' }, { inputs: [stem] });
    const b2 = g.add({ type: 'conv2d', filters: 5, kernelSize: 3, padding: 'same', activation: 'relu' });
    g.add({ type: 'maxPooling2d', poolSize: 3, strides: 1, padding: 'same' }, { inputs: [stem] });
    const b3 = g.add({ type: 'conv2d', filters: 2, kernelSize: 1, activation: 'relu' });
    const b4 = g.add({ type: 'conv2d', filters: 3, kernelSize: 5, padding: 'same', activation: 'linear' }, { inputs: [b1] });
    g.add({ type: 'concatenate' }, { inputs: [b1, b2, b3, b4] });
    g.add({ type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 });
    const merged = g.add({ type: 'activation', activation: 'leakyRelu', alpha: 0.2 });
    const a1 = g.add({ type: 'conv2d', filters: 6, kernelSize: 1, activation: 'linear' }, { inputs: [merged] });
    const a2 = g.add({ type: 'conv2d', filters: 6, kernelSize: 3, padding: 'same', activation: 'linear' }, { inputs: [merged] });
    g.add({ type: 'add' }, { inputs: [a1, a2, stem] });
    g.add({ type: 'zeroPadding2d', padding: 1 });
    g.add({ type: 'maxPooling2d', poolSize: 2 });
    g.add({ type: 'globalMaxPooling2d' });
    g.add({ type: 'dense', units: 3 });
    const spec = ModelSpecSchema.parse(g.spec('custom', { inputShape: [9, 11, 3], numClasses: 3 }));
    const d = await describePlan(spec);
    expect(d).toContain('concat → concat → concat → concat → bn+leakyRelu');
    expect(d).toContain('pad → maxpool');
    expect(await check(spec, 7, 15)).toBeLessThanOrEqual(1e-4);
  });

  it('the resnet20 preset (32×32×3) and the mobilenet preset (width 0.25, 64×64×3) match tfjs cpu', async () => {
    const resnet = buildPreset('resnet20', { inputShape: [32, 32, 3], numClasses: 10 });
    expect(await check(resnet, 3, 16)).toBeLessThanOrEqual(1e-4);
    const mobilenet = buildPreset('mobilenet', { inputShape: [64, 64, 3], numClasses: 10, widthMultiplier: 0.25 });
    expect(await check(mobilenet, 2, 17)).toBeLessThanOrEqual(1e-4);
  });

  it('says why when it declines: the activation or layer not covered, the backend', async () => {
    await tf.setBackend('wasm');
    const tanh = buildModel(ModelSpecSchema.parse({ preset: 'custom', inputShape: [8, 8, 1], numClasses: 2, nodes: [{ name: 'c', layer: { type: 'conv2d', filters: 2, kernelSize: 3, activation: 'tanh' }, inputs: ['input'] }, { name: 'g', layer: { type: 'globalAveragePooling2d' }, inputs: ['c'] }, { name: 'logits', layer: { type: 'dense', units: 2 }, inputs: ['g'] }] }), 1);
    expect(planInference(tanh, 4)).toEqual({ plan: null, reason: 'layer "c": activation tanh' });
    const avg = buildModel(ModelSpecSchema.parse({ preset: 'custom', inputShape: [8, 8, 1], numClasses: 2, nodes: [{ name: 'p', layer: { type: 'averagePooling2d' }, inputs: ['input'] }, { name: 'f', layer: { type: 'flatten' }, inputs: ['p'] }, { name: 'logits', layer: { type: 'dense', units: 2 }, inputs: ['f'] }] }), 1);
    expect(planInference(avg, 4).reason).toBe('layer "p" (AveragePooling2D)');
    await tf.setBackend('cpu');
    expect(planInference(avg, 4).reason).toMatch(/^backend cpu/);
    await tf.setBackend('wasm');
    tanh.dispose();
    avg.dispose();
  });
  it('the addon checks a plan before running it: slots, sizes, weights (a RangeError / TypeError naming the op, not a crash)', () => {
    const x = Float32Array.from([1, 2, 3, 4]);
    const y = new Float32Array(4);
    const op = (ints: number[]): Int32Array => {
      const d = new Int32Array(24);
      d.set(ints);
      return d;
    };
    // add (kind 3) of slot 0 with itself into slot 1, 4 floats per image: y = 2x.
    na!.inferRun!(x, y, 1, op([3, 0, 0, 0, 1, 0, 0, 4]), [null, null], Int32Array.from([4, 4]), 0, null, 0, 1);
    expect(Array.from(y)).toEqual([2, 4, 6, 8]);
    expect(() => na!.inferRun!(x, y, 1, op([3, 0, 0, 5, 1, 0, 0, 4]), [null, null], Int32Array.from([4, 4]), 0, null, 0, 1)).toThrow('inferRun: op 0: slot out of range');
    expect(() => na!.inferRun!(x, y, 1, op([3, 0, 0, 0, 1, 0, 0, 4]), [null, null], Int32Array.from([4, 3]), 0, null, 0, 1)).toThrow('inferRun: op 0: tensor does not fit its slot');
    expect(() => na!.inferRun!(x, y, 1, op([3, 0, 0, 0, 0, 0, 0, 4]), [null, null], Int32Array.from([4, 4]), 0, null, 0, 1)).toThrow('inferRun: op 0: writes the input');
    // dense (kind 2) 4 → 4 without weights; then with too few.
    expect(() => na!.inferRun!(x, y, 1, op([2, 0, 0, -1, 1, 0, 0, 4, 4]), [null, null], Int32Array.from([4, 4]), 0, null, 0, 1)).toThrow('inferRun: op 0: missing weights');
    expect(() => na!.inferRun!(x, y, 1, op([2, 0, 0, -1, 1, 0, 0, 4, 4]), [new Float32Array(15), null], Int32Array.from([4, 4]), 0, null, 0, 1)).toThrow('inferRun: weights too small');
    // per-op mode needs a buffer for each scratch slot.
    expect(() => na!.inferRun!(x, y, 1, op([3, 0, 0, 0, 2, 0, 0, 4]), [null, null], Int32Array.from([4, 4, 4]), 0, [null, null, null], 0, 1)).toThrow('inferRun: missing slot buffer');
  });

  it('profile() times every op of a graph plan over the batch and leaves the logits run() gives', async () => {
    await tf.setBackend('wasm');
    const m = buildModel(resnetLike(), 2);
    const plan = compileInference(m, 8)!;
    const x = new Float32Array(8 * 12 * 12 * 3).map((_, i) => (i % 17) / 17);
    const want = Float32Array.from(plan.run(x, 8));
    const prof = plan.profile(x, 8, 2);
    expect(prof.length).toBe(plan.describe().split(';')[0].split(' → ').length);
    expect(prof.every(([, ms]) => Number.isFinite(ms) && ms >= 0)).toBe(true);
    expect(Array.from(plan.run(x, 8))).toEqual(Array.from(want));
    m.dispose();
  });
});
