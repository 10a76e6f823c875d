/**
 * Export (issue 13): a trained model written as ONNX (src/engine/export/onnx.ts) and run by
 * ONNX Runtime (onnxruntime-node, CPU) gives the app's logits; the same images read and
 * preprocessed by a separate script that follows only signature.json
 * (test/scripts/signature-preprocess.mjs: no Layerwise code) get the app's top-1 class;
 * the TF.js export re-loads (readCheckpoint) to the same logits, and a new run's spec made
 * from it (services/pretrained.ts on model.json, the reader src/shared/models/tfjs; the head
 * cut at the global pooling node, or before LeNet-5's and the CNN's final dense) starts with
 * the same logits.
 *
 * Models: LeNet-5, an M2-type CNN with batch normalization (conv-BN-relu ×2 + pool, dense),
 * ResNet-20 — weights as built from a seed (the CNN's batch-norm moving statistics, γ and β
 * set to seeded random values so that BN counts), then a few Adam steps, ResNet-20's
 * moving statistics those of the last step's batch —, on 100 CIFAR-10 test PNGs; and MobileNet v1
 * 0.25/128 from the shared TFLite file with a 2-class fine-tune head (inputs in [−1, 1],
 * depthwise convolutions, relu6, zero padding; frozen "like ImageNet", head from the file's
 * ant / bee columns), 3 Adam steps, on 100 hymenoptera val JPEGs (resized by 'cover').
 * The app's side: main's decode of a new image (services/pack.ts pixelsOfFile: the importer's decoder, the pack's resize) and the engine's preprocess,
 * then the tfjs model in inference mode.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/engine/backend';
import { readCheckpoint } from '../../src/engine/checkpoint';
import { exportModel } from '../../src/engine/export';
import { buildModel, crossEntropyFromLogits } from '../../src/engine/model';
import { loadPretrained } from '../../src/engine/pretrained';
import { preprocess } from '../../src/engine/preprocess';
import { pixelsOfFile } from '../../src/main/services/pack';
import { pretrainedRunSpec } from '../../src/main/services/pretrained';
import { SignatureSchema } from '../../src/shared/export';
import { readTflite } from '../../src/shared/models/tflite';
import { fineTuneSpec, freezePoint, matchClasses } from '../../src/shared/pretrained';
import { buildPreset, parseRunSpec, type ModelSpec, type RunSpec } from '../../src/shared/spec';
import { GraphBuilder } from '../../src/shared/graph-builder';
import { REPO_ROOT, sharedData } from '../helpers';

const cifar = sharedData('cifar10-subset');
const hymen = sharedData('hymenoptera');
const tflite = sharedData('mobilenet-tflite');
const dir = mkdtempSync(join(tmpdir(), 'lw-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend('cpu');
});

/** The first `n` files of each class folder under `root`, round robin, `total` in all. */
function imageFiles(root: string, total: number): string[] {
  const classes = readdirSync(root).sort();
  const lists = classes.map((c) => readdirSync(join(root, c)).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort().map((f) => join(root, c, f)));
  const out: string[] = [];
  for (let i = 0; out.length < total; i++) for (const l of lists) if (out.length < total && i < l.length) out.push(l[i]);
  return out;
}

/** Seeded values in [lo, hi). */
function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

/** Every BatchNormalization layer's γ, β, moving mean and variance set to seeded random values. */
function randomizeBatchNorm(model: tfl.LayersModel): number {
  let k = 0;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const c = layer.getWeights()[0].shape[0];
    const ws = [uniform(c, ++k, 0.5, 1.5), uniform(c, ++k, -0.2, 0.2), uniform(c, ++k, -0.3, 0.3), uniform(c, ++k, 0.5, 2)].map((v) => tf.tensor1d(v));
    layer.setWeights(ws);
    tf.dispose(ws);
  }
  return k / 4;
}

