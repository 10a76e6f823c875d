/**
 * LabelService through the API router on a real SQLite file and real CIFAR-10 images
 * (2 classes, given train/test folders): labels with undo/redo across restarts, classes,
 * exclusions, moves, uploads, filters, splits that never move test images silently, and a
 * planted near-duplicate (a train image resized and re-encoded as JPEG in test).
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/main/services/app';
import type { ApiEvent } from '../../src/main/events';
import type { ClassInfo, DatasetDetail, Item } from '../../src/shared/api';
import { tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { cifar, RecordingLauncher } from './runs-helpers';

type Err = { code: string; field?: string; message: string };
async function refusal(p: Promise<unknown>): Promise<Err> {
  try {
    await p;
  } catch (err) {
    return err as Err;
  }
  throw new Error('expected a refusal');
}

describe.skipIf(!cifar)('labeling on 2 CIFAR-10 classes (15 train + 5 test each, one planted near-duplicate)', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  let app: App;
  let ds: DatasetDetail;
  let plantedSource = '';
  const events: ApiEvent[] = [];
  const open = (): App => {
    const a = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), api: { validateResults: true } });
    a.onEvent((e) => events.push(e));
    return a;
  };
  const call = <T>(method: string, params: unknown): Promise<T> => app.handle(method, params) as Promise<T>;
  const allItems = (): Item[] => app.datasets.items({ datasetId: ds.id, offset: 0, limit: 5000 }).items;
  const cls = (name: string): ClassInfo => app.datasets.get(ds.id).classes.find((c) => c.name === name)!;
  const restart = async (): Promise<void> => {
    await app.shutdown(1000);
    app = open();
  };

  beforeAll(async () => {
    dir = tempDataDir();
    input = tempDir();
    for (const c of ['airplane', 'cat']) {
      const files = readdirSync(join(cifar!, 'train', c)).filter((f) => f.endsWith('.png')).sort();
      for (const [split, list] of [['train', files.slice(0, 15)], ['test', files.slice(15, 20)]] as const) {
        mkdirSync(join(input.path, split, c), { recursive: true });
        for (const f of list) copyFileSync(join(cifar!, 'train', c, f), join(input.path, split, c, f));
      }
    }
    // The planted pair: a train airplane, upscaled to 64×64 and saved as JPEG, in test.
    plantedSource = readdirSync(join(input.path, 'train', 'airplane')).sort()[0];
    await sharp(join(input.path, 'train', 'airplane', plantedSource)).resize(64, 64).jpeg({ quality: 85 }).toFile(join(input.path, 'test', 'airplane', 'planted.jpg'));
    app = open();
    const job = await app.datasets.waitForImport((await app.datasets.startImport({ path: input.path, name: 'tiny' })).jobId);
    expect(job.imported).toBe(41);
    ds = app.datasets.get(job.datasetId!);
  });
  afterAll(async () => {
    await app?.shutdown(1000);
    input?.cleanup();
    dir?.cleanup();
  });

  it('assign, undo and redo survive restarts; a new assign after undo drops the redo stack', async () => {
    const airplane = cls('airplane'), cat = cls('cat');
    const planes = allItems().filter((i) => i.classId === airplane.id && i.split === 'train');
    const trainPlanes = planes.length; // 15 minus the 10% carved into val
    const five = planes.slice(0, 5).map((i) => i.id);
    events.length = 0;
    const t0 = performance.now();
    const g1 = await call<{ changed: number; groupId: number }>('labels.assign', { datasetId: ds.id, itemIds: five, classId: cat.id });
    console.log(`assign 5 through the router: ${(performance.now() - t0).toFixed(1)} ms`);
    expect(g1.changed).toBe(5);
    expect(events).toContainEqual({ event: 'dataset.changed', payload: { datasetId: ds.id, what: 'labels' } });
    // unchanged items get no event and no group
    expect(await call('labels.assign', { datasetId: ds.id, itemIds: five, classId: cat.id })).toEqual({ changed: 0, groupId: 0 });
    const g2 = await call<{ changed: number; groupId: number }>('labels.assign', { datasetId: ds.id, itemIds: [five[0], planes[5].id], classId: null });
    expect(g2.changed).toBe(2);
    let h = await call<{ events: { groupId: number; oldClassId: number | null; newClassId: number | null; source: string }[]; canUndo: boolean; canRedo: boolean }>('labels.history', { datasetId: ds.id, limit: 7 });
    expect(h.events.slice(0, 7).map((e) => e.groupId)).toEqual([g2.groupId, g2.groupId, g1.groupId, g1.groupId, g1.groupId, g1.groupId, g1.groupId]);
    expect(h.events[0]).toMatchObject({ newClassId: null, source: 'user' });
    expect(h).toMatchObject({ canUndo: true, canRedo: false });

    await restart();
    expect(await call('labels.undo', { datasetId: ds.id })).toEqual({ groupId: g2.groupId, changed: 2 });
    await restart();
    h = await call('labels.history', { datasetId: ds.id, limit: 2 });
    expect(h).toMatchObject({ canUndo: true, canRedo: true });
    expect(h.events.every((e) => (e as { undone?: boolean }).undone)).toBe(true);
    expect(await call('labels.redo', { datasetId: ds.id })).toEqual({ groupId: g2.groupId, changed: 2 });
    expect(allItems().find((i) => i.id === five[0])!.classId).toBeNull();
    expect(await call('labels.undo', { datasetId: ds.id })).toEqual({ groupId: g2.groupId, changed: 2 });
    expect(await call('labels.undo', { datasetId: ds.id })).toEqual({ groupId: g1.groupId, changed: 5 });
    expect(allItems().filter((i) => i.classId === airplane.id && i.split === 'train')).toHaveLength(trainPlanes);
    // redo stack is [g1, g2]; a new assign drops it
    const g3 = await call<{ groupId: number }>('labels.assign', { datasetId: ds.id, itemIds: [planes[7].id], classId: cat.id });
    expect(await call('labels.redo', { datasetId: ds.id })).toEqual({ groupId: null, changed: 0 });
    expect(await call('labels.undo', { datasetId: ds.id })).toEqual({ groupId: g3.groupId, changed: 1 });
    expect(await call('labels.redo', { datasetId: ds.id })).toEqual({ groupId: g3.groupId, changed: 1 });
    expect(await call('labels.undo', { datasetId: ds.id })).toEqual({ groupId: g3.groupId, changed: 1 });
    expect(await call('labels.undo', { datasetId: ds.id })).toEqual({ groupId: null, changed: 0 }); // g1, g2 were discarded; import events are not undoable
    expect(app.datasets.get(ds.id).classes.map((c) => c.counts.total)).toEqual([21, 20]);
  });

  it('refuses bad input with clear messages and loses nothing', async () => {
    const before = app.datasets.get(ds.id);
    const rows = app.db.prepare('SELECT COUNT(*) FROM label_events').pluck().get();
    const item = allItems()[0];
    let e = await refusal(call('labels.assign', { datasetId: ds.id, itemIds: [item.id], classId: 9999 }));
    expect(e).toMatchObject({ code: 'not_found', field: 'classId', message: 'classId: class 9999 not found' });
    app.db.prepare(`INSERT INTO datasets (id, name, created_at, split_config) VALUES (99, 'other', 0, '{}')`).run();
    app.db.prepare(`INSERT INTO classes (id, dataset_id, idx, name) VALUES (999, 99, 0, 'x')`).run();
    e = await refusal(call('labels.assign', { datasetId: ds.id, itemIds: [item.id], classId: 999 }));
    expect(e).toMatchObject({ code: 'invalid_params', field: 'classId' });
    expect(e.message).toBe(`classId: class 999 belongs to dataset 99, not to dataset ${ds.id}`);
    e = await refusal(call('labels.assign', { datasetId: 99, itemIds: [item.id], classId: 999 }));
    expect(e).toMatchObject({ code: 'invalid_params', field: 'itemIds' });
    const cat = cls('cat');
    e = await refusal(call('classes.merge', { sourceClassId: cat.id, targetClassId: cat.id }));
    expect(e).toMatchObject({ code: 'invalid_params', field: 'targetClassId', message: `targetClassId: cannot merge class "cat" (${cat.id}) into itself; choose another target class` });
    e = await refusal(call('classes.merge', { sourceClassId: cat.id, targetClassId: 999 }));
    expect(e).toMatchObject({ field: 'targetClassId' });
    e = await refusal(call('classes.delete', { classId: cat.id, confirmCount: cat.counts.total - 1 }));
    expect(e).toMatchObject({ code: 'conflict', field: 'confirmCount', message: `confirmCount: class "cat" has ${cat.counts.total} images, but confirmCount is ${cat.counts.total - 1}; nothing was deleted` });
    e = await refusal(call('classes.add', { datasetId: ds.id, name: ' cat ' }));
    expect(e).toMatchObject({ code: 'conflict', field: 'name' });
    app.db.prepare('DELETE FROM datasets WHERE id = 99').run();
    expect(app.datasets.get(ds.id)).toEqual(before);
    expect(app.db.prepare('SELECT COUNT(*) FROM label_events').pluck().get()).toBe(rows);
    expect(app.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(app.db.pragma('foreign_key_check')).toEqual([]);
  });

  it('classes: add, rename, recolour; merge and delete are undoable label groups; idx stays 0…n−1', async () => {
    const bird = await call<ClassInfo>('classes.add', { datasetId: ds.id, name: 'bird', color: '#00ff00' });
    expect(bird).toMatchObject({ index: 2, name: 'bird', color: '#00ff00', counts: { total: 0 } });
    expect(await call('classes.update', { classId: bird.id, name: 'birdie', color: '#0000ff' })).toMatchObject({ name: 'birdie', color: '#0000ff' });
    const airplane = cls('airplane'), cat = cls('cat');
    const idx = (): string[] => app.datasets.get(ds.id).classes.map((c) => `${c.index}:${c.name}`);
    // merge airplane (idx 0) into birdie
    expect(await call('classes.merge', { sourceClassId: airplane.id, targetClassId: bird.id })).toEqual({ moved: airplane.counts.total });
    expect(idx()).toEqual(['0:cat', '1:birdie']);
    expect(cls('birdie').counts.total).toBe(airplane.counts.total);
    expect((await refusal(call('labels.assign', { datasetId: ds.id, itemIds: [allItems()[0].id], classId: airplane.id }))).message).toBe(`classId: class ${airplane.id} was deleted`);
    await call('labels.undo', { datasetId: ds.id });
    expect(idx()).toEqual(['0:airplane', '1:cat', '2:birdie']);
    expect(cls('airplane')).toMatchObject({ id: airplane.id, counts: airplane.counts });
    await call('labels.redo', { datasetId: ds.id });
    expect(idx()).toEqual(['0:cat', '1:birdie']);
    await call('labels.undo', { datasetId: ds.id });
    // delete cat: its images become unlabeled; undo restores it
    const r = await call<{ unlabeled: number }>('classes.delete', { classId: cat.id, confirmCount: cat.counts.total });
    expect(r.unlabeled).toBe(cat.counts.total);
    expect(idx()).toEqual(['0:airplane', '1:birdie']);
    expect(app.datasets.items({ datasetId: ds.id, offset: 0, limit: 1, unlabeled: true }).total).toBe(cat.counts.total);
    await call('labels.undo', { datasetId: ds.id });
    expect(idx()).toEqual(['0:airplane', '1:cat', '2:birdie']);
    expect(cls('cat').counts).toEqual(cat.counts);
    await call('classes.delete', { classId: bird.id, confirmCount: 0 });
    expect(idx()).toEqual(['0:airplane', '1:cat']);
    expect(app.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('moves: a test image never leaves test without allowFromTest; exclusions with reasons; filters and ids', async () => {
    const test = app.datasets.items({ datasetId: ds.id, offset: 0, limit: 100, split: 'test' }).items;
    const train = app.datasets.items({ datasetId: ds.id, offset: 0, limit: 100, split: 'train' }).items;
    const e = await refusal(call('items.move', { datasetId: ds.id, itemIds: [test[0].id, train[0].id], split: 'train' }));
    expect(e).toMatchObject({ code: 'conflict', field: 'allowFromTest' });
    expect(e.message).toMatch(/^allowFromTest: 1 of the 2 items are in the test split;.*Nothing was moved/);
    expect(app.datasets.items({ datasetId: ds.id, offset: 0, limit: 100, split: 'test' }).total).toBe(test.length);
    expect(await call('items.move', { datasetId: ds.id, itemIds: [train[0].id, train[1].id], split: 'val' })).toEqual({ changed: 2 });
    expect(await call('items.move', { datasetId: ds.id, itemIds: [test[0].id], split: 'train', allowFromTest: true })).toEqual({ changed: 1 });
    await call('items.move', { datasetId: ds.id, itemIds: [test[0].id], split: 'test' });

    expect(await call('items.exclude', { datasetId: ds.id, itemIds: [train[2].id, train[3].id], excluded: true, reason: 'blurry' })).toEqual({ changed: 2 });
    const ex = app.datasets.items({ datasetId: ds.id, offset: 0, limit: 10, excluded: true });
    expect(ex.items.map((i) => [i.id, i.excluded, i.excludeReason])).toEqual([
      [train[2].id, true, 'blurry'],
      [train[3].id, true, 'blurry'],
    ]);
    expect(app.datasets.items({ datasetId: ds.id, offset: 0, limit: 1, excluded: false }).total).toBe(41 - 2);
    expect(app.datasets.get(ds.id).classes.reduce((s, c) => s + c.counts.total, 0)).toBe(39);
    const ids = await call<{ ids: number[] }>('items.ids', { datasetId: ds.id, split: 'train', excluded: false, classId: cls('cat').id });
    expect(ids.ids).toEqual(app.datasets.items({ datasetId: ds.id, offset: 0, limit: 100, split: 'train', excluded: false, classId: cls('cat').id }).items.map((i) => i.id));
    expect(await call('items.exclude', { datasetId: ds.id, itemIds: [train[2].id, train[3].id], excluded: false })).toEqual({ changed: 2 });
    await call('items.move', { datasetId: ds.id, itemIds: [train[0].id, train[1].id], split: 'train' });
  });

  it('undo and redo cover exclusions, split moves and merges (across a restart); History says each in words, the import too', async () => {
    type History = { groups: { kind: string; text: string; undone: boolean; source: string; count: number }[]; canUndo: boolean; canRedo: boolean };
    const state = (): string => JSON.stringify(allItems().map((i) => [i.id, i.classId, i.split, i.excluded, i.excludeReason]));
    const history = (): Promise<History> => call<History>('labels.history', { datasetId: ds.id });
    const start = state();
    const train = app.datasets.items({ datasetId: ds.id, offset: 0, limit: 100, split: 'train', classId: cls('cat').id }).items;
    const [a, b, c] = train;
    const catImages = app.datasets.items({ datasetId: ds.id, offset: 0, limit: 1, classId: cls('cat').id }).total;
    const undo = () => call<{ groupId: number | null; changed: number }>('labels.undo', { datasetId: ds.id });
    const redo = () => call<{ groupId: number | null; changed: number }>('labels.redo', { datasetId: ds.id });

    // exclude a with a reason, then b and a again with another reason: undo restores a's first reason
    await call('items.exclude', { datasetId: ds.id, itemIds: [a.id], excluded: true, reason: 'blurry' });
    const afterFirst = state();
    expect(await call('items.exclude', { datasetId: ds.id, itemIds: [a.id, b.id], excluded: true, reason: 'not a cat' })).toEqual({ changed: 2 });
    await call('items.move', { datasetId: ds.id, itemIds: [b.id, c.id], split: 'val' });
    const afterMove = state();
    await call('classes.merge', { sourceClassId: cls('cat').id, targetClassId: cls('airplane').id });
    const afterMerge = state();
    let h = await history();
    expect(h.groups.slice(0, 4).map((g) => g.text)).toEqual([
      `class “cat” merged into “airplane” (${catImages} images)`,
      '2 images moved to val (from train)',
      '2 images excluded from training (“not a cat”)',
      '1 image excluded from training (“blurry”)',
    ]);
    // The oldest line: what the import did.
    expect(h.groups.at(-1)).toMatchObject({ kind: 'import', source: 'import', count: 41, text: '41 images imported into 2 classes' });

    events.length = 0;
    expect(await undo()).toMatchObject({ changed: catImages });
    expect(state()).toBe(afterMove);
    expect(await undo()).toMatchObject({ changed: 2 });
    expect(events.some((e) => e.event === 'dataset.changed' && e.payload.what === 'splits')).toBe(true);
    expect(app.datasets.items({ datasetId: ds.id, offset: 0, limit: 100, split: 'val' }).items.map((i) => i.id)).not.toContain(b.id);
    expect(await undo()).toMatchObject({ changed: 2 });
    expect(state()).toBe(afterFirst);
    expect(app.datasets.items({ datasetId: ds.id, offset: 0, limit: 10, excluded: true }).items.map((i) => [i.id, i.excludeReason])).toEqual([[a.id, 'blurry']]);
    h = await history();
    expect(h.groups.slice(0, 4).map((g) => g.undone)).toEqual([true, true, true, false]);
    expect(h.canRedo).toBe(true);

    // the redo stack survives a restart; redo re-applies in order
    await restart();
    await redo();
    await redo();
    expect(state()).toBe(afterMove);
    await redo();
    expect(state()).toBe(afterMerge);
    expect((await redo()).groupId).toBeNull();
    // back to the start: every action undone, nothing left over
    for (let k = 0; k < 4; k++) await undo();
    expect(state()).toBe(start);
    expect(app.datasets.get(ds.id).classes.map((x) => x.name)).toEqual(['airplane', 'cat']);
    // a new action discards the redo stack, and is itself undoable
    await call('items.exclude', { datasetId: ds.id, itemIds: [c.id], excluded: true });
    h = await history();
    expect(h.canRedo).toBe(false);
    expect(h.groups[0]).toMatchObject({ kind: 'exclude', text: '1 image excluded from training', undone: false, source: 'user' });
    expect(h.groups.filter((g) => g.kind === 'import')).toHaveLength(1);
    await undo();
    expect(state()).toBe(start);
  });

  it('setSplit keeps test items in test unless allowFromTest', async () => {
    const testIds = (): number[] => app.datasets.items({ datasetId: ds.id, offset: 0, limit: 100, split: 'test' }).items.map((i) => i.id).sort();
    const before = testIds();
    events.length = 0;
    const d = await call<DatasetDetail>('datasets.setSplit', { datasetId: ds.id, split: { mode: 'random', train: 60, val: 10, test: 30, valFromTrain: 10, seed: 9 } });
    expect(events).toContainEqual({ event: 'dataset.changed', payload: { datasetId: ds.id, what: 'splits' } });
    const after = testIds();
    expect(before.every((id) => after.includes(id))).toBe(true); // none left test
    expect(d.counts.test).toBeGreaterThan(before.length); // more went in to reach 30%
    const smaller = await call<DatasetDetail>('datasets.setSplit', { datasetId: ds.id, split: { mode: 'random', train: 80, val: 10, test: 10, valFromTrain: 10, seed: 9 } });
    expect(smaller.counts.test).toBe(after.length); // shrinking test needs the flag
    const full = await call<DatasetDetail>('datasets.setSplit', { datasetId: ds.id, split: { mode: 'random', train: 80, val: 10, test: 10, valFromTrain: 10, seed: 9 }, allowFromTest: true });
    expect(full.counts.test).toBe(4); // 2 per class (20 + 21 images)
    await call('datasets.setSplit', { datasetId: ds.id, split: { mode: 'given', train: 80, val: 10, test: 10, valFromTrain: 0, seed: 1 }, allowFromTest: true });
    expect(testIds()).toEqual(before);
  });

  it('uploads: new images become unlabeled items with a split; duplicates counted; bad files skipped with reasons', async () => {
    const fresh = readFileSync(join(cifar!, 'test', 'ship', readdirSync(join(cifar!, 'test', 'ship')).sort()[0]));
    const dup = readFileSync(join(input.path, 'train', 'cat', readdirSync(join(input.path, 'train', 'cat')).sort()[0]));
    const r = await call<{ imported: number; duplicates: number; skipped: { path: string; reason: string }[] }>('items.upload', {
      datasetId: ds.id,
      files: [
        { name: 'ship.png', dataBase64: fresh.toString('base64') },
        { name: 'again.png', dataBase64: dup.toString('base64') },
        { name: 'notes.txt', dataBase64: Buffer.from('hello').toString('base64') },
      ],
    });
    expect(r).toEqual({ imported: 1, duplicates: 1, skipped: [{ path: 'notes.txt', reason: 'not an image: unrecognised format (.txt)' }] });
    const un = app.datasets.items({ datasetId: ds.id, offset: 0, limit: 10, unlabeled: true }).items;
    expect(un).toHaveLength(1);
    expect(un[0]).toMatchObject({ name: 'ship.png', classId: null, width: 32, height: 32 });
    expect(un[0].split).not.toBeNull();
    const big = 'A'.repeat(44 * 2 ** 20); // 33 MiB decoded
    expect(await refusal(call('items.upload', { datasetId: ds.id, files: [{ name: 'big.png', dataBase64: big }] }))).toMatchObject({ code: 'invalid_params', field: 'files' });
  });

  it('duplicates.near finds the planted resized JPEG in test as a leak of its train original', async () => {
    // older blobs have no perceptual hash yet: computed lazily
    app.db.prepare('UPDATE blobs SET phash = NULL').run();
    const t0 = performance.now();
    const r = await call<{ pairs: { a: Item; b: Item; distance: number; leakage: boolean }[]; leakageCount: number; exactDuplicatesSkipped: number }>('duplicates.near', { datasetId: ds.id, maxDistance: 6 });
    console.log(`near-duplicates on 42 items: ${(performance.now() - t0).toFixed(0)} ms, ${r.pairs.length} pairs, planted distance ${r.pairs[0]?.distance}`);
    const planted = r.pairs.find((p) => [p.a.name, p.b.name].includes('planted.jpg') && [p.a.name, p.b.name].includes(plantedSource));
    expect(planted).toBeDefined();
    expect(planted!.leakage).toBe(true);
    expect(planted!.distance).toBeLessThanOrEqual(6);
    expect(r.pairs[0].leakage).toBe(true);
    expect(r.leakageCount).toBeGreaterThanOrEqual(1);
    expect(app.db.prepare('SELECT COUNT(*) FROM blobs WHERE phash IS NULL AND format = ?').pluck().get('png')).toBe(0);
  });
});
