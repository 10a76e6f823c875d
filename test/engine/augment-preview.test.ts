/**
 * The augmentation preview shows what training trains on: its images and labels equal the
 * first batch a real training run (train(), cpu backend) feeds its first step — captured with
 * train's observer — with flip, translation, noise and random labels on; fewer images are
 * that batch's first ones; without augmentation the images are the stored pixels.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { augmentPreview } from '../../src/engine/augment-preview';
import { initBackend } from '../../src/engine/backend';
import { readPack } from '../../src/engine/pack-reader';
import { train } from '../../src/engine/train';
import { buildPreset, parseRunSpec, type RunSpec } from '../../src/shared/spec';
import { writeSyntheticPack } from './helpers/pack';

let dir = '';
let pack = '';
beforeAll(async () => {
  await initBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'lw-aug-preview-'));
  pack = writeSyntheticPack(join(dir, 'pack'), { count: 120 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const specOf = (augmentation: RunSpec['training']['augmentation'], randomLabels: boolean): RunSpec =>
  parseRunSpec({
    datasetId: 1,
    seed: 21,
    backend: 'cpu',
    model: buildPreset('linear', { inputShape: [28, 28, 1], numClasses: 10 }),
    training: { optimizer: { type: 'sgd', learningRate: 0.01 }, batchSize: 8, epochs: 1, maxTrainSamples: 8, augmentation, randomLabels },
  });

/** The first step's batch as train() sees it, as uint8 (input·255, rounded, clipped) and class names. */
async function trainedBatch(spec: RunSpec): Promise<{ pixels: number[][]; labels: string[] }> {
  let got: { pixels: number[][]; labels: string[] } | null = null;
  const names = readPack(pack).meta.classNames;
  await train({ type: 'train', runId: 1, spec, packDir: pack, outDir: join(dir, `out-${Math.random()}`) }, () => undefined, undefined, {
    onBatch(x, labels, epoch, step) {
      if (epoch !== 0 || step !== 0) return;
      const size = x.length / labels.length;
      got = {
        pixels: Array.from(labels, (_, b) => Array.from(x.subarray(b * size, (b + 1) * size), (v) => Math.max(0, Math.min(255, Math.round(v * 255))))),
        labels: Array.from(labels, (y) => names[y]),
      };
    },
  });
  return got!;
}
const previewed = (spec: RunSpec, count: number) => {
  const p = augmentPreview(spec, pack, count);
  return { pixels: p.images.map((i) => Array.from(Buffer.from(i.pixelsBase64, 'base64'))), labels: p.images.map((i) => i.label), meta: p };
};

describe('augmentPreview', () => {
  it('equals the first training batch: flip, translation, noise, random labels', { timeout: 60_000 }, async () => {
    const spec = specOf({ horizontalFlip: true, randomTranslation: 0.2, gaussianNoise: 0.1 }, true);
    const batch = await trainedBatch(spec);
    const p = previewed(spec, 8);
    expect(p.meta).toMatchObject({ height: 28, width: 28, channels: 1 });
    expect(p.pixels).toEqual(batch.pixels);
    expect(p.labels).toEqual(batch.labels);
    // Fewer images: the batch's first ones; more than a batch: one batch.
    expect(previewed(spec, 3).pixels).toEqual(batch.pixels.slice(0, 3));
    expect(previewed(spec, 40).pixels).toHaveLength(8);
  });

  it('without augmentation shows the stored pixels of the shuffled items', async () => {
    const spec = specOf({ horizontalFlip: false, randomTranslation: 0, gaussianNoise: 0 }, false);
    const p = augmentPreview(spec, pack, 4);
    const raw = readPack(pack);
    const size = 28 * 28;
    for (const img of p.images) expect(Array.from(Buffer.from(img.pixelsBase64, 'base64'))).toEqual(Array.from(raw.pixels.subarray(img.packIndex * size, (img.packIndex + 1) * size)));
    expect(p.images.map((i) => i.label)).toEqual(p.images.map((i) => raw.meta.classNames[raw.labels[i.packIndex]]));
  });
});