/** An M2-type CNN: two conv-BN-relu stages with max pooling, dense head. */
function m2Cnn(numClasses: number): ModelSpec {
  const g = new GraphBuilder();
  for (const [i, filters] of [32, 64].entries()) {
    g.add({ type: 'conv2d', filters, kernelSize: 3, padding: 'same', activation: 'linear', useBias: false }, { name: `conv${i}` });
    g.add({ type: 'batchNormalization' }, { name: `bn${i}` });
    g.add({ type: 'activation', activation: 'relu' }, { name: `relu${i}` });
    g.add({ type: 'maxPooling2d', poolSize: 2 }, { name: `pool${i}` });
  }
  g.add({ type: 'flatten' }, { name: 'flatten' });
  g.add({ type: 'dense', units: 64, activation: 'relu' }, { name: 'fc' });
  g.add({ type: 'dense', units: numClasses }, { name: 'logits' });
  return g.spec('custom', { inputShape: [32, 32, 3], numClasses });
}

/** The app's side: each file decoded as runs.classify decodes it (pack.ts pixelsOfFile), preprocessed as training does, through the tfjs model. */
async function appLogits(model: tfl.LayersModel, spec: RunSpec, files: string[], trainSteps: number): Promise<{ x: Float32Array; logits: Float32Array }> {
  const [h, w, c] = spec.model.inputShape;
  const x = new Float32Array(files.length * h * w * c);
  for (const [i, f] of files.entries()) x.set(preprocess(await pixelsOfFile(readFileSync(f), f, h, w, c as 1 | 3), spec.pretrained?.inputRange ?? 'unit'), i * h * w * c);
  const xs = tf.tensor4d(x, [files.length, h, w, c]);
  if (trainSteps > 0) {
    // A tiny training on these images' folder labels (Adam 1e-3, BN in training mode): a model that tells images apart.
    const classes = [...new Set(files.map((f) => dirname(f)))].sort();
    const ys = tf.tensor1d(files.map((f) => classes.indexOf(dirname(f))), 'int32');
    const opt = tf.train.adam(1e-3);
    for (let s = 0; s < trainSteps; s++) opt.minimize(() => crossEntropyFromLogits(model.apply(xs, { training: true }) as tf.Tensor2D, ys));
    opt.dispose();
    ys.dispose();
  }
  const y = tf.tidy(() => model.predict(xs) as tf.Tensor);
  const logits = Float32Array.from(await y.data());
  tf.dispose([y, xs]);
  return { x, logits };
}

async function ortLogits(file: string, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file);
  const r = await session.run({ input: new ort.Tensor('float32', x, shape) });
  return Float32Array.from(r.logits.data as Float32Array);
}

