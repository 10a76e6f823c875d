/**
 * Every deep preset built by the engine (src/engine/model.ts buildModel, tfjs functional
 * model) on the wasm backend with our kernels: the built model holds exactly the spec's
 * nodes (no implicit layers), its weights number what describeModel counts, its saved
 * topology (`model.toJSON`) has the spec's nodes and connections, and a few Adam steps on
 * one fixed batch lower the loss. Small inputs and widths so the file stays short.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { buildModel, crossEntropyFromLogits, setDropoutSeeds, trainableVariables } from '../../src/engine/model';
import { Rng } from '../../src/engine/random';
import { buildPreset, describeModel, modelTotals, type LayerType, type PresetName, type PresetOptions } from '../../src/shared/spec';

beforeAll(async () => {
  await initBackend('cpu'); // the app's CPU path: wasm + our kernels
});

/** tfjs-layers' class name of each layer type (what a Keras user sees in model.json). */
const CLASS_NAMES: Record<LayerType, string> = {
  conv2d: 'Conv2D',
  depthwiseConv2d: 'DepthwiseConv2D',
  maxPooling2d: 'MaxPooling2D',
  averagePooling2d: 'AveragePooling2D',
  globalAveragePooling2d: 'GlobalAveragePooling2D',
  globalMaxPooling2d: 'GlobalMaxPooling2D',
  zeroPadding2d: 'ZeroPadding2D',
  dense: 'Dense',
  flatten: 'Flatten',
  dropout: 'Dropout',
  batchNormalization: 'BatchNormalization',
  activation: 'Activation',
  add: 'Add',
  concatenate: 'Concatenate',
};

interface SavedLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, unknown][][];
}

const BATCH = 8;
const CLASSES = 4;
const base: Pick<PresetOptions, 'inputShape' | 'numClasses'> = { inputShape: [32, 32, 3], numClasses: CLASSES };
/**
 * Widths cut where an option allows. AlexNet, VGG-11 and Inception train here without their
 * dropout (rate 0: no dropout node): on one batch of 8 images, masks of rate 0.4–0.5 that change
 * every step move the loss more than 5 steps lower it. VGG-16 keeps its dropout, with batch norm.
 */
const cases: [Exclude<PresetName, 'custom' | 'linear' | 'mlp' | 'lenet5'>, Partial<PresetOptions>][] = [
  ['alexnet', { widthMultiplier: 0.125, dropoutRate: 0 }],
  ['vgg11', { widthMultiplier: 0.125, dropoutRate: 0 }],
  ['vgg16', { widthMultiplier: 0.125, batchNormalization: true }],
  ['inception', { widthMultiplier: 0.25, dropoutRate: 0 }],
  ['resnet20', { widthMultiplier: 0.5 }],
  ['resnet32', { widthMultiplier: 0.5 }],
  ['resnet56', { widthMultiplier: 0.25 }],
  ['mobilenet', { widthMultiplier: 0.25 }],
];

describe('deep presets in the engine (wasm backend)', () => {
  const rng = new Rng(11);
  const [h, w, c] = base.inputShape;
  const xs = Float32Array.from({ length: BATCH * h * w * c }, () => rng.next());

  for (const [name, extra] of cases) {
    it(`${name}: exactly the spec's nodes, tfjs' weight count = describeModel's, toJSON keeps names and connections, 5 Adam steps lower the loss`, () => {
      const spec = buildPreset(name, { ...base, ...extra });
      const nodes = spec.nodes!;
      const model = buildModel(spec, 7);
      try {
        // No implicit layers: 'input' plus one layer per node (tfjs orders them by depth, so compared as sets).
        const sorted = (names: string[]) => [...names].sort();
        expect(sorted(model.layers.map((l) => l.name))).toEqual(sorted(['input', ...nodes.map((n) => n.name)]));
        // Keras counting on both sides (batch norm's moving statistics included).
        expect(model.countParams()).toBe(modelTotals(describeModel(spec)).params);

        // The saved topology: same names, class per type, and the same inbound connections.
        const saved = (model.toJSON(null, false) as unknown as { config: { layers: SavedLayer[]; output_layers: [string, number, number][] } }).config;
        const byName = new Map(saved.layers.map((l) => [l.name, l]));
        expect(saved.layers).toHaveLength(nodes.length + 1);
        expect(byName.get('input')).toMatchObject({ class_name: 'InputLayer', inbound_nodes: [] });
        const layers = nodes.map((n) => byName.get(n.name)!);
        expect(layers.map((l) => l?.class_name)).toEqual(nodes.map((n) => CLASS_NAMES[n.layer.type]));
        expect(layers.map((l) => l.inbound_nodes[0].map((i) => i[0]))).toEqual(nodes.map((n) => n.inputs));
        expect(saved.output_layers[0][0]).toBe('logits');
        const conv = nodes.find((n) => n.layer.type === 'conv2d')!;
        const convCfg = layers.find((l) => l.name === conv.name)!.config;
        if (conv.layer.type === 'conv2d') expect(convCfg).toMatchObject({ filters: conv.layer.filters, kernel_size: [conv.layer.kernelSize, conv.layer.kernelSize], use_bias: conv.layer.useBias });

        // Training: the same batch, dropout masks of step 0 for both measurements.
        const x = tf.tensor4d(xs, [BATCH, h, w, c]);
        const y = tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % CLASSES), 'int32');
        const loss = (): number => {
          setDropoutSeeds(model, 1, 0);
          return tf.tidy(() => crossEntropyFromLogits(model.apply(x, { training: true }) as tf.Tensor2D, y).dataSync()[0]);
        };
        const before = loss();
        const optimizer = tf.train.adam(1e-3);
        const vars = trainableVariables(model);
        const tensorsBefore = tf.memory().numTensors;
        for (let step = 1; step <= 5; step++) {
          setDropoutSeeds(model, 1, step);
          tf.tidy(() => {
            optimizer.minimize(() => crossEntropyFromLogits(model.apply(x, { training: true }) as tf.Tensor2D, y), false, vars);
          });
        }
        const after = loss();
        console.log(`${name}: ${nodes.length} nodes, ${model.countParams()} parameters, loss ${before.toFixed(4)} → ${after.toFixed(4)} after 5 Adam steps`);
        expect(Number.isFinite(after)).toBe(true);
        expect(after).toBeLessThan(before);
        // The optimizer's slots are made at step 1; steps after it leak nothing.
        expect(tf.memory().numTensors).toBeLessThanOrEqual(tensorsBefore + 2 * vars.length + 2);
        optimizer.dispose();
        tf.dispose([x, y]);
      } finally {
        model.dispose();
      }
    }, 60_000);
  }
});
