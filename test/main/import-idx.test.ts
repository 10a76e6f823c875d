import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DatasetService } from '../../src/main/services/datasets';
import { sharedData, tempDatasetService } from '../helpers';

const mnist = sharedData('mnist-test-idx');
const OFFICIAL = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

describe.skipIf(!mnist)('IDX import: MNIST test set', () => {
  let svc: DatasetService;
  let close: () => Promise<void>;
  beforeAll(() => {
    ({ svc, close } = tempDatasetService());
  });
  afterAll(async () => {
    await close();
  });

  it('imports 10,000 digits with the official class counts, exact pixels, and packs them', async () => {
    const t0 = performance.now();
    const job = await svc.waitForImport((await svc.startImport({ path: mnist! })).jobId);
    const secs = (performance.now() - t0) / 1000;
    console.log(`MNIST test IDX import: 10,000 images in ${secs.toFixed(1)} s`);
    expect(job.status).toBe('done');
    expect(job.imported).toBe(10_000);
    expect(job.duplicates).toBe(0);
    const d = svc.get(job.datasetId!);
    expect(d.classes.map((c) => c.name)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(d.classes.map((c) => c.counts.total)).toEqual(OFFICIAL);
    expect(d.typicalShape).toEqual([28, 28, 1]);
    // t10k alone brings no train split, so the new dataset gets a seeded stratified 80/10/10 split
    expect(d.split.mode).toBe('random');
    expect(d.counts.train + d.counts.val + d.counts.test).toBe(10_000);
    expect(Math.abs(d.counts.train - 8000)).toBeLessThanOrEqual(10);
    expect(Math.abs(d.counts.test - 1000)).toBeLessThanOrEqual(10);

    // item #0 holds the IDX pixels exactly (a 7)
    const raw = gunzipSync(readFileSync(join(mnist!, 't10k-images-idx3-ubyte.gz')));
    const sevens = svc.items({ datasetId: d.id, offset: 0, limit: 5000, classId: d.classes[7].id }).items;
    const first = sevens.find((it) => it.name === 't10k-images-idx3-ubyte.gz#0')!;
    expect(first).toBeDefined();
    expect(first.classId).toBe(d.classes[7].id);
    const px = await sharp(svc.imageFile(first.hash, 'full')!).toColourspace('b-w').raw().toBuffer();
    expect(Buffer.compare(px, raw.subarray(16, 16 + 784))).toBe(0);

    // random split, then pack at 28×28×1 (fast path) and check one image's pixels
    svc.setSplit(d.id, { mode: 'random', train: 80, val: 10, test: 10, valFromTrain: 10, seed: 7 });
    const t1 = performance.now();
    const p = await svc.prepareTraining(d.id, [28, 28, 1]);
    console.log(`MNIST pack 28×28×1: ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    expect(p.meta.count).toBe(10_000);
    // stratified per class: totals within one item per class of 80/10/10
    expect(Math.abs(p.meta.counts.train - 8000)).toBeLessThanOrEqual(10);
    expect(Math.abs(p.meta.counts.val - 1000)).toBeLessThanOrEqual(10);
    const pixels = readFileSync(join(p.packDir, 'pixels.u8'));
    expect(pixels.length).toBe(10_000 * 784);
    const manifestOrder = JSON.parse(readFileSync(svc.imageFile(p.versionHash, 'full')!, 'utf8')).items as [string, number, string][];
    const at = manifestOrder.findIndex(([h]) => h === first.hash);
    expect(Buffer.compare(pixels.subarray(at * 784, (at + 1) * 784), raw.subarray(16, 16 + 784))).toBe(0);
    const labels = readFileSync(join(p.packDir, 'labels.i32'));
    expect(labels.readInt32LE(at * 4)).toBe(7);
  });
});
