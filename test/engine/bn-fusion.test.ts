/**
 * Batch norm → ReLU / ReLU6 pairs fused in training (src/engine/model.ts fusedActivationPairs,
 * src/engine/kernels/batch-norm.ts), and the image conv that skips the image's gradient
 * (model.ts imageConv2D): which pairs the model builder fuses, and that a fused
 * model trains as the unfused one (LAYERWISE_BN_FUSE=0) and as tfjs' cpu backend (stock
 * layers, no native kernel): same loss, same gradients of every weight, same moving statistics,
 * same inference output. Skipped, with the reason, when the addon is not built.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/engine/backend';
import { nativeAddon, nativeLoadError } from '../../src/engine/kernels/native';
import { buildModel, crossEntropyFromLogits, fusedActivationPairs, trainableVariables } from '../../src/engine/model';
import { Rng } from '../../src/engine/random';
import { buildPreset, ModelSpecSchema, toGraph, type ModelSpec } from '../../src/shared/spec';
import { maxRelErr } from './helpers/compare';

const na = nativeAddon();
if (!na) console.warn(`bn-fusion: skipped: ${nativeLoadError()}`);

beforeAll(async () => {
  await initBackend('cpu', { threads: 2 });
});
afterEach(() => {
  delete process.env.LAYERWISE_BN_FUSE;
});

/** conv → BN → ReLU6 → conv → BN → ReLU → (BN → add ← shortcut) → ReLU → GAP → dense: both fused kinds and a BN that must not fuse. */
const SPEC: ModelSpec = ModelSpecSchema.parse({
  preset: 'custom',
  inputShape: [12, 12, 3],
  numClasses: 5,
  nodes: [
    { name: 'c1', layer: { type: 'conv2d', filters: 8, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear', useBias: false }, inputs: ['input'] },
    { name: 'bn1', layer: { type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 }, inputs: ['c1'] },
    { name: 'a1', layer: { type: 'activation', activation: 'relu6' }, inputs: ['bn1'] },
    { name: 'c2', layer: { type: 'conv2d', filters: 8, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear', useBias: false }, inputs: ['a1'] },
    { name: 'bn2', layer: { type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 }, inputs: ['c2'] },
    { name: 'a2', layer: { type: 'activation', activation: 'relu' }, inputs: ['bn2'] },
    { name: 'c3', layer: { type: 'conv2d', filters: 8, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear', useBias: false }, inputs: ['a2'] },
    { name: 'bn3', layer: { type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 }, inputs: ['c3'] },
    { name: 'sum', layer: { type: 'add' }, inputs: ['bn3', 'a1'] },
    { name: 'a3', layer: { type: 'activation', activation: 'relu' }, inputs: ['sum'] },
    { name: 'gap', layer: { type: 'globalAveragePooling2d' }, inputs: ['a3'] },
    { name: 'logits', layer: { type: 'dense', units: 5, activation: 'linear', useBias: true }, inputs: ['gap'] },
  ],
});

interface StepResult {
  loss: number;
  grads: Float32Array[];
  moving: Float32Array[];
  logits: Float32Array;
}

/** One training-mode loss and its gradients for every weight, then the moving statistics and an inference pass. */
async function step(spec: ModelSpec, backend: string, fuse: boolean): Promise<StepResult> {
  await tf.setBackend(backend);
  process.env.LAYERWISE_BN_FUSE = fuse ? '1' : '0';
  const model = buildModel(spec, 5);
  const [h, w, c] = spec.inputShape;
  const rng = new Rng(17);
  const xs = Float32Array.from({ length: 6 * h * w * c }, () => rng.next());
  const x = tf.tensor4d(xs, [6, h, w, c]);
  const y = tf.tensor1d(Int32Array.from({ length: 6 }, (_, i) => i % spec.numClasses), 'int32');
  const vars = trainableVariables(model);
  const { value, grads } = tf.variableGrads(() => crossEntropyFromLogits(model.apply(x, { training: true }) as tf.Tensor2D, y), vars);
  const out: StepResult = {
    loss: (await value.data())[0],
    grads: await Promise.all(vars.map(async (v) => (await grads[v.name].data()) as Float32Array)),
    moving: await Promise.all(model.weights.filter((v) => /moving/.test(v.originalName)).map(async (v) => (await v.read().data()) as Float32Array)),
    logits: (await (model.predict(x) as tf.Tensor).data()) as Float32Array,
  };
  tf.dispose([value, x, y, ...Object.values(grads)]);
  model.dispose();
  return out;
}

describe('batch norm → activation fusion', () => {
  it('pairs a BN with its only consumer when that is a ReLU / ReLU6 activation, nothing else', () => {
    const g = toGraph(SPEC);
    expect([...fusedActivationPairs(g.nodes, g.output)]).toEqual([
      ['bn1', 'a1'],
      ['bn2', 'a2'],
    ]);
    // ResNet-20: the stem and the first conv of each of the 9 blocks (the second BN feeds the add).
    const r = toGraph(buildPreset('resnet20', { inputShape: [32, 32, 3], numClasses: 10, dropoutRate: 0 }));
    const rp = fusedActivationPairs(r.nodes, r.output);
    expect(rp.size).toBe(10);
    for (const [bn, act] of rp) expect(r.nodes.find((n) => n.name === act)?.inputs).toEqual([bn]);
    // MobileNet: every BN is followed by ReLU6.
    const m = toGraph(buildPreset('mobilenet', { inputShape: [64, 64, 3], numClasses: 10, widthMultiplier: 0.25, dropoutRate: 0 }));
    expect(fusedActivationPairs(m.nodes, m.output).size).toBe(m.nodes.filter((n) => n.layer.type === 'batchNormalization').length);
    // A BN read by two nodes keeps its own output.
    const two = SPEC.nodes!.map((n) => (n.name === 'sum' ? { ...n, inputs: ['bn3', 'bn1'] } : n));
    const g2 = toGraph({ ...SPEC, nodes: two });
    expect(fusedActivationPairs(g2.nodes, g2.output).has('bn1')).toBe(false);
    process.env.LAYERWISE_BN_FUSE = '0';
    expect(fusedActivationPairs(g.nodes, g.output).size).toBe(0);
  });

  it.skipIf(!na)('a fused model trains as the unfused one and as the cpu backend (loss, gradients, moving statistics, inference)', async () => {
    const fused = await step(SPEC, 'wasm', true);
    const plain = await step(SPEC, 'wasm', false);
    const ref = await step(SPEC, 'cpu', true); // cpu: the stock layers whatever the flag
    for (const other of [plain, ref]) {
      expect(Math.abs(fused.loss - other.loss) / Math.abs(other.loss)).toBeLessThanOrEqual(1e-5);
      expect(fused.grads.length).toBe(other.grads.length);
      fused.grads.forEach((g, i) => expect(maxRelErr(g, other.grads[i])).toBeLessThanOrEqual(1e-4));
      expect(fused.moving.length).toBe(6);
      fused.moving.forEach((m, i) => expect(maxRelErr(m, other.moving[i])).toBeLessThanOrEqual(1e-5));
      expect(maxRelErr(fused.logits, other.logits)).toBeLessThanOrEqual(1e-4);
    }
  });

  it.skipIf(!na)('the conv reading the image computes no gradient for the image (and the step still matches cpu above)', async () => {
    await tf.setBackend('wasm');
    const model = buildModel(SPEC, 5);
    const x = tf.randomUniform([4, 12, 12, 3], 0, 1, 'float32', 3);
    const y = tf.tensor1d([0, 1, 2, 3], 'int32');
    const vars = trainableVariables(model);
    const info = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => crossEntropyFromLogits(model.apply(x, { training: true }) as tf.Tensor2D, y), vars);
      tf.dispose([value, ...Object.values(grads)]);
    });
    const dxOfImage = info.kernels.filter((k) => k.name === 'Conv2DBackpropInput' && k.outputShapes.some((s) => s?.join() === '4,12,12,3'));
    expect(dxOfImage).toEqual([]);
    // The other convs' input gradients are there (c2, c3).
    expect(info.kernels.filter((k) => k.name === 'Conv2DBackpropInput').length).toBe(2);
    tf.dispose([x, y]);
    model.dispose();
  });

  it.skipIf(!na)('a layer list (the old format) with BN + ReLU blocks trains the same fused and unfused', async () => {
    const spec = ModelSpecSchema.parse({
      preset: 'custom',
      inputShape: [10, 10, 3],
      numClasses: 3,
      layers: [
        { type: 'conv2d', filters: 16, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear', useBias: false },
        { type: 'batchNormalization', momentum: 0.99, epsilon: 1e-3 },
        { type: 'activation', activation: 'relu' },
        { type: 'maxPooling2d', poolSize: 2, padding: 'valid' },
        { type: 'flatten' },
        { type: 'dense', units: 3, activation: 'linear', useBias: true },
      ],
    });
    const g = toGraph(spec);
    expect(fusedActivationPairs(g.nodes, g.output).size).toBe(1);
    const fused = await step(spec, 'wasm', true);
    const plain = await step(spec, 'wasm', false);
    expect(Math.abs(fused.loss - plain.loss)).toBeLessThanOrEqual(1e-6 * Math.abs(plain.loss));
    fused.grads.forEach((gr, i) => expect(maxRelErr(gr, plain.grads[i])).toBeLessThanOrEqual(1e-5));
  });
});
