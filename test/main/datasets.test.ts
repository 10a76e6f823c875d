import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SplitConfig } from '../../src/shared/api';
import { DatasetService } from '../../src/main/services/datasets';
import { apportion, computeSplits } from '../../src/main/services/datasets-split';
import { decodeBmp } from '../../src/main/images/bmp';
import { sharedData, tempDataDir, type TempDataDir, tempDatasetService } from '../helpers';

const cifar = sharedData('cifar10-subset');
const hymen = sharedData('hymenoptera');
const mobilenet = sharedData('mobilenet-tflite');
const CIFAR_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

describe.skipIf(!cifar)('DatasetService on CIFAR-10 subset', () => {
  let dir: TempDataDir;
  let svc: DatasetService;
  let close: () => Promise<void>;
  let datasetId: number;
  beforeAll(async () => {
    ({ dir, svc, close } = tempDatasetService());
    const t0 = performance.now();
    const job = await svc.waitForImport((await svc.startImport({ path: cifar!, name: 'cifar' })).jobId);
    console.log(`CIFAR-10 subset import: 5,000 PNGs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(job.status).toBe('done');
    datasetId = job.datasetId!;
  });
  afterAll(async () => {
    await close();
  });

  it('imports 5,000 images in 10 classes, 4,000 train + 1,000 test', () => {
    const d = svc.get(datasetId);
    expect(d.name).toBe('cifar');
    expect(d.itemCount).toBe(5000);
    expect(d.imports[0].duplicates).toBe(0);
    expect(d.classes.map((c) => c.name).sort()).toEqual([...CIFAR_CLASSES].sort());
    expect(d.typicalShape).toEqual([32, 32, 3]);
    // given splits, no val in the source: valFromTrain 10 % of train per class goes to val
    expect(d.split).toEqual({ mode: 'given', train: 80, val: 10, test: 10, valFromTrain: 10, seed: 42 });
    expect(d.counts.test).toBe(1000);
    expect(d.counts.train + d.counts.val).toBe(4000);
    for (const c of d.classes) {
      const train = c.counts.train + c.counts.val;
      expect(Math.abs(c.counts.val - train * 0.1)).toBeLessThanOrEqual(1);
    }
    const labelEvents = (dir.openDb().prepare("SELECT COUNT(*) AS n FROM label_events WHERE source = 'import'").get() as { n: number }).n;
    expect(labelEvents).toBe(d.itemCount);
  });

  it('keeps the given splits exactly with valFromTrain 0', () => {
    const d = svc.setSplit(datasetId, { mode: 'given', train: 80, val: 10, test: 10, valFromTrain: 0, seed: 1 });
    expect(d.counts.val).toBe(0);
    expect(d.counts).toEqual({ train: 4000, val: 0, test: 1000 });
  });

  it('random split: seeded (deterministic), stratified within 1 item per class', () => {
    const cfg: SplitConfig = { mode: 'random', train: 70, val: 15, test: 15, valFromTrain: 10, seed: 123 };
    // A full re-split moves test images, so it needs allowFromTest (issue 4: a test image never moves silently).
    const all = { allowFromTest: true };
    const a = svc.setSplit(datasetId, cfg, all);
    const splitsA = svc.items({ datasetId, offset: 0, limit: 5000 }).items.map((i) => `${i.id}:${i.split}`).sort();
    svc.setSplit(datasetId, { ...cfg, seed: 124 }, all);
    const splitsOther = svc.items({ datasetId, offset: 0, limit: 5000 }).items.map((i) => `${i.id}:${i.split}`).sort();
    const b = svc.setSplit(datasetId, cfg, all);
    const splitsB = svc.items({ datasetId, offset: 0, limit: 5000 }).items.map((i) => `${i.id}:${i.split}`).sort();
    expect(splitsB).toEqual(splitsA);
    expect(splitsOther).not.toEqual(splitsA);
    expect(b.classes).toEqual(a.classes);
    for (const c of a.classes) {
      const n = c.counts.total;
      expect(Math.abs(c.counts.train - n * 0.7)).toBeLessThanOrEqual(1);
      expect(Math.abs(c.counts.val - n * 0.15)).toBeLessThanOrEqual(1);
      expect(Math.abs(c.counts.test - n * 0.15)).toBeLessThanOrEqual(1);
    }
    expect(() => svc.setSplit(datasetId, { ...cfg, train: 50 })).toThrow(/^split\.train: train \+ val \+ test must be 100/);
  });

  it('items(): paginated and filtered', () => {
    const d = svc.get(datasetId);
    const cls = d.classes[3];
    const p1 = svc.items({ datasetId, offset: 0, limit: 100, split: 'train', classId: cls.id });
    const p2 = svc.items({ datasetId, offset: 100, limit: 100, split: 'train', classId: cls.id });
    expect(p1.total).toBe(cls.counts.train);
    expect(p1.items.every((i) => i.split === 'train' && i.classId === cls.id && i.width === 32 && i.height === 32)).toBe(true);
    expect(new Set([...p1.items, ...p2.items].map((i) => i.id)).size).toBe(200);
    expect(() => svc.items({ datasetId: 999, offset: 0, limit: 1 })).toThrow(/^datasetId: 999 not found/);
  });

  it('prepareTraining: a version and a pack whose pixels equal sharp’s decode; reused when identical', async () => {
    const t0 = performance.now();
    const p = await svc.prepareTraining(datasetId, [32, 32, 3]);
    console.log(`CIFAR pack 32×32×3: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const d = svc.get(datasetId);
    expect(p.meta).toMatchObject({ version: 1, count: d.itemCount, height: 32, width: 32, channels: 3, numClasses: 10, versionHash: p.versionHash });
    expect(p.meta.classNames).toEqual(d.classes.map((c) => c.name));
    expect(p.meta.counts).toEqual(d.counts);
    const manifest = JSON.parse(readFileSync(svc.imageFile(p.versionHash, 'full')!, 'utf8')) as { items: [string, number, string][] };
    const pixels = readFileSync(join(p.packDir, 'pixels.u8'));
    const labels = readFileSync(join(p.packDir, 'labels.i32'));
    const splits = readFileSync(join(p.packDir, 'splits.u8'));
    expect(pixels.length).toBe(p.meta.count * 32 * 32 * 3);
    expect(labels.length).toBe(p.meta.count * 4);
    // one original file: find its item, compare pixels with sharp's own decode of the file
    const cls = d.classes.find((c) => c.name === 'cat')!;
    const item = svc.items({ datasetId, offset: 0, limit: 1, classId: cls.id, split: 'train' }).items[0];
    const file = [join(cifar!, 'train', 'cat', item.name), join(cifar!, 'test', 'cat', item.name)].find((f) => existsSync(f))!;
    const expected = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer();
    const at = manifest.items.findIndex(([h]) => h === item.hash);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(Buffer.compare(pixels.subarray(at * 3072, (at + 1) * 3072), expected)).toBe(0);
    expect(labels.readInt32LE(at * 4)).toBe(cls.index);
    expect(splits[at]).toBe({ train: 0, val: 1, test: 2 }[item.split!]);
    const again = await svc.prepareTraining(datasetId, [32, 32, 3]);
    expect(again).toEqual(p);
    // a changed split makes a new version
    svc.setSplit(datasetId, { mode: 'random', train: 80, val: 10, test: 10, valFromTrain: 10, seed: 5 });
    const other = await svc.prepareTraining(datasetId, [32, 32, 3]);
    expect(other.versionId).not.toBe(p.versionId);
    await expect(svc.prepareTraining(datasetId, [0, 32, 3])).rejects.toThrow(/^inputShape: height/);
    await expect(svc.prepareTraining(datasetId, [32, 32, 2 as 3])).rejects.toThrow(/^inputShape: channels/);
  });
});

describe.skipIf(!hymen)('prepareTraining with resizing', () => {
  it('resizes with fit cover, centre, like sharp does on the decoded image', async () => {
    const dir = tempDataDir();
    const svc = new DatasetService({ db: dir.openDb(), paths: dir.paths });
    try {
      const job = await svc.waitForImport((await svc.startImport({ path: join(hymen!, 'val') })).jobId);
      expect(job.imported).toBe(153);
      const d = svc.get(job.datasetId!);
      expect(d.split.mode).toBe('random');
      const p = await svc.prepareTraining(d.id, [64, 48, 3]);
      const item = svc.items({ datasetId: d.id, offset: 0, limit: 1, classId: d.classes[0].id }).items[0];
      const decoded = await sharp(join(hymen!, 'val', 'ants', item.name)).rotate().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      const expected = await sharp(decoded.data, { raw: { width: decoded.info.width, height: decoded.info.height, channels: 3 } }).resize(48, 64, { fit: 'cover', position: 'centre' }).raw().toBuffer();
      const manifest = JSON.parse(readFileSync(svc.imageFile(p.versionHash, 'full')!, 'utf8')) as { items: [string][] };
      const at = manifest.items.findIndex(([h]) => h === item.hash);
      const size = 64 * 48 * 3;
      expect(Buffer.compare(readFileSync(join(p.packDir, 'pixels.u8')).subarray(at * size, (at + 1) * size), expected)).toBe(0);
      // greyscale pack of the same version: same version row, another pack, sharp's b-w conversion
      const g = await svc.prepareTraining(d.id, [16, 16, 1]);
      expect(g.versionId).toBe(p.versionId);
      expect(g.packDir).not.toBe(p.packDir);
      const gExpected = await sharp(decoded.data, { raw: { width: decoded.info.width, height: decoded.info.height, channels: 3 } }).resize(16, 16, { fit: 'cover' }).toColourspace('b-w').raw().toBuffer();
      expect(Buffer.compare(readFileSync(join(g.packDir, 'pixels.u8')).subarray(at * 256, (at + 1) * 256), gExpected)).toBe(0);
      // delete removes the dataset and its unused blobs
      const hash = item.hash;
      await svc.delete(d.id);
      expect(svc.list()).toEqual([]);
      expect(svc.imageFile(hash, 'full')).toBeNull();
    } finally {
      svc.dispose();
      await svc.idle();
      dir.cleanup();
    }
  });
});

describe.skipIf(!cifar)('cancel and crash recovery', () => {
  it('cancel mid-import keeps committed items, marks the job cancelled, DB consistent', async () => {
    const dir = tempDataDir();
    const db = dir.openDb();
    const svc = new DatasetService({ db, paths: dir.paths });
    try {
      const { jobId } = await svc.startImport({ path: cifar! });
      const progress: number[] = [];
      await new Promise<void>((resolve) => {
        const sub = svc.onEvent((e) => {
          if (e.event === 'import.progress' && e.payload.jobId === jobId) {
            progress.push(Date.now());
            if (e.payload.done >= 600) {
              sub.dispose();
              expect(svc.cancelImport(jobId)).toBe(true);
              resolve();
            }
          }
        });
      });
      const job = await svc.waitForImport(jobId);
      expect(job.status).toBe('cancelled');
      expect(job.finishedAt).not.toBeNull();
      expect(job.imported).toBeGreaterThan(0);
      expect(job.imported).toBeLessThan(5000);
      expect(svc.cancelImport(jobId)).toBe(false);
      const d = svc.get(job.datasetId!);
      expect(d.itemCount).toBe(job.imported);
      expect(d.counts.train + d.counts.val + d.counts.test).toBe(d.itemCount);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);
      // progress throttled to ~10/s
      for (let i = 2; i < progress.length; i++) expect(progress[i] - progress[i - 2]).toBeGreaterThanOrEqual(90);

      // a job left 'running' (crash) is marked failed on the next start
      db.prepare("INSERT INTO import_jobs (dataset_id, source_path, status, started_at) VALUES (?, '/x', 'running', 0)").run(d.id);
      const svc2 = new DatasetService({ db, paths: dir.paths });
      const crashed = svc2.get(d.id).imports.at(-1)!;
      expect(crashed).toMatchObject({ status: 'failed', error: 'interrupted' });
      svc2.dispose();
    } finally {
      svc.dispose();
      await svc.idle();
      dir.cleanup();
    }
  });

  it('errors name the path or field', async () => {
    const dir = tempDataDir();
    const svc = new DatasetService({ db: dir.openDb(), paths: dir.paths });
    try {
      await expect(svc.startImport({ path: '/nonexistent/x/y' })).rejects.toThrow(/^path: \/nonexistent\/x\/y does not exist$/);
      await expect(svc.startImport({ path: cifar!, datasetId: 42 })).rejects.toThrow(/^datasetId: 42 not found/);
      await expect(svc.startImport({ path: join(cifar!, 'train', 'cat', readdirSync(join(cifar!, 'train', 'cat'))[0]) })).rejects.toThrow(/^path: .* is not a folder of images/);
      // a malformed IDX file: the job fails (not left running) with an error naming the file
      const bogus = mkdtempSync(join(tmpdir(), 'layerwise-idx-'));
      try {
        writeFileSync(join(bogus, 'train-images-idx3-ubyte'), Buffer.from('definitely not IDX'));
        const failed = await svc.waitForImport((await svc.startImport({ path: bogus })).jobId);
        expect(failed.status).toBe('failed');
        expect(failed.error).toMatch(/^path: .*train-images-idx3-ubyte is not an IDX image file/);
        // the empty dataset the failed job created is gone; the job stays, with no dataset
        expect(failed.datasetId).toBeNull();
        expect(svc.list()).toEqual([]);
      } finally {
        rmSync(bogus, { recursive: true, force: true });
      }
      expect(() => svc.get(3)).toThrow(/^datasetId: 3 not found/);
      expect(() => svc.getImport(9)).toThrow(/^jobId: 9 not found/);
    } finally {
      svc.dispose();
      dir.cleanup();
    }
  });
});

