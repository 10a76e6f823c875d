/**
 * Fine-tuning a pre-trained MobileNet (issue 13) through the engine's own training loop
 * (src/engine/train.ts `train`, as a run's engine process runs it): MobileNet v1 0.5/160 from
 * the shared TFLite file (src/shared/models/tflite), its ImageNet classifier replaced by a
 * 2-unit head (src/shared/pretrained.ts fineTuneSpec) started from the file's classifier
 * columns of the matching ImageNet classes ("ants" → "ant, emmet, pismire", "bees" → "bee":
 * matchClasses, RunSpec.pretrained.headInit — LP-FT's start), frozen by the "data like
 * ImageNet" rule (all but the last depthwise-separable block), inputs in [−1, 1], on the
 * hymenoptera photos packed as a run's pack is (fit cover, centre; 160 × 160). Adam 1e-4,
 * batch 16, 5 epochs, seed 7.
 *
 * What a user checks: validation accuracy ≥ 94 % within 5 epochs (the zero-shot ImageNet
 * read-out gets 145/153 = 94.8 % here, the README's reference 144), the frozen weights
 * exactly the file's after training, the trained ones changed.
 * Measured on the 2-core machine (06:40 UTC, others' tests running): val 95.4, 94.1, 94.1,
 * 94.1, 93.5 % per epoch, 6–12 s per epoch. The same run with a seeded head (no headInit)
 * stays at 88–91 %: 244 photos are too few to learn a 512-feature head from scratch.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/engine/backend';
import { readCheckpoint } from '../../src/engine/checkpoint';
import { train } from '../../src/engine/train';
import { EngineToMainSchema, type EngineToMain } from '../../src/shared/engine-protocol';
import { readTflite } from '../../src/shared/models/tflite';
import { fineTuneSpec, freezePoint, frozenNodes, matchClasses } from '../../src/shared/pretrained';
import { parseRunSpec } from '../../src/shared/spec';
import { sharedData } from '../helpers';
import { pixelsOf } from './helpers/images';
import { writePack } from './helpers/pack';

const modelDir = sharedData('mobilenet-tflite');
const hymen = sharedData('hymenoptera');
const FILE = 'mobilenet_v1_0.5_160_quant.tflite';
const SIZE = 160;
const dir = mkdtempSync(join(tmpdir(), 'lw-finetune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await initBackend('cpu');
});

/** The hymenoptera JPEGs (the GIF placeholder left out, as an import skips it) as a pack: train → split 0, val → 1; ants 0, bees 1. */
async function hymenopteraPack(): Promise<string> {
  const pixels: Uint8Array[] = [];
  const labels: number[] = [];
  const splits: number[] = [];
  for (const [split, code] of [['train', 0], ['val', 1]] as const) {
    for (const [cls, y] of [['ants', 0], ['bees', 1]] as const) {
      const folder = join(hymen!, split, cls);
      for (const f of readdirSync(folder).sort().filter((f) => /\.jpe?g$/i.test(f))) {
        pixels.push(await pixelsOf(join(folder, f), SIZE));
        labels.push(y);
        splits.push(code);
      }
    }
  }
  const all = new Uint8Array(pixels.length * SIZE * SIZE * 3);
  pixels.forEach((p, i) => all.set(p, i * p.length));
  return writePack(join(dir, 'pack'), { height: SIZE, width: SIZE, channels: 3, numClasses: 2, pixels: all, labels: Int32Array.from(labels), splits: Uint8Array.from(splits) });
}

