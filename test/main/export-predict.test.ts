/**
 * Export and predict through the API and the CLI with real engine processes (issue 13), on a
 * LeNet-5 run trained here on 2 CIFAR-10 classes × 20 images:
 * - `layerwise predict RUN DIR --json` gives, for every imported file, the class and probability
 *   the run itself stored for that item at the end of training (its `predictions`), so a new
 *   image goes through the same decode, resize and preprocessing as the pack's;
 * - `--csv` is one row per file with a probability column per class (rows sum to 1);
 * - `layerwise export RUN --format onnx --zip` writes model.onnx + signature.json (and the zip),
 *   and ONNX Runtime on the run's own pack-decoded pixels gives the same top-1 as the run;
 * - a batch with a truncated PNG and a text file among a BMP, a 16-bit PNG, a CMYK and a grey JPEG
 *   gives a row each: the bad files' reasons, the others the probabilities of the same pixels as
 *   an 8-bit PNG (API and CLI alike);
 * - errors name their field (an epoch without a checkpoint).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/main/host/cli-program';
import type { App } from '../../src/main/services/app';
import { loadPixels } from '../../src/main/services/pack';
import type { Item } from '../../src/shared/api';
import { ApiError } from '../../src/shared/errors';
import type { ClassifyResult, ExportResult } from '../../src/shared/export';
import { argv, io } from './cli-io';

type Row = ClassifyResult['images'][number];
/** The row as a classified image (a test failure naming the file and its error otherwise). */
function ok(im: Row): Extract<Row, { top: unknown }> {
  if ('error' in im) throw new Error(`${im.name} was not classified: ${im.error}`);
  return im;
}
import { cifar } from './runs-helpers';
import { trainedLenet, type TrainedRun } from './trained-run';

/** A 24-bit uncompressed BMP (BITMAPINFOHEADER, rows bottom up, BGR, rows padded to 4 bytes) of RGB pixels, as Microsoft's BMP format documents. */
function bmp24(rgb: Buffer, w: number, h: number): Buffer {
  const row = Math.ceil((w * 3) / 4) * 4;
  const b = Buffer.alloc(54 + row * h);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(row * h, 34);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) b[54 + (h - 1 - y) * row + x * 3 + (2 - c)] = rgb[(y * w + x) * 3 + c];
  return b;
}

