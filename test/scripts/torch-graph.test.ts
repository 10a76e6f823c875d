/**
 * bench/torch_graph.py (our graph spec built node by node in PyTorch, which the parity and
 * time-to-accuracy benchmarks train) computes the same function as our engine's model: the
 * presets and a graph holding every other layer kind, our weights copied in (batch-norm
 * moving statistics and γ/β randomised so they matter), inference-mode logits of tfjs' `cpu`
 * backend against PyTorch's on random images, to 1e-4 of the largest logit. Skipped, with
 * the reason, without python3-torch.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/engine/model';
import { Rng } from '../../src/engine/random';
import { buildPreset, describeModel, modelTotals, ModelSpecSchema, toGraph, type ModelSpec } from '../../src/shared/spec';
import { f32FromB64, toB64 } from '../../bench/common';

const root = join(__dirname, '..', '..');
const python = (process.env.LAYERWISE_PYTHON ? [process.env.LAYERWISE_PYTHON] : ['/usr/bin/python3', 'python3']).find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
if (!python) console.warn('[tests] skipped: bench/torch_graph.py needs python3-torch (apt-get install -y python3-torch)');

/** Every layer kind the presets below do not all cover, on an odd input size (TensorFlow's asymmetric 'same' padding). */
const mixed: ModelSpec = ModelSpecSchema.parse({
  preset: 'custom',
  inputShape: [15, 15, 3],
  numClasses: 5,
  nodes: [
    { name: 'pad', layer: { type: 'zeroPadding2d', padding: [[1, 0], [0, 2]] }, inputs: ['input'] },
    { name: 'conv_s2', layer: { type: 'conv2d', filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'elu' }, inputs: ['pad'] },
    { name: 'dw', layer: { type: 'depthwiseConv2d', kernelSize: 3, strides: 1, padding: 'same', depthMultiplier: 2, activation: 'relu6' }, inputs: ['conv_s2'] },
    { name: 'bn', layer: { type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 }, inputs: ['dw'] },
    { name: 'leaky', layer: { type: 'activation', activation: 'leakyRelu', alpha: 0.2 }, inputs: ['bn'] },
    { name: 'avg', layer: { type: 'averagePooling2d', poolSize: 3, strides: 2, padding: 'same' }, inputs: ['leaky'] },
    { name: 'max', layer: { type: 'maxPooling2d', poolSize: 3, strides: 2, padding: 'same' }, inputs: ['leaky'] },
    { name: 'cat', layer: { type: 'concatenate', axis: -1 }, inputs: ['avg', 'max'] },
    { name: 'gmax', layer: { type: 'globalMaxPooling2d' }, inputs: ['cat'] },
    { name: 'conv_b', layer: { type: 'conv2d', filters: 24, kernelSize: 1, strides: 1, padding: 'valid', activation: 'tanh', useBias: false }, inputs: ['cat'] },
    { name: 'gavg', layer: { type: 'globalAveragePooling2d' }, inputs: ['conv_b'] },
    { name: 'sum', layer: { type: 'add' }, inputs: ['gmax', 'gavg'] },
    { name: 'flat_path', layer: { type: 'flatten' }, inputs: ['conv_b'] },
    { name: 'dense_a', layer: { type: 'dense', units: 24, activation: 'sigmoid' }, inputs: ['flat_path'] },
    { name: 'sum2', layer: { type: 'add' }, inputs: ['sum', 'dense_a'] },
    { name: 'logits', layer: { type: 'dense', units: 5, activation: 'linear' }, inputs: ['sum2'] },
  ],
});

const cases: [string, () => ModelSpec][] = [
  ['lenet5 28×28×1', () => buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 })],
  ['lenet5 with batch norm 32×32×3', () => buildPreset('lenet5', { inputShape: [32, 32, 3], numClasses: 10, batchNormalization: true })],
  ['resnet20 32×32×3', () => buildPreset('resnet20', { inputShape: [32, 32, 3], numClasses: 10 })],
  ['inception 32×32×3', () => buildPreset('inception', { inputShape: [32, 32, 3], numClasses: 10 })],
  ['mobilenet 32×32×3', () => buildPreset('mobilenet', { inputShape: [32, 32, 3], numClasses: 10 })],
  ['every other layer kind 15×15×3', () => mixed],
];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.skipIf(!python)('bench/torch_graph.py builds our graphs in PyTorch', () => {
  it.each(cases)('%s: same logits as our model (≤ 1e-4 of the largest), same parameter count', (_label, make) => {
    const spec = make();
    const model = buildModel(spec, 3);
    const rng = new Rng(11);
    const weights: Record<string, { shape: number[]; data: string }[]> = {};
    for (const layer of model.layers) {
      let ws = layer.getWeights();
      if (ws.length === 0) continue;
      if (layer.getClassName() === 'BatchNormalization') {
        // γ, β, moving mean, moving variance: away from 1, 0, 0, 1 so a mix-up shows.
        const c = ws[0].shape[0];
        const draw = (f: () => number): tf.Tensor => tf.tensor1d(Float32Array.from({ length: c }, f));
        ws = [draw(() => 0.5 + rng.next()), draw(() => rng.next() - 0.5), draw(() => rng.next() - 0.5), draw(() => 0.5 + rng.next())];
        layer.setWeights(ws);
      }
      weights[layer.name] = ws.map((t) => ({ shape: t.shape, data: toB64(t.dataSync() as Float32Array) }));
    }
    const [h, w, c] = spec.inputShape;
    const n = 3;
    const x = Float32Array.from({ length: n * h * w * c }, () => rng.next());
    const ours = tf.tidy(() => (model.apply(tf.tensor4d(x, [n, h, w, c]), { training: false }) as tf.Tensor).dataSync() as Float32Array);
    model.dispose();
    const g = toGraph(spec);
    const req = { graph: { inputShape: g.inputShape, numClasses: g.numClasses, nodes: g.nodes.map((d) => ({ name: d.name, layer: d.layer, inputs: d.inputs })), output: g.output }, weights, x: toB64(x), n };
    const r = spawnSync(python!, [join(root, 'bench', 'torch_graph.py'), 'forward'], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } });
    expect(r.status, r.stderr).toBe(0);
    const reply = JSON.parse(r.stdout) as { logits: string; params: number };
    const theirs = f32FromB64(reply.logits);
    expect(theirs.length).toBe(ours.length);
    const scale = Math.max(...Array.from(theirs, Math.abs));
    const err = Math.max(...Array.from(ours, (v, i) => Math.abs(v - theirs[i])));
    expect(err / scale).toBeLessThan(1e-4);
    expect(reply.params).toBe(modelTotals(describeModel(spec)).params);
  }, 60_000);
});