describe.skipIf(!modelDir || !hymen)('fine-tune MobileNet v1 0.5/160 on hymenoptera', () => {
  it('reaches ≥ 94 % validation accuracy within 5 epochs; frozen weights stay the file\'s, trained ones change', async () => {
    const file = join(modelDir!, FILE);
    const bytes = readFileSync(file);
    const imported = readTflite(new Uint8Array(bytes), file);
    const { spec: model, featureNode } = fineTuneSpec(imported.spec, 2);
    const freezeUpTo = freezePoint(model, featureNode, 'likeImagenet');
    const labels = readFileSync(join(modelDir!, 'imagenet_labels.txt'), 'utf8').split('\n');
    const headInit = matchClasses(['ants', 'bees'], labels);
    expect(headInit.map((i) => labels[i!])).toEqual(['ant, emmet, pismire', 'bee']);
    const spec = parseRunSpec({
      datasetId: 1,
      seed: 7,
      backend: 'cpu',
      model,
      training: { optimizer: { type: 'adam', learningRate: 1e-4 }, batchSize: 16, epochs: 5 },
      pretrained: { format: 'tflite', file, sha256: createHash('sha256').update(bytes).digest('hex'), backbone: 'mobilenet_v1_0.5_160_quant', inputRange: imported.inputRange, freezeUpTo, featureNode, foldedBatchNorm: imported.foldedBatchNorm, headInit: headInit as number[] },
    });
    const frozen = frozenNodes(model, freezeUpTo);
    // "Like ImageNet": conv 0 and blocks 1–12 frozen; block 13 (depthwise + pointwise) and the head train.
    expect(freezeUpTo).toBe('MobilenetV1/Conv2d_12_pointwise');
    expect(frozen).toContain('MobilenetV1/Conv2d_0');
    expect(frozen).not.toContain('MobilenetV1/Conv2d_13_depthwise');

    const packDir = await hymenopteraPack();
    const msgs: EngineToMain[] = [];
    const outDir = join(dir, 'out');
    const started = performance.now();
    await train({ type: 'train', runId: 1, spec, packDir, outDir }, (m) => msgs.push(EngineToMainSchema.parse(m)));
    const wall = (performance.now() - started) / 1000;
    const metrics = msgs.filter((m) => m.type === 'metrics');
    const failed = msgs.find((m) => m.type === 'failed');
    expect(failed).toBeUndefined();
    expect(metrics.length).toBe(5);
    const line = metrics.map((m) => `epoch ${m.epoch + 1}: train ${(100 * m.trainAccuracy).toFixed(1)} %, val ${(100 * m.valAccuracy!).toFixed(1)} % (${m.seconds.toFixed(1)} s)`).join('; ');
    console.log(`[fine-tune] MobileNet v1 0.5/160, hymenoptera 244 train / 153 val, freeze up to ${freezeUpTo}: ${line}; wall ${wall.toFixed(0)} s`);
    const bestVal = Math.max(...metrics.map((m) => m.valAccuracy!));
    expect(bestVal).toBeGreaterThanOrEqual(0.94);

    // Weights after training (the last epoch's checkpoint) against the file's.
    const trained = await readCheckpoint(join(outDir, 'epoch-4'));
    const fileWeights = new Map(imported.weights.map((w) => [w.node, w.weights]));
    const maxDiff = (node: string): number => {
      const now = trained.getLayer(node).getWeights();
      const was = fileWeights.get(node)!;
      let d = 0;
      now.forEach((t, k) => {
        const v = t.dataSync();
        for (let i = 0; i < v.length; i++) d = Math.max(d, Math.abs(v[i] - was[k].values[i]));
      });
      return d;
    };
    for (const node of ['MobilenetV1/Conv2d_0', 'MobilenetV1/Conv2d_6_depthwise', 'MobilenetV1/Conv2d_12_pointwise']) expect(maxDiff(node), node).toBe(0);
    for (const node of ['MobilenetV1/Conv2d_13_depthwise', 'MobilenetV1/Conv2d_13_pointwise']) expect(maxDiff(node), node).toBeGreaterThan(1e-4);
    // The head moved away from the file's ant / bee classifier columns it started from.
    const head = trained.getLayer('logits').getWeights()[0].dataSync();
    const classifier = fileWeights.get(imported.spec.output!)![0];
    let headDiff = 0;
    for (let f = 0; f < 512; f++) headDiff = Math.max(headDiff, Math.abs(head[f * 2] - classifier.values[f * 1001 + 311]), Math.abs(head[f * 2 + 1] - classifier.values[f * 1001 + 310]));
    expect(headDiff).toBeGreaterThan(1e-4);
    trained.dispose();
  }, 900_000);
});