describe.skipIf(!cifar)('export and predict on a trained LeNet-5 (2 CIFAR-10 classes × 20 images)', () => {
  let trained: TrainedRun;
  let app: App;
  let runId: number;
  let items: Item[];

  beforeAll(async () => {
    trained = await trainedLenet(3);
    ({ app, runId } = trained);
    items = ((await app.handle('datasets.items', { datasetId: trained.datasetId, offset: 0, limit: 1000, runId })) as { items: Item[] }).items;
  }, 240_000);
  afterAll(async () => {
    await trained?.close();
  });

  it('layerwise predict: each file gets the class and probability the run stored for it', async () => {
    const out = io();
    expect(await runCli(argv('predict', String(runId), trained.input, '--json', '--top', '2', '--data-dir', app.paths.root), out), out.errors.join('\n')).toBe(0);
    const r = JSON.parse(out.lines.join('\n')) as ClassifyResult & { runId: number };
    expect(r.classes).toEqual(['airplane', 'cat']);
    expect(r.images).toHaveLength(40);
    const classes = (await app.handle('datasets.get', { datasetId: trained.datasetId })) as { classes: { id: number; name: string }[] };
    let compared = 0;
    for (const im of r.images.map(ok)) {
      const item = items.find((i) => i.name === im.name.split('/').pop());
      expect(item, im.name).toBeDefined();
      const stored = item!.prediction!;
      expect(stored, `${im.name} has a stored prediction`).toBeTruthy();
      expect(im.top[0].name).toBe(classes.classes.find((c) => c.id === stored.classId)!.name);
      expect(Math.abs(im.top[0].probability - stored.confidence)).toBeLessThan(1e-5);
      expect(im.top).toHaveLength(2);
      compared++;
    }
    expect(compared).toBe(40);
    // Both classes predicted somewhere: the comparison is not of a constant answer.
    expect(new Set(r.images.map((i) => ok(i).top[0].index)).size).toBe(2);

    const csv = io();
    expect(await runCli(argv('predict', String(runId), join(trained.input, 'cat'), '--csv', '--data-dir', app.paths.root), csv), csv.errors.join('\n')).toBe(0);
    expect(csv.lines[0]).toBe('file,predicted,probability,p(airplane),p(cat),error');
    expect(csv.lines).toHaveLength(21);
    for (const line of csv.lines.slice(1)) {
      const cells = line.split(',');
      expect(Math.abs(Number(cells[3]) + Number(cells[4]) - 1)).toBeLessThan(1e-5);
      expect(cells[1]).toBe(Number(cells[3]) > Number(cells[4]) ? 'airplane' : 'cat');
      expect(cells[5]).toBe('');
    }
  }, 120_000);

  it('layerwise export --format onnx --zip: ONNX Runtime gives the run\'s top-1 on its own images', async () => {
    const dir = join(app.paths.root, 'exported');
    const out = io();
    expect(await runCli(argv('export', String(runId), '--format', 'onnx', '--out', dir, '--zip', '--data-dir', app.paths.root), out), out.errors.join('\n')).toBe(0);
    expect(out.lines.join('\n')).toMatch(/model\.onnx, signature\.json/);
    expect(out.lines.join('\n')).toContain('resize cover (centre crop) to 32×32; x = pixel / 255 → [0, 1]');
    expect(existsSync(`${dir}.zip`)).toBe(true);
    // The zip as Python's zipfile reads it (CRCs checked): the folder's files under its name.
    const listed = execFileSync('python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(",".join(z.namelist()))', `${dir}.zip`], { encoding: 'utf8' }).trim();
    expect(listed).toBe('exported/model.onnx,exported/signature.json');
    const sig = JSON.parse(readFileSync(join(dir, 'signature.json'), 'utf8')) as ExportResult['signature'];
    expect(sig.classes).toEqual(['airplane', 'cat']);
    expect(sig.preprocessing.scale).toBeCloseTo(1 / 255, 12);
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
    const classes = (await app.handle('datasets.get', { datasetId: trained.datasetId })) as { classes: { id: number; name: string }[] };
    let agree = 0;
    for (const item of items) {
      const px = await loadPixels(app.blobs, item.hash, 32, 32, 3);
      const x = Float32Array.from(px, (v) => v * sig.preprocessing.scale + sig.preprocessing.offset);
      const r = await session.run({ input: new ort.Tensor('float32', x, [1, 32, 32, 3]) });
      const p = r.probabilities.data as Float32Array;
      const top = p[1] > p[0] ? 1 : 0;
      if (sig.classes[top] === classes.classes.find((c) => c.id === item.prediction!.classId)!.name) agree++;
    }
    expect(agree).toBe(items.length);
  }, 120_000);

  it('predict --epoch is 1-based like the run page: --epoch 1 classifies with the first epoch\'s checkpoint (stored epoch 0)', async () => {
    const file = join(trained.input, 'cat');
    const out = io();
    expect(await runCli(argv('predict', String(runId), file, '--json', '--top', '2', '--epoch', '1', '--data-dir', app.paths.root), out), out.errors.join('\n')).toBe(0);
    const cli = JSON.parse(out.lines.join('\n')) as ClassifyResult;
    expect(cli.epoch).toBe(1);
    const images = cli.images.map((im) => ({ name: im.name, dataBase64: readFileSync(im.name).toString('base64') }));
    const gap = (r: ClassifyResult) => Math.max(...r.images.map((im, i) => Math.abs(ok(im).top[0].probability - ok(cli.images[i]).top[0].probability)));
    const stored0 = (await app.handle('runs.classify', { runId, images, top: 2, epoch: 0 })) as ClassifyResult;
    const stored1 = (await app.handle('runs.classify', { runId, images, top: 2, epoch: 1 })) as ClassifyResult;
    expect(gap(stored0)).toBeLessThan(1e-6);
    expect(gap(stored1), 'the first and second epochs give different probabilities').toBeGreaterThan(1e-4);
    const text = io();
    expect(await runCli(argv('predict', String(runId), file, '--epoch', '1', '--data-dir', app.paths.root), text), text.errors.join('\n')).toBe(0);
    expect(text.lines[0]).toMatch(/^run \d+, epoch 1: 20 images$/);
    expect(await runCli(argv('predict', String(runId), file, '--epoch', '0', '--data-dir', app.paths.root), io())).not.toBe(0);
  }, 120_000);

  it('a batch with a corrupt file, a BMP, a 16-bit PNG, a CMYK and a grey JPEG: one row each, the bad file\'s error in its row (API and CLI)', async () => {
    // The sources: two imported 32×32 CIFAR PNGs (8-bit sRGB), the reference each other form is compared with.
    const src = join(trained.input, 'cat', readdirSync(join(trained.input, 'cat')).sort()[0]);
    const raw = await sharp(src).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([raw.info.width, raw.info.height, raw.info.channels]).toEqual([32, 32, 3]);
    const greyPx = await sharp(src).greyscale().raw().toBuffer();
    const dir = join(app.paths.root, 'batch');
    mkdirSync(dir, { recursive: true });
    const file = (name: string, bytes: Buffer): string => (writeFileSync(join(dir, name), bytes), join(dir, name));
    const rawImg = (px: Buffer, channels: 1 | 3) => sharp(px, { raw: { width: 32, height: 32, channels } });
    const srcPng = readFileSync(src);
    const files = [
      file('a-source.png', srcPng),
      file('b-broken.png', srcPng.subarray(0, Math.floor(srcPng.length / 2))), // truncated
      file('c-same.bmp', bmp24(raw.data, 32, 32)),
      file('d-16bit.png', await rawImg(raw.data, 3).toColourspace('rgb16').png().toBuffer()),
      file('e-cmyk.jpg', await rawImg(raw.data, 3).toColourspace('cmyk').jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer()),
      file('f-grey.png', await rawImg(greyPx, 1).toColourspace('b-w').png().toBuffer()),
      file('g-grey.jpg', await rawImg(greyPx, 1).toColourspace('b-w').jpeg({ quality: 100 }).toBuffer()),
      file('h-notes.jpg', Buffer.from('these are notes, not a photo')),
    ];
    // The files really are what they are named (sharp's header read; the BMP is ours).
    expect((await sharp(files[3]).metadata()).depth).toBe('ushort');
    expect((await sharp(files[4]).metadata()).space).toBe('cmyk');
    expect((await sharp(files[6]).metadata()).channels).toBe(1);

    const images = files.map((f) => ({ name: basename(f), dataBase64: readFileSync(f).toString('base64') }));
    const r = (await app.handle('runs.classify', { runId, images, top: 2 })) as ClassifyResult;
    expect(r.images.map((im) => im.name)).toEqual(images.map((im) => im.name));
    const byName = Object.fromEntries(r.images.map((im) => [im.name, im]));
    // The two bad files: the importer's reason, no path and no stack.
    expect(byName['b-broken.png']).toEqual({ name: 'b-broken.png', error: expect.stringMatching(/^truncated PNG \(the file ends after \d+ bytes\)$/) });
    expect(byName['h-notes.jpg']).toEqual({ name: 'h-notes.jpg', error: 'not an image: unrecognised format (.jpg)' });
    const source = ok(byName['a-source.png']).probabilities;
    const gap = (name: string, ref: number[]) => Math.max(...ok(byName[name]).probabilities.map((p, k) => Math.abs(p - ref[k])));
    // Lossless forms of the same pixels: the source's probabilities.
    expect(gap('c-same.bmp', source)).toBeLessThan(1e-6);
    expect(gap('d-16bit.png', source)).toBeLessThan(1e-6);
    // Lossy forms (CMYK round trip, JPEG at quality 100) close to their lossless reference.
    expect(gap('e-cmyk.jpg', source)).toBeLessThan(0.05);
    expect(gap('g-grey.jpg', ok(byName['f-grey.png']).probabilities)).toBeLessThan(0.05);

    // The CLI on the folder: the same rows, status 1 and a line saying how many failed.
    const out = io();
    expect(await runCli(argv('predict', String(runId), dir, '--json', '--top', '2', '--data-dir', app.paths.root), out)).toBe(1);
    expect(out.errors).toEqual(['2 of 8 files could not be classified']);
    const cli = JSON.parse(out.lines.join('\n')) as ClassifyResult;
    expect(cli.images.map((im) => basename(im.name))).toEqual(images.map((im) => im.name));
    cli.images.forEach((im, i) => {
      const api = r.images[i];
      if ('error' in api) expect(im).toEqual({ name: files[i], error: api.error });
      else expect(Math.max(...ok(im).probabilities.map((p, k) => Math.abs(p - api.probabilities[k])))).toBeLessThan(1e-6);
    });
    const csv = io();
    expect(await runCli(argv('predict', String(runId), files[1], files[0], '--csv', '--data-dir', app.paths.root), csv)).toBe(1);
    expect(csv.lines[1]).toMatch(/^.*b-broken\.png,,,,,truncated PNG \(the file ends after \d+ bytes\)$/);
    expect(csv.lines[2].split(',')[1]).toBe(ok(byName['a-source.png']).top[0].name);
    const text = io();
    expect(await runCli(argv('predict', String(runId), files[7], '--data-dir', app.paths.root), text)).toBe(1);
    expect(text.lines.join('\n')).toContain('error: not an image: unrecognised format (.jpg)');
  }, 120_000);

  it('refuses an epoch without a checkpoint, naming the field', async () => {
    const err = await app.handle('runs.export', { runId, format: 'tfjs', epoch: 99 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).field).toBe('epoch');
    const e2 = await app.handle('runs.classify', { runId, epoch: 99, images: [{ name: 'x.png', dataBase64: '' }] }).catch((e: unknown) => e);
    expect((e2 as ApiError).field).toBe('epoch');
  }, 60_000);
});
