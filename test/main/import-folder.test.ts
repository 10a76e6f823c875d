import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { DatasetService } from '../../src/main/services/datasets';
import { sharedData, tempDir, tempDatasetService } from '../helpers';

const hymen = sharedData('hymenoptera');

/** A PNG whose IHDR says width × height (8-bit grey) followed by a tiny IDAT: cheap to make, huge to decode. */
function pngWithHeader(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(width + 1))), chunk('IEND', Buffer.alloc(0))]);
}
const bad = sharedData('bad-inputs');
const nineBmp = sharedData('mobilenet-tflite/mnist_nine.bmp');

describe.skipIf(!hymen)('folder import: hymenoptera (split folders of class folders)', () => {
  let svc: DatasetService;
  let close: () => Promise<void>;
  beforeAll(() => {
    ({ svc, close } = tempDatasetService());
  });
  afterAll(async () => {
    await close();
  });

  it('imports 398 images in 2 classes, keeps train 245 / val 153, re-import adds nothing', async () => {
    const events: string[] = [];
    svc.onEvent((e) => events.push(e.event));
    const t0 = performance.now();
    const { jobId } = await svc.startImport({ path: hymen! });
    const job = await svc.waitForImport(jobId);
    console.log(`hymenoptera import: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(job.status).toBe('done');
    expect(job.skipped).toEqual([]);
    expect(job.imported + job.duplicates).toBe(398);
    const d = svc.get(job.datasetId!);
    expect(d.name).toBe('hymenoptera');
    expect(d.itemCount).toBe(job.imported);
    expect(d.classes.map((c) => [c.index, c.name])).toEqual([[0, 'ants'], [1, 'bees']]);
    expect(d.split.mode).toBe('given');
    // the GIF placeholder is imported
    const all = svc.items({ datasetId: d.id, offset: 0, limit: 5000 });
    expect(all.items.some((i) => i.name === 'imageNotFound.gif')).toBe(true);
    const train = d.classes.reduce((s, c) => s + c.counts.train, 0);
    const val = d.classes.reduce((s, c) => s + c.counts.val, 0);
    expect(train + val).toBe(job.imported);
    // given splits: all counted items come from 245 train files and 153 val files (minus any duplicate content)
    expect(job.imported).toBe(398);
    expect(job.duplicates).toBe(0);
    expect(d.counts).toEqual({ train: 245, val: 153, test: 0 });
    expect(d.classes.map((c) => [c.counts.train, c.counts.val])).toEqual([[124, 70], [121, 83]]);
    expect(events).toContain('import.progress');
    expect(events).toContain('import.finished');
    const tr = svc.items({ datasetId: d.id, offset: 0, limit: 10, split: 'train', classId: d.classes[1].id });
    expect(tr.total).toBe(d.classes[1].counts.train);
    expect(tr.items).toHaveLength(10);
    // thumbnails and full images resolve; bad hashes do not
    const it0 = all.items[0];
    const thumb = svc.imageFile(it0.hash, 'thumb')!;
    const tm = await sharp(thumb).metadata();
    expect(Math.max(tm.width!, tm.height!)).toBeLessThanOrEqual(128);
    expect(svc.imageFile(it0.hash, 'full')).toMatch(/blobs/);
    expect(svc.imageFile('../etc/passwd', 'full')).toBeNull();
    expect(svc.imageFile('a'.repeat(64), 'full')).toBeNull();

    // re-import of the same path: same dataset, no new items
    const again = await svc.waitForImport((await svc.startImport({ path: hymen! })).jobId);
    expect(again.datasetId).toBe(d.id);
    expect(again.imported).toBe(0);
    expect(again.duplicates).toBe(398);
    expect(svc.get(d.id).itemCount).toBe(job.imported);
    expect(svc.list()).toHaveLength(1);
  });
});

describe.skipIf(!bad)('folder import: bad inputs', () => {
  let svc: DatasetService;
  let close: () => Promise<void>;
  let input: { path: string; cleanup(): void };
  beforeAll(() => {
    ({ svc, close } = tempDatasetService());
    input = tempDir();
    mkdirSync(join(input.path, 'mixed'));
    for (const f of readdirSync(bad!)) if (!f.startsWith('LICENSE')) copyFileSync(join(bad!, f), join(input.path, 'mixed', f));
    // a decompression bomb: a valid PNG header announcing 20000 × 20000 pixels, a few bytes of data
    writeFileSync(join(input.path, 'mixed', 'bomb.png'), pngWithHeader(20_000, 20_000));
    writeFileSync(join(input.path, 'mixed', 'notes.txt'), 'not an image\n');
    writeFileSync(join(input.path, 'mixed', '.DS_Store'), 'hidden files are ignored');
    if (nineBmp) copyFileSync(nineBmp, join(input.path, 'mixed', 'nine.bmp'));
  });
  afterAll(async () => {
    await close();
    input.cleanup();
  });

  it('skips exactly the unusable files with reasons and normalizes the rest', async () => {
    const job = await svc.waitForImport((await svc.startImport({ path: input.path, name: 'bad' })).jobId);
    expect(job.status).toBe('done');
    const reasons = Object.fromEntries(job.skipped.map((s) => [s.path.split('/').pop(), s.reason]));
    expect(Object.keys(reasons).sort()).toEqual(['bomb.png', 'check.svg', 'corrupt-header.jpg', 'notes.txt', 'truncated.png', 'zero-bytes.jpg']);
    expect(reasons['bomb.png']).toBe('image too large: 20000×20000 pixels exceeds the 100-megapixel limit');
    expect(reasons['notes.txt']).toBe('not an image: unrecognised format (.txt)');
    expect(reasons['check.svg']).toMatch(/not an image: SVG/);
    expect(reasons['corrupt-header.jpg']).toMatch(/corrupt JPEG header/);
    expect(reasons['truncated.png']).toMatch(/truncated PNG/);
    expect(reasons['zero-bytes.jpg']).toBe('empty file (0 bytes)');
    expect(job.imported + job.duplicates).toBe(nineBmp ? 11 : 10);
    expect(job.datasetId).not.toBeNull();

    const { items } = svc.items({ datasetId: job.datasetId!, offset: 0, limit: 100 });
    const byName = new Map(items.map((i) => [i.name, i]));
    const meta = async (name: string) => sharp(svc.imageFile(byName.get(name)!.hash, 'full')!).metadata();
    // EXIF orientation 6: the JPEG is kept as it is (browsers apply the rotation, and so does the pack); the item's size is the upright one
    const raw6 = await sharp(join(bad!, 'Landscape_6.jpg')).metadata();
    const it6 = byName.get('Landscape_6.jpg')!;
    expect([it6.width, it6.height]).toEqual([raw6.height, raw6.width]);
    expect(readFileSync(svc.imageFile(it6.hash, 'full')!).equals(readFileSync(join(bad!, 'Landscape_6.jpg')))).toBe(true);
    // CMYK → 8-bit sRGB, 16-bit → 8-bit, grey + alpha → 1 channel, RGBA → 3 channels
    const expectations = [
      ['Channel_digital_image_CMYK_color_no_profile.jpg', 3],
      ['Flag_of_the_Netherlands-16bit.png', 3],
      ['16-bit-grey-alpha.png', 1],
      ['grey-8bit-alpha.png', 1],
      ['bggn4a16.png', 1],
      ['with-alpha.png', 3],
      ['animated-loop-3.gif', 3],
      ['8bit_depth.tiff', 1],
      ...(nineBmp ? [['nine.bmp', 1]] : []),
    ] as [string, number][];
    for (const [name, channels] of expectations) {
      const m = await meta(name);
      expect({ name, depth: m.depth, channels: m.channels, alpha: m.hasAlpha, pages: m.pages ?? 1 }).toEqual({ name, depth: 'uchar', channels, alpha: false, pages: 1 });
      expect(byName.get(name)!.width).toBe(m.width);
    }
  });
});
