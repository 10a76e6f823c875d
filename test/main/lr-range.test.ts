/**
 * runs.lrRange and runs.augmentPreview through the API with real engine processes on a real
 * image folder: the loss-by-rate points and a suggestion, the first training images as PNGs of
 * the engine's pixels; nothing is stored; bad params and specs are refused naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/main/services/app';
import sharp from 'sharp';
import type { AugmentPreview } from '../../src/shared/augment-preview';
import type { LrRangeResult } from '../../src/shared/lr-range';
import { buildPreset, type RunSpecInput } from '../../src/shared/spec';
import { tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { cifar, tinyCifarFolder } from './runs-helpers';

describe.skipIf(!cifar)('runs.lrRange (real engine)', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  let app: App;
  let spec: RunSpecInput;
  beforeAll(async () => {
    dir = tempDataDir();
    input = tempDir();
    tinyCifarFolder(input.path, ['airplane', 'cat'], 20);
    app = createApp({ dataDir: dir.root, api: { validateResults: true } });
    const { jobId } = (await app.handle('datasets.import', { path: input.path, name: 'tiny' })) as { jobId: number };
    const datasetId = (await app.datasets.waitForImport(jobId)).datasetId!;
    spec = { datasetId, model: buildPreset('linear', { inputShape: [32, 32, 3], numClasses: 2 }), training: { optimizer: { type: 'sgd', learningRate: 0.01 }, batchSize: 4 }, seed: 1, backend: 'auto' };
  }, 120_000);
  afterAll(async () => {
    await app?.shutdown(2000);
    input?.cleanup();
    dir?.cleanup();
  });

  it('answers with the points and a suggestion, storing nothing', { timeout: 120_000 }, async () => {
    const r = (await app.handle('runs.lrRange', { spec, params: { minLearningRate: 1e-5, maxLearningRate: 10, steps: 30 } })) as LrRangeResult;
    expect(r.points.length).toBeGreaterThan(5);
    expect(r.points.length).toBeLessThanOrEqual(30);
    expect(r.points[0].learningRate).toBeCloseTo(1e-5, 12);
    expect(r.points.every((p, i) => i === 0 || p.learningRate > r.points[i - 1].learningRate)).toBe(true);
    expect(r.minLossLearningRate).toBeGreaterThan(1e-5);
    expect(app.runs.list()).toEqual([]);
  });

  it('runs.augmentPreview: the first training images with their labels, PNGs of the engine pixels', { timeout: 120_000 }, async () => {
    const aug = { ...spec, training: { ...spec.training, augmentation: { horizontalFlip: true, randomTranslation: 0.1, gaussianNoise: 0.05 } } };
    const p = (await app.handle('runs.augmentPreview', { spec: aug, count: 3 })) as AugmentPreview;
    expect(p).toMatchObject({ height: 32, width: 32, channels: 3 });
    expect(p.images).toHaveLength(3);
    for (const img of p.images) {
      expect(['airplane', 'cat']).toContain(img.label);
      const { data, info } = await sharp(Buffer.from(img.png!.replace(/^data:image\/png;base64,/, ''), 'base64')).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([32, 32, 3]);
      expect(data.equals(Buffer.from(img.pixelsBase64, 'base64'))).toBe(true);
    }
    expect(app.runs.list()).toEqual([]);
  });

  it('refuses bad params and specs naming the field', async () => {
    await expect(app.handle('runs.lrRange', { spec, params: { minLearningRate: 1, maxLearningRate: 0.1 } })).rejects.toMatchObject({ code: 'invalid_params', field: 'params.maxLearningRate' });
    await expect(app.handle('runs.lrRange', { spec: { ...spec, training: { ...spec.training, batchSize: 0 } } })).rejects.toMatchObject({ code: 'invalid_params', field: 'training.batchSize' });
  });
});
