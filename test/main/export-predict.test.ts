/**
 * Export and predict through the API and the CLI with real engine processes (issue 13), on a
 * LeNet-5 run trained here on 2 CIFAR-10 classes × 20 images:
 * - `layerwise predict RUN DIR --json` gives, for every imported file, the class and probability
 *   the run itself stored for that item at the end of training (its `predictions`), so a new
 *   image goes through the same decode, resize and preprocessing as the pack's;
 * - `--csv` is one row per file with a probability column per class (rows sum to 1);
 * - `layerwise export RUN --format onnx --zip` writes model.onnx + signature.json (and the zip),
 *   and ONNX Runtime on the run's own pack-decoded pixels gives the same top-1 as the run;
 * - errors name their field (a file that is not an image, an epoch without a checkpoint).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/main/host/cli-program';
import type { App } from '../../src/main/services/app';
import { loadPixels } from '../../src/main/services/pack';
import type { Item } from '../../src/shared/api';
import { ApiError } from '../../src/shared/errors';
import type { ClassifyResult, ExportResult } from '../../src/shared/export';
import { argv, io } from './cli-io';
import { cifar } from './runs-helpers';
import { trainedLenet, type TrainedRun } from './trained-run';

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
    for (const im of r.images) {
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
    expect(new Set(r.images.map((i) => i.top[0].index)).size).toBe(2);

    const csv = io();
    expect(await runCli(argv('predict', String(runId), join(trained.input, 'cat'), '--csv', '--data-dir', app.paths.root), csv), csv.errors.join('\n')).toBe(0);
    expect(csv.lines[0]).toBe('file,predicted,probability,p(airplane),p(cat)');
    expect(csv.lines).toHaveLength(21);
    for (const line of csv.lines.slice(1)) {
      const cells = line.split(',');
      expect(Math.abs(Number(cells[3]) + Number(cells[4]) - 1)).toBeLessThan(1e-5);
      expect(cells[1]).toBe(Number(cells[3]) > Number(cells[4]) ? 'airplane' : 'cat');
    }
  }, 120_000);

  it('layerwise export --format onnx --zip: ONNX Runtime gives the run\'s top-1 on its own images', async () => {
    const dir = join(app.paths.root, 'exported');
    const out = io();
    expect(await runCli(argv('export', String(runId), '--format', 'onnx', '--out', dir, '--zip', '--data-dir', app.paths.root), out), out.errors.join('\n')).toBe(0);
    expect(out.lines.join('\n')).toMatch(/model\.onnx, signature\.json/);
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
    const gap = (r: ClassifyResult) => Math.max(...r.images.map((im, i) => Math.abs(im.top[0].probability - cli.images[i].top[0].probability)));
    const stored0 = (await app.handle('runs.classify', { runId, images, top: 2, epoch: 0 })) as ClassifyResult;
    const stored1 = (await app.handle('runs.classify', { runId, images, top: 2, epoch: 1 })) as ClassifyResult;
    expect(gap(stored0)).toBeLessThan(1e-6);
    expect(gap(stored1), 'the first and second epochs give different probabilities').toBeGreaterThan(1e-4);
    const text = io();
    expect(await runCli(argv('predict', String(runId), file, '--epoch', '1', '--data-dir', app.paths.root), text), text.errors.join('\n')).toBe(0);
    expect(text.lines[0]).toMatch(/^run \d+, epoch 1: 20 images$/);
    expect(await runCli(argv('predict', String(runId), file, '--epoch', '0', '--data-dir', app.paths.root), io())).not.toBe(0);
  }, 120_000);

  it('refuses a file that is not an image and an epoch without a checkpoint, naming the field', async () => {
    await expect(app.handle('runs.classify', { runId, images: [{ name: 'notes.txt', dataBase64: Buffer.from('hello').toString('base64') }] })).rejects.toMatchObject({ code: 'invalid_params', field: 'images.0.dataBase64' });
    const err = await app.handle('runs.export', { runId, format: 'tfjs', epoch: 99 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).field).toBe('epoch');
    const bad = join(app.paths.root, 'bad.png');
    writeFileSync(bad, 'not a png');
    const out = io();
    expect(await runCli(argv('predict', String(runId), bad, '--data-dir', app.paths.root), out)).not.toBe(0);
  }, 60_000);
});
