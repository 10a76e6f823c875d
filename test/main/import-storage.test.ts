/**
 * Issue 7, "Import: never a silent wrong dataset" — storage, defaults, outliers, partial
 * failure, conflicts and the skip cap, on real files, a real SQLite file and real imports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Split, SplitConfig } from '../../src/shared/api';
import { DatasetService } from '../../src/main/services/datasets';
import { assignNewSplits, computeSplits } from '../../src/main/services/datasets-split';
import { SKIP_LIST_LIMIT } from '../../src/main/import/job';
import { defaultInputShape } from '../../src/shared/input-shape';
import { sharedData, tempDir, tempDatasetService } from '../helpers';

const hymen = sharedData('hymenoptera');
const bad = sharedData('bad-inputs');
const cifar = sharedData('cifar10-subset');

async function importPath(svc: DatasetService, path: string, name?: string) {
  return svc.waitForImport((await svc.startImport({ path, name })).jobId);
}

describe.skipIf(!hymen || !bad || !cifar)('photos are stored as they are', () => {
  let svc: DatasetService;
  let close: () => Promise<void>;
  let dirOpenDb: () => ReturnType<ReturnType<typeof tempDatasetService>['dir']['openDb']>;
  let input: { path: string; cleanup(): void };
  beforeAll(() => {
    const t = tempDatasetService();
    ({ svc, close } = t);
    dirOpenDb = () => t.dir.openDb();
    input = tempDir();
  });
  afterAll(async () => {
    await close();
    input.cleanup();
  });

  it('keeps JPEG bytes as the blob (blob bytes = source bytes), records the format, and packs JPEG and PNG blobs together', async () => {
    // 20 hymenoptera JPEGs, the EXIF-6 JPEG and 20 CIFAR PNGs in two classes of one dataset
    const photos = join(hymen!, 'val', 'bees');
    const jpegs = readdirSync(photos).slice(0, 20);
    mkdirSync(join(input.path, 'mixed', 'photo'), { recursive: true });
    mkdirSync(join(input.path, 'mixed', 'small'), { recursive: true });
    for (const f of jpegs) copyFileSync(join(photos, f), join(input.path, 'mixed', 'photo', f));
    copyFileSync(join(bad!, 'Landscape_6.jpg'), join(input.path, 'mixed', 'photo', 'Landscape_6.jpg'));
    const pngDir = join(cifar!, 'train', 'cat');
    for (const f of readdirSync(pngDir).slice(0, 20)) copyFileSync(join(pngDir, f), join(input.path, 'mixed', 'small', f));
    const job = await importPath(svc, join(input.path, 'mixed'));
    expect(job.status).toBe('done');
    expect(job.imported).toBe(41);
    const d = svc.get(job.datasetId!);
    const { items } = svc.items({ datasetId: d.id, offset: 0, limit: 100 });
    const db = dirOpenDb();
    let source = 0;
    let stored = 0;
    for (const it of items) {
      const cls = d.classes.find((c) => c.id === it.classId)!.name;
      const file = join(input.path, 'mixed', cls, it.name);
      const blob = readFileSync(svc.imageFile(it.hash, 'full')!);
      expect(blob.equals(readFileSync(file))).toBe(true);
      const row = db.prepare('SELECT format, size FROM blobs WHERE hash = ?').get(it.hash) as { format: string; size: number };
      expect(row.format).toBe(cls === 'photo' ? 'jpeg' : 'png');
      source += statSync(file).size;
      stored += row.size;
    }
    expect(stored / source).toBeLessThanOrEqual(1.1);

    // EXIF orientation 6: the item is upright (600×450), so are its thumbnail and its pack pixels, equal to what the PNG-storing import packed
    const it6 = items.find((i) => i.name === 'Landscape_6.jpg')!;
    expect([it6.width, it6.height]).toEqual([600, 450]);
    const tm = await sharp(svc.imageFile(it6.hash, 'thumb')!).metadata();
    expect([tm.width, tm.height]).toEqual([128, 96]);
    const p = await svc.prepareTraining(d.id, [40, 48, 3]);
    const manifest = JSON.parse(readFileSync(svc.imageFile(p.versionHash, 'full')!, 'utf8')) as { items: [string][] };
    const pixels = readFileSync(join(p.packDir, 'pixels.u8'));
    const size = 40 * 48 * 3;
    const packed = (hash: string): Buffer => {
      const at = manifest.items.findIndex(([h]) => h === hash);
      return pixels.subarray(at * size, (at + 1) * size);
    };
    // before: the file was decoded (rotate, sRGB) into a PNG, and the pack resized those pixels
    const upright = await sharp(join(bad!, 'Landscape_6.jpg')).rotate().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const expected6 = await sharp(upright.data, { raw: { width: upright.info.width, height: upright.info.height, channels: 3 } }).resize(48, 40, { fit: 'cover', position: 'centre' }).raw().toBuffer();
    expect(packed(it6.hash).equals(expected6)).toBe(true);
    // a PNG item of the same pack
    const png = items.find((i) => i.name.endsWith('.png'))!;
    const pngPx = await sharp(join(input.path, 'mixed', 'small', png.name)).removeAlpha().toColourspace('srgb').resize(48, 40, { fit: 'cover' }).raw().toBuffer();
    expect(packed(png.hash).equals(pngPx)).toBe(true);
  });

  it('defaults come from the median size and from whether every image is grey, never from the first file', async () => {
    // first file (by name) 16×12 colour; then 9 files 40×30 whose RGB channels are equal everywhere
    const dir = join(input.path, 'grey', 'only');
    mkdirSync(dir, { recursive: true });
    const noise = (w: number, h: number, grey: boolean, k = 0): Buffer => {
      const b = Buffer.alloc(w * h * 3);
      for (let i = 0; i < w * h; i++) {
        const v = (i * 37 + k * 11) % 251;
        b[3 * i] = v;
        b[3 * i + 1] = grey ? v : (v + 90) % 256;
        b[3 * i + 2] = grey ? v : (v * 3) % 256;
      }
      return b;
    };
    await sharp(noise(16, 12, false), { raw: { width: 16, height: 12, channels: 3 } }).png().toFile(join(dir, 'a0.png'));
    for (let k = 1; k <= 9; k++) await sharp(noise(40, 30, true, k), { raw: { width: 40, height: 30, channels: 3 } }).png().toFile(join(dir, `b${k}.png`));
    const job = await importPath(svc, join(input.path, 'grey'));
    expect(job.imported).toBe(10);
    const d = svc.get(job.datasetId!);
    expect(d.imageStats).toEqual({ count: 10, medianHeight: 30, medianWidth: 40, grey: 9 });
    // one colour image: 3 channels
    expect(d.typicalShape).toEqual([30, 40, 3]);
    expect(defaultInputShape(d.typicalShape)).toEqual([30, 40, 3]);
    // without it, every image is grey (R = G = B) although stored with 3 channels: 1 channel
    await svc.delete(d.id);
    renameSync(join(dir, 'a0.png'), join(input.path, 'a0.png'));
    const again = await importPath(svc, join(input.path, 'grey'));
    const g = svc.get(again.datasetId!);
    expect(g.typicalShape).toEqual([30, 40, 1]);
    expect(defaultInputShape(g.typicalShape)).toEqual([30, 40, 1]);
  });
});

describe.skipIf(!hymen)('worth a look', () => {
  it('lists the GIF placeholder among the JPEG ants, with its thumbnail', async () => {
    const { svc, close } = tempDatasetService();
    try {
      const job = await importPath(svc, join(hymen!, 'train'));
      expect(job.status).toBe('done');
      const gif = job.worthALook!.find((w) => w.name === 'imageNotFound.gif');
      expect(gif).toBeDefined();
      expect(gif!.className).toBe('ants');
      expect(gif!.reason).toMatch(/^GIF file; 123 of the 124 images of ants are JPEG/);
      const thumb = svc.imageFile(gif!.hash, 'thumb')!;
      const m = await sharp(thumb).metadata();
      expect(Math.max(m.width!, m.height!)).toBe(128);
      // every JPEG of ordinary size stays off the list
      for (const w of job.worthALook!) expect(w.name === 'imageNotFound.gif' || /far from the typical/.test(w.reason)).toBe(true);
    } finally {
      await close();
    }
  });
});

describe.skipIf(!cifar)('partial failure is partial', () => {
  it('every committed item has a split while the import still runs', async () => {
    const { svc, close, dir } = tempDatasetService();
    try {
      const db = dir.openDb();
      const { jobId } = await svc.startImport({ path: cifar! });
      const seen: { items: number; withoutSplit: number }[] = [];
      await new Promise<void>((resolve) => {
        const sub = svc.onEvent((e) => {
          if (e.event !== 'import.progress' || e.payload.jobId !== jobId) return;
          const r = db.prepare('SELECT COUNT(*) AS items, COUNT(*) - COUNT(split) AS withoutSplit FROM items').get() as { items: number; withoutSplit: number };
          if (r.items > 0) seen.push(r);
          if (r.items >= 1500) {
            sub.dispose();
            svc.cancelImport(jobId);
            resolve();
          }
        });
      });
      const job = await svc.waitForImport(jobId);
      expect(job.status).toBe('cancelled');
      expect(seen.length).toBeGreaterThan(0);
      for (const s of seen) expect(s.withoutSplit).toBe(0);
      // given splits per batch: the test folder's images are all in test, none carved into val from it
      const d = svc.get(job.datasetId!);
      expect(d.counts.train + d.counts.val + d.counts.test).toBe(d.itemCount);
    } finally {
      await close();
    }
  });

  it('a cancelled import that committed nothing leaves no dataset behind', async () => {
    const { svc, close } = tempDatasetService();
    try {
      const { jobId } = await svc.startImport({ path: cifar! });
      svc.cancelImport(jobId);
      const job = await svc.waitForImport(jobId);
      expect(job.status).toBe('cancelled');
      expect(job.imported).toBe(0);
      expect(job.datasetId).toBeNull();
      expect(svc.list()).toEqual([]);
      expect(svc.getImport(jobId).status).toBe('cancelled');
    } finally {
      await close();
    }
  });

  it('a re-import that finds a known image under another class folder reports the conflict and changes nothing', async () => {
    const { svc, close } = tempDatasetService();
    const input = tempDir();
    try {
      const cat = join(cifar!, 'train', 'cat');
      const files = readdirSync(cat).slice(0, 6);
      for (const c of ['cat', 'dog']) mkdirSync(join(input.path, c));
      for (const f of files) copyFileSync(join(cat, f), join(input.path, 'cat', f));
      const first = await importPath(svc, input.path);
      expect(first.imported).toBe(6);
      // two cat images now sit in dog/ as well (a relabeling by moving files); one more stays a plain duplicate
      renameSync(join(input.path, 'cat', files[0]), join(input.path, 'dog', files[0]));
      renameSync(join(input.path, 'cat', files[1]), join(input.path, 'dog', files[1]));
      const again = await importPath(svc, input.path);
      expect(again.imported).toBe(0);
      expect(again.duplicates).toBe(4);
      expect(again.conflicts!.total).toBe(2);
      expect(again.conflicts!.byClass).toEqual([{ existingClass: 'cat', foundClass: 'dog', count: 2 }]);
      expect(again.conflicts!.files.map((f) => f.path).sort()).toEqual([join(input.path, 'dog', files[0]), join(input.path, 'dog', files[1])].sort());
      const d = svc.get(again.datasetId!);
      const cats = d.classes.find((c) => c.name === 'cat')!;
      expect(cats.counts.total).toBe(6);
    } finally {
      await close();
      input.cleanup();
    }
  });
});

describe('skipped files are capped', () => {
  it(`lists the first ${SKIP_LIST_LIMIT} skipped files with reasons and counts all of them by kind`, async () => {
    const { svc, close, dir } = tempDatasetService();
    const input = tempDir();
    try {
      mkdirSync(join(input.path, 'junk'));
      for (let i = 0; i < SKIP_LIST_LIMIT + 300; i++) writeFileSync(join(input.path, 'junk', `note-${i}.txt`), 'not an image\n');
      writeFileSync(join(input.path, 'junk', 'empty.png'), '');
      await sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } }).png().toFile(join(input.path, 'junk', 'real.png'));
      const job = await importPath(svc, input.path);
      expect(job.status).toBe('done');
      expect(job.imported).toBe(1);
      expect(job.skipped).toHaveLength(SKIP_LIST_LIMIT);
      expect(job.skippedTotal).toBe(SKIP_LIST_LIMIT + 301);
      expect(job.skippedByReason).toEqual([
        { reason: 'not an image', count: SKIP_LIST_LIMIT + 300 },
        { reason: 'empty file', count: 1 },
      ]);
      const rows = (dir.openDb().prepare('SELECT COUNT(*) AS n FROM import_skips').get() as { n: number }).n;
      expect(rows).toBe(SKIP_LIST_LIMIT);
    } finally {
      await close();
      input.cleanup();
    }
  });
});

describe('split assignment per batch', () => {
  it('assignNewSplits gives the same splits as computeSplits(new-items) over all rows', async () => {
    const { close, dir } = tempDatasetService();
    try {
      const db = dir.openDb();
      const ds = Number(db.prepare("INSERT INTO datasets (name, created_at, split_config) VALUES ('x', 0, '{}')").run().lastInsertRowid);
      const cls = [0, 1, 2].map((i) => Number(db.prepare('INSERT INTO classes (dataset_id, idx, name) VALUES (?, ?, ?)').run(ds, i, `c${i}`).lastInsertRowid));
      const splits: (Split | null)[] = ['train', 'val', 'test', null];
      let seed = 7;
      const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      for (let i = 0; i < 600; i++) {
        const hash = i.toString(16).padStart(64, '0');
        db.prepare("INSERT INTO blobs (hash, size, width, height, channels, format) VALUES (?, 1, 1, 1, 1, 'png')").run(hash);
        const given = splits[Math.floor(rnd() * 4)];
        const split = rnd() < 0.4 ? (given ?? 'train') : null;
        const classId = rnd() < 0.1 ? null : cls[Math.floor(rnd() * 3)];
        db.prepare('INSERT INTO items (dataset_id, blob_hash, original_name, class_id, split, given_split, created_at) VALUES (?, ?, ?, ?, ?, ?, 0)').run(ds, hash, `f${i}`, classId, split, given);
      }
      for (const config of [
        { mode: 'random', train: 70, val: 20, test: 10, valFromTrain: 10, seed: 3 },
        { mode: 'given', train: 80, val: 10, test: 10, valFromTrain: 15, seed: 9 },
      ] as SplitConfig[]) {
        db.exec('SAVEPOINT s');
        const rows = db.prepare('SELECT i.id, i.blob_hash AS hash, c.idx AS classIdx, i.split, i.given_split AS givenSplit FROM items i LEFT JOIN classes c ON c.id = i.class_id WHERE i.dataset_id = ?').all(ds) as Parameters<typeof computeSplits>[0];
        const want = computeSplits(rows, config, 'new-items');
        const n = assignNewSplits(db, ds, config);
        expect(n).toBe(rows.filter((r) => r.split === null).length);
        const got = db.prepare('SELECT id, split FROM items WHERE dataset_id = ?').all(ds) as { id: number; split: Split }[];
        for (const r of got) expect([r.id, r.split]).toEqual([r.id, want.get(r.id)]);
        db.exec('ROLLBACK TO s');
        db.exec('RELEASE s');
      }
    } finally {
      await close();
    }
  });
});