describe('split arithmetic', () => {
  it('apportion stays within 1 of each exact share and sums to n', () => {
    for (let n = 0; n < 200; n++) {
      const c = apportion(n, [80, 10, 10]);
      expect(c[0] + c[1] + c[2]).toBe(n);
      [0.8, 0.1, 0.1].forEach((f, i) => expect(Math.abs(c[i] - n * f)).toBeLessThan(1));
    }
  });
  it('given mode carves val from train only when the source has no val', () => {
    const rows = Array.from({ length: 100 }, (_, i) => ({ id: i + 1, hash: String(i).padStart(4, '0'), classIdx: i % 2, split: null, givenSplit: i < 80 ? ('train' as const) : ('test' as const) }));
    const cfg: SplitConfig = { mode: 'given', train: 80, val: 10, test: 10, valFromTrain: 25, seed: 3 };
    const s = computeSplits(rows, cfg);
    const count = (k: string) => [...s.values()].filter((v) => v === k).length;
    expect([count('train'), count('val'), count('test')]).toEqual([60, 20, 20]);
    rows[0].givenSplit = 'val' as 'train';
    const s2 = computeSplits(rows, cfg);
    expect([...s2.values()].filter((v) => v === 'val').length).toBe(1);
  });
});

describe.skipIf(!mobilenet)('BMP decoder', () => {
  it('decodes 24-bit (v5 header) and 8-bit palette BMPs', async () => {
    const six = decodeBmp(readFileSync(join(mobilenet!, 'rgb6X4.bmp')));
    expect([six.width, six.height, six.channels]).toEqual([4, 6, 3]);
    const nine = decodeBmp(readFileSync(join(mobilenet!, 'mnist_nine.bmp')));
    expect([nine.width, nine.height, nine.channels]).toEqual([28, 28, 1]);
    const cat = decodeBmp(readFileSync(join(mobilenet!, 'cat.bmp')));
    expect([cat.width, cat.height, cat.channels]).toEqual([512, 341, 3]);
    // the centre of the cat photo is not a flat colour, and the top-left pixel agrees with the JPEG-free raw data layout
    const mean = cat.data.reduce((s, v) => s + v, 0) / cat.data.length;
    expect(mean).toBeGreaterThan(20);
    expect(mean).toBeLessThan(235);
  });
});
