/**
 * Version freezing with a real engine: a run trains on the version frozen when it started;
 * labels changed meanwhile leave that version untouched, and `versions.diff` from it to the
 * current state lists exactly those changes. Deleting a class a frozen version uses keeps
 * the version's manifest intact. Real SQLite file, real CIFAR-10 images, real engine process.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/main/blobs';
import { normalizeBuffer } from '../../src/main/images/image';
import { createApp, type App } from '../../src/main/services/app';
import type { ConfusionMatrix, DatasetDetail, DatasetVersion, Item, VersionDiff } from '../../src/shared/api';
import { tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { cifar, linearSpec, RecordingLauncher, tinyCifarFolder } from './runs-helpers';

describe.skipIf(!cifar)('dataset versions with a real engine run (2 CIFAR-10 classes × 20)', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  let app: App;
  let ds: DatasetDetail;
  let runId: number;
  let versionId: number;
  let manifestBytes: Buffer;
  const changed = { relabeled: [] as Item[], moved: null as Item | null, excluded: null as Item | null, uploadedHash: '' };

  beforeAll(async () => {
    dir = tempDataDir();
    input = tempDir();
    tinyCifarFolder(input.path);
    app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), api: { validateResults: true }, cancelTimeoutMs: 3000 });
    const job = await app.datasets.waitForImport((await app.datasets.startImport({ path: input.path, name: 'tiny' })).jobId);
    ds = app.datasets.get(job.datasetId!);
  });
  afterAll(async () => {
    await app?.shutdown(2000);
    input?.cleanup();
    dir?.cleanup();
  });

  it('labels changed after a run started do not change its version; the diff lists exactly those changes', async () => {
    const running = new Promise<void>((resolve) => {
      const sub = app.onEvent((e) => {
        if (e.event === 'run.status' && e.payload.status === 'running') {
          sub.dispose();
          resolve();
        }
      });
    });
    ({ runId } = await app.runs.start({ spec: linearSpec(ds.id, { epochs: 1, batchSize: 8 }) }));
    await running;
    versionId = app.runs.get(runId).datasetVersionId!;
    const row = app.db.prepare('SELECT content_hash, manifest_hash FROM dataset_versions WHERE id = ?').get(versionId) as { content_hash: string; manifest_hash: string };
    manifestBytes = readFileSync(app.datasets.blobs.blobPath(row.manifest_hash));

    // Change things while it trains.
    const [airplane, cat] = ds.classes;
    const train = app.datasets.items({ datasetId: ds.id, offset: 0, limit: 100, split: 'train', classId: airplane.id }).items;
    changed.relabeled = train.slice(0, 3);
    await app.handle('labels.assign', { datasetId: ds.id, itemIds: changed.relabeled.map((i) => i.id), classId: cat.id });
    changed.moved = train[3];
    await app.handle('items.move', { datasetId: ds.id, itemIds: [train[3].id], split: 'val' });
    changed.excluded = train[4];
    await app.handle('items.exclude', { datasetId: ds.id, itemIds: [train[4].id], excluded: true, reason: 'cropped' });
    const ship = readFileSync(join(cifar!, 'test', 'ship', readdirSync(join(cifar!, 'test', 'ship')).sort()[0]));
    changed.uploadedHash = sha256((await normalizeBuffer(ship)).bytes);
    expect(await app.handle('items.upload', { datasetId: ds.id, files: [{ name: 'ship.png', dataBase64: ship.toString('base64') }] })).toMatchObject({ imported: 1 });

    const done = await app.runs.waitFor(runId);
    expect(done.status).toBe('completed');
    expect(done.datasetVersionId).toBe(versionId);
    // the frozen version is byte-for-byte what it was
    expect(app.db.prepare('SELECT content_hash, manifest_hash FROM dataset_versions WHERE id = ?').get(versionId)).toEqual(row);
    expect(sha256(readFileSync(app.datasets.blobs.blobPath(row.manifest_hash)))).toBe(row.content_hash);
    const versions = (await app.handle('versions.list', { datasetId: ds.id })) as DatasetVersion[];
    expect(versions).toEqual([expect.objectContaining({ id: versionId, itemCount: 40, runIds: [runId] })]);

    const diff = (await app.handle('versions.diff', { fromVersionId: versionId })) as VersionDiff;
    expect(diff.relabeled).toEqual(changed.relabeled.map((i) => ({ hash: i.hash, from: 'airplane', to: 'cat' })).sort((a, b) => a.hash.localeCompare(b.hash)));
    expect(diff.moved).toEqual([{ hash: changed.moved!.hash, from: 'train', to: 'val' }]);
    expect(diff.removed).toEqual([{ hash: changed.excluded!.hash, className: 'airplane', split: 'train' }]);
    expect(diff.added).toEqual([{ hash: changed.uploadedHash, classId: null, split: expect.any(String) }]);
    // the same set through the item filter
    const since = app.datasets.items({ datasetId: ds.id, offset: 0, limit: 100, changedSinceVersionId: versionId }).items.map((i) => i.hash).sort();
    expect(since).toEqual([...changed.relabeled.map((i) => i.hash), changed.moved!.hash, changed.excluded!.hash, changed.uploadedHash].sort());

    // a new version frozen now differs from the run's by the same label / split / exclusion changes
    const next = await app.datasets.prepareTraining(ds.id, [32, 32, 3]);
    expect(next.versionId).not.toBe(versionId);
    const vv = (await app.handle('versions.diff', { fromVersionId: versionId, toVersionId: next.versionId })) as VersionDiff;
    expect([vv.relabeled.length, vv.moved.length, vv.removed.length, vv.added.length]).toEqual([3, 1, 1, 0]);
  });

  it('the run’s predictions give a confusion matrix over its version’s val split', async () => {
    const cm = (await app.handle('runs.confusion', { runId, split: 'test' })) as ConfusionMatrix;
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as { items: [string, number, string][] };
    expect(cm.classNames).toEqual(['airplane', 'cat']);
    expect(cm.counts.flat().reduce((a, b) => a + b, 0)).toBe(manifest.items.filter((i) => i[2] === 'test').length);
    expect(cm.accuracy).toBeCloseTo(app.runs.get(runId).testAccuracy!, 6);
  });

  it('deleting a class a frozen version uses is allowed and keeps the version intact', async () => {
    const cat = app.datasets.get(ds.id).classes.find((c) => c.name === 'cat')!;
    const catHashes = app.datasets.items({ datasetId: ds.id, offset: 0, limit: 100, classId: cat.id, excluded: false }).items.map((i) => i.hash);
    expect(await app.handle('classes.delete', { classId: cat.id, confirmCount: cat.counts.total })).toEqual({ unlabeled: cat.counts.total });
    const row = app.db.prepare('SELECT manifest_hash FROM dataset_versions WHERE id = ?').get(versionId) as { manifest_hash: string };
    expect(Buffer.compare(readFileSync(app.datasets.blobs.blobPath(row.manifest_hash)), manifestBytes)).toBe(0);
    expect(app.runs.get(runId).datasetVersionId).toBe(versionId);
    const diff = (await app.handle('versions.diff', { fromVersionId: versionId })) as VersionDiff;
    const toNull = diff.relabeled.filter((r) => r.to === null).map((r) => r.hash);
    // cat images of the version (the 3 relabeled airplanes were not cat in it: airplane → null)
    expect(toNull.sort()).toEqual(catHashes.filter((h) => diff.relabeled.some((r) => r.hash === h)).sort());
    expect(diff.relabeled.every((r) => r.to === null)).toBe(true);
    expect(app.datasets.get(ds.id).classes.map((c) => [c.index, c.name])).toEqual([[0, 'airplane']]);
    // undo brings the class back, same id and place
    await app.handle('labels.undo', { datasetId: ds.id });
    expect(app.datasets.get(ds.id).classes.map((c) => [c.id, c.index, c.name])).toEqual([
      [ds.classes[0].id, 0, 'airplane'],
      [cat.id, 1, 'cat'],
    ]);
    expect(app.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});

describe.skipIf(!cifar)('counts agree on every page and in versions (2 CIFAR-10 classes × 20, 4 unlabeled, 3 excluded)', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  let app: App;
  beforeAll(() => {
    dir = tempDataDir();
    input = tempDir();
    tinyCifarFolder(input.path);
    // Four loose images in the root: imported unlabeled.
    const frogs = join(cifar!, 'test', 'frog');
    for (const f of readdirSync(frogs).filter((n) => n.endsWith('.png')).sort().slice(0, 4)) writeFileSync(join(input.path, `frog-${f}`), readFileSync(join(frogs, f)));
    app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), api: { validateResults: true } });
  });
  afterAll(async () => {
    await app?.shutdown(2000);
    input?.cleanup();
    dir?.cleanup();
  });

  it('excluded images are counted apart everywhere: summary, detail, class table, labeling filters, versions', async () => {
    const job = await app.datasets.waitForImport((await app.datasets.startImport({ path: input.path, name: 'counts' })).jobId);
    const id = job.datasetId!;
    const items = (f: Record<string, unknown> = {}): { total: number } => app.datasets.items({ datasetId: id, offset: 0, limit: 1, ...f });
    const before = app.datasets.get(id);
    const cat = before.classes.find((c) => c.name === 'cat')!;
    // Exclude two labeled cats (one in train, one in val or test) and one unlabeled image.
    const catTrain = app.datasets.items({ datasetId: id, offset: 0, limit: 1, classId: cat.id, split: 'train' }).items[0];
    const catHeld = app.datasets.items({ datasetId: id, offset: 0, limit: 100, classId: cat.id }).items.find((i) => i.split !== 'train')!;
    const loose = app.datasets.items({ datasetId: id, offset: 0, limit: 1, unlabeled: true }).items[0];
    await app.handle('items.exclude', { datasetId: id, itemIds: [catTrain.id, catHeld.id, loose.id], excluded: true, reason: 'test' });

    const summary = ((await app.handle('datasets.list', {})) as DatasetDetail[]).find((d) => d.id === id)!;
    const detail = (await app.handle('datasets.get', { datasetId: id })) as DatasetDetail;
    expect(summary.itemCount).toBe(44);
    expect(summary.excludedCount).toBe(3);
    for (const d of [summary, detail]) {
      expect(d.itemCount).toBe(44);
      expect(d.excludedCount).toBe(3);
      // split counts: images not excluded, labeled or not — what the labeling grid shows with "hide excluded"
      for (const s of ['train', 'val', 'test'] as const) expect(d.counts[s]).toBe(items({ split: s, excluded: false }).total);
      expect(d.counts.train + d.counts.val + d.counts.test + d.excludedCount!).toBe(d.itemCount);
    }
    expect(items({ excluded: true }).total).toBe(summary.excludedCount);
    // class table: labeled images not excluded, per split — the labeling grid filtered to the class and split, excluded hidden
    for (const c of detail.classes) {
      for (const s of ['train', 'val', 'test'] as const) expect(c.counts[s]).toBe(items({ classId: c.id, split: s, excluded: false }).total);
      expect(c.counts.total).toBe(items({ classId: c.id, excluded: false }).total);
    }
    expect(detail.classes.find((c) => c.id === cat.id)!.counts.total).toBe(cat.counts.total - 2);
    const labeled = detail.classes.reduce((s, c) => s + c.counts.total, 0);
    expect(labeled + items({ unlabeled: true, excluded: false }).total + summary.excludedCount!).toBe(summary.itemCount);
    expect(labeled).toBe(38);
    // versions: the frozen training set is the class counts' train + val + test
    await app.datasets.prepareTraining(id, [32, 32, 3]);
    const [v] = (await app.handle('versions.list', { datasetId: id })) as DatasetVersion[];
    expect(v.itemCount).toBe(detail.classes.reduce((s, c) => s + c.counts.train + c.counts.val + c.counts.test, 0));
    expect(v.itemCount).toBe(38);
  });
});