const argmaxRows = (v: Float32Array, k: number): number[] => Array.from({ length: v.length / k }, (_, i) => {
  let best = 0;
  for (let j = 1; j < k; j++) if (v[i * k + j] > v[i * k + best]) best = j;
  return best;
});
/** max |a − b| / max |b|. */
function relError(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

interface Case {
  name: string;
  /** Adam steps on the 100 images before the export (0: as built or loaded). */
  trainSteps: number;
  make: () => Promise<{ spec: RunSpec; model: tfl.LayersModel; files: string[] }>;
}
const cifarSpec = (model: ModelSpec): RunSpec => parseRunSpec({ datasetId: 1, model, training: { optimizer: { type: 'adam', learningRate: 0.001 } } });
const CASES: Case[] = [
  { name: 'LeNet-5', trainSteps: 10, make: async () => ({ spec: cifarSpec(buildPreset('lenet5', { inputShape: [32, 32, 3], numClasses: 10 })), model: buildModel(buildPreset('lenet5', { inputShape: [32, 32, 3], numClasses: 10 }), 3), files: imageFiles(join(cifar!, 'test'), 100) }) },
  {
    name: 'M2-type CNN with batch normalization',
    trainSteps: 5,
    make: async () => {
      const spec = cifarSpec(m2Cnn(10));
      const model = buildModel(spec.model, 5);
      expect(randomizeBatchNorm(model)).toBe(2);
      return { spec, model, files: imageFiles(join(cifar!, 'test'), 100) };
    },
  },
  {
    name: 'ResNet-20',
    trainSteps: 12,
    make: async () => {
      const spec = cifarSpec(buildPreset('resnet20', { inputShape: [32, 32, 3], numClasses: 10 }));
      const model = buildModel(spec.model, 7);
      // Moving statistics = the last training batch's (momentum 0): after a few steps at 0.99 they would still be
      // the initial 0 / 1, and the untrained-statistics network answers one class for every image.
      for (const layer of model.layers) if (layer.getClassName() === 'BatchNormalization') (layer as unknown as { momentum: number }).momentum = 0;
      return { spec, model, files: imageFiles(join(cifar!, 'test'), 100) };
    },
  },
  {
    name: 'MobileNet v1 0.25/128 fine-tune',
    trainSteps: 3,
    make: async () => {
      const file = join(tflite!, 'mobilenet_v1_0.25_128_quant.tflite');
      const imported = readTflite(new Uint8Array(readFileSync(file)), file);
      const { spec: model, featureNode } = fineTuneSpec(imported.spec, 2);
      // As the New-run page sets it up: frozen by the "like ImageNet" rule, the head from the file's ant / bee columns.
      const labels = readFileSync(join(tflite!, 'imagenet_labels.txt'), 'utf8').split('\n');
      const pretrained = { format: 'tflite', file, backbone: 'mobilenet_v1_0.25_128', inputRange: 'symmetric', freezeUpTo: freezePoint(model, featureNode, 'likeImagenet'), featureNode, foldedBatchNorm: true, headInit: matchClasses(['ants', 'bees'], labels) };
      const spec = parseRunSpec({ datasetId: 1, model, training: { optimizer: { type: 'adam', learningRate: 0.001 } }, pretrained });
      const built = buildModel(spec.model, 11);
      expect((await loadPretrained(built, spec)).set).toBeGreaterThan(50);
      return { spec, model: built, files: imageFiles(join(hymen!, 'val'), 100) };
    },
  },
];

describe.skipIf(!cifar || !hymen || !tflite)('export to ONNX and TF.js', () => {
  for (const c of CASES) {
    it(`${c.name}: ONNX Runtime's logits within 1e-4 of the app's; top-1 identical from signature.json alone; TF.js re-loads`, async () => {
      const { spec, model, files } = await c.make();
      const [h, w, ch] = spec.model.inputShape;
      const k = spec.model.numClasses;
      const meta = { runId: 1, epoch: 0, classNames: Array.from({ length: k }, (_, i) => `class ${i}`) };
      const out = join(dir, c.name.replace(/\W+/g, '-'));
      const app = await appLogits(model, spec, files, c.trainSteps);
      const onnx = await exportModel(model, spec, 'onnx', join(out, 'onnx'), meta);
      expect(onnx.files).toEqual(['model.onnx', 'signature.json']);
      const sig = SignatureSchema.parse(JSON.parse(readFileSync(join(out, 'onnx', 'signature.json'), 'utf8')));
      expect(sig.input.shape).toEqual([null, h, w, ch]);

      const fromOrt = await ortLogits(join(out, 'onnx', 'model.onnx'), app.x, [files.length, h, w, ch]);
      const rel = relError(fromOrt, app.logits);
      console.log(`${c.name}: ONNX vs app logits, max relative error ${rel.toExponential(2)} over ${files.length} images`);
      expect(rel).toBeLessThan(1e-4);
      // Not a constant classifier: the check would be empty.
      expect(new Set(argmaxRows(app.logits, k)).size).toBeGreaterThan(1);

      // A stranger's preprocessing, from signature.json only.
      const f32 = join(out, 'inputs.f32');
      execFileSync(process.execPath, [join(REPO_ROOT, 'test/scripts/signature-preprocess.mjs'), join(out, 'onnx', 'signature.json'), f32, ...files], { stdio: 'inherit' });
      const b = readFileSync(f32);
      const theirs = await ortLogits(join(out, 'onnx', 'model.onnx'), new Float32Array(b.buffer, b.byteOffset, b.length / 4), [files.length, h, w, ch]);
      const agree = argmaxRows(theirs, k).filter((y, i) => y === argmaxRows(app.logits, k)[i]).length;
      console.log(`${c.name}: top-1 from signature.json + ONNX Runtime equals the app's on ${agree}/${files.length}`);
      expect(agree).toBe(files.length);

      // TF.js layers format: re-loaded, the same logits.
      const tfjs = await exportModel(model, spec, 'tfjs', join(out, 'tfjs'), meta);
      expect(tfjs.files).toEqual(['model.json', 'weights.bin', 'signature.json']);
      const again = await readCheckpoint(join(out, 'tfjs'));
      const y = tf.tidy(() => again.predict(tf.tensor4d(app.x, [files.length, h, w, ch])) as tf.Tensor);
      expect(relError(Float32Array.from(await y.data()), app.logits)).toBeLessThan(1e-6);
      y.dispose();
      again.dispose();

      // Round trip: a new run's spec from the export (the New-run page's Pre-trained choice / layerwise spec
      // --pretrained on model.json), on the same classes: its model starts with the exported logits.
      {
        const next = pretrainedRunSpec(join(out, 'tfjs', 'model.json'), { classNames: meta.classNames, freeze: 'features' }); // the whole backbone frozen: LeNet-5's two convs are both 'top' under likeImagenet
        expect(next.pretrained.format).toBe('tfjs');
        expect(next.pretrained.headInit).toEqual(meta.classNames.map((_, i) => i));
        expect(next.pretrained.inputRange).toBe(spec.pretrained?.inputRange ?? 'unit');
        const nextSpec = parseRunSpec({ datasetId: 1, model: next.model, training: { optimizer: { type: 'adam', learningRate: 0.001 } }, pretrained: next.pretrained });
        const started = buildModel(nextSpec.model, 99);
        const seeded = tf.tidy(() => Float32Array.from((started.predict(tf.tensor4d(app.x, [files.length, h, w, ch])) as tf.Tensor).dataSync()));
        expect(relError(seeded, app.logits)).toBeGreaterThan(1e-2); // from the seed alone: other logits
        const loaded = await loadPretrained(started, nextSpec);
        expect(loaded.frozen.length).toBeGreaterThan(0);
        const z = tf.tidy(() => started.predict(tf.tensor4d(app.x, [files.length, h, w, ch])) as tf.Tensor);
        const rel2 = relError(Float32Array.from(await z.data()), app.logits);
        console.log(`${c.name}: a run started from the TF.js export: logits within ${rel2.toExponential(2)} relative of the exported model's`);
        expect(rel2).toBeLessThan(1e-5);
        z.dispose();
        started.dispose();
      }
      writeFileSync(join(out, 'done'), '');
    }, 300_000);
  }
});

describe('ONNX export of every preset', () => {
  // Each preset at 32×32×3 (linear and MLP included), seeded weights, BN statistics random, 8 random images:
  // Concatenate (inception), average pooling, 'same' padding at stride 2 (TF's odd pixel after), depthwise.
  const presets = ['linear', 'mlp', 'lenet5', 'alexnet', 'vgg11', 'inception', 'resnet20', 'mobilenet'] as const;
  for (const name of presets) {
    it(`${name}: ONNX Runtime's logits within 1e-4 relative of tfjs'`, async () => {
      const model = buildPreset(name, { inputShape: [32, 32, 3], numClasses: 10, batchNormalization: true });
      const spec = cifarSpec(model);
      const built = buildModel(model, 13);
      randomizeBatchNorm(built);
      const x = uniform(8 * 32 * 32 * 3, 17, 0, 1);
      const y = tf.tidy(() => built.predict(tf.tensor4d(x, [8, 32, 32, 3])) as tf.Tensor);
      const want = Float32Array.from(await y.data());
      y.dispose();
      const out = join(dir, `preset-${name}`);
      await exportModel(built, spec, 'onnx', out, { runId: 1, epoch: 0, classNames: Array.from({ length: 10 }, (_, i) => `c${i}`) });
      const got = await ortLogits(join(out, 'model.onnx'), x, [8, 32, 32, 3]);
      const rel = relError(got, want);
      console.log(`preset ${name}: max relative error ${rel.toExponential(2)}, max |logit| ${Math.max(...want.map(Math.abs)).toExponential(2)}`);
      expect(rel).toBeLessThan(1e-4);
      built.dispose();
    }, 120_000);
  }
});
