/**
 * From a model's mistakes back to the labels, on real data through the real services:
 * the MNIST test set (10,000 digits, ../shared/data/mnist-test-idx) imported into a real
 * SQLite file with its default seeded 80/10/10 split; 5% of the val + test items are
 * relabeled at random (seeded) to a wrong class; LeNet-5 trains 2 epochs in a real engine
 * process; the run's predictions give confident-learning suggestions, and the planted
 * errors must rank high: precision at the top 100 ≥ 0.5 (chance: 0.05).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32, shuffle } from '../../src/main/services/datasets-split';
import { createApp, type App } from '../../src/main/services/app';
import type { ConfusionMatrix, DatasetDetail, LabelSuggestion, Result } from '../../src/shared/api';
import { wilsonInterval } from '../../src/main/services/quality-gate';
import { ApiError } from '../../src/shared/errors';
import { buildPreset } from '../../src/shared/spec';
import { REPO_ROOT, sharedData, tempDataDir, type TempDataDir } from '../helpers';

const mnist = sharedData('mnist-test-idx');
const hymenoptera = sharedData('hymenoptera');

const fashionSample = join(REPO_ROOT, 'resources', 'sample', 'fashion-mnist-test');

type Planted = Map<number, { trueClassId: number; givenClassId: number }>;

/**
 * Import `path` (10,000 images, default seeded 80/10/10 split) and relabel 5% of the val +
 * test items at random (seeded) to a wrong class, one assign per target class.
 */
async function importWithPlantedNoise(app: App, path: string, name: string): Promise<{ ds: DatasetDetail; planted: Planted }> {
  const job = await app.datasets.waitForImport((await app.datasets.startImport({ path, name })).jobId);
  expect(job.imported).toBe(10_000);
  const ds = app.datasets.get(job.datasetId!);
  expect(ds.counts.train + ds.counts.val + ds.counts.test).toBe(10_000);
  expect(Math.abs(ds.counts.val - 1000)).toBeLessThanOrEqual(10);
  const planted: Planted = new Map();
  const heldOut = [...app.datasets.items({ datasetId: ds.id, offset: 0, limit: 5000, split: 'val' }).items, ...app.datasets.items({ datasetId: ds.id, offset: 0, limit: 5000, split: 'test' }).items];
  const rand = mulberry32(2024);
  const chosen = shuffle(heldOut.slice(), rand).slice(0, Math.round(heldOut.length * 0.05));
  const byTarget = new Map<number, number[]>();
  for (const it of chosen) {
    const others = ds.classes.filter((c) => c.id !== it.classId);
    const to = others[Math.floor(rand() * others.length)].id;
    planted.set(it.id, { trueClassId: it.classId!, givenClassId: to });
    byTarget.set(to, [...(byTarget.get(to) ?? []), it.id]);
  }
  for (const [classId, itemIds] of byTarget) await app.handle('labels.assign', { datasetId: ds.id, itemIds, classId });
  expect(planted.size).toBe(100);
  return { ds, planted };
}

/** Train LeNet-5 2 epochs on the dataset; returns the run and precision@100 of its suggestions against the planted errors (fewer than 100 suggestions count as misses). */
async function trainAndScore(app: App, ds: DatasetDetail, planted: Planted, label: string): Promise<{ runId: number; precision: number; suggestions: LabelSuggestion[] }> {
  const t0 = performance.now();
  const { runId } = await app.runs.start({
    spec: {
      datasetId: ds.id,
      model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }),
      training: { optimizer: { type: 'adam', learningRate: 1e-3 }, batchSize: 64, epochs: 2 },
      seed: 3,
      backend: 'auto',
    },
  });
  const done = await app.runs.waitFor(runId);
  expect(done.status).toBe('completed');
  const n = (app.db.prepare('SELECT COUNT(*) AS n FROM predictions WHERE run_id = ?').get(runId) as { n: number }).n;
  expect(n).toBe(10_000);
  const { suggestions, total } = (await app.handle('suggestions.list', { runId, limit: 100 })) as { suggestions: LabelSuggestion[]; total: number };
  const hits = suggestions.filter((s) => planted.has(s.item.id));
  const precision = hits.length / 100;
  const recallAll = (app.db.prepare('SELECT item_id FROM suggestions WHERE run_id = ?').pluck().all(runId) as number[]).filter((id) => planted.has(id)).length / planted.size;
  const rightClass = hits.filter((s) => s.suggestedClassId === planted.get(s.item.id)!.trueClassId).length;
  console.log(
    `${label}, LeNet-5 2 epochs on ${done.backend}: test accuracy ${(done.testAccuracy! * 100).toFixed(2)}% (with 5% planted noise in test), ` +
      `${((performance.now() - t0) / 1000).toFixed(0)} s; ${total} suggestions; precision@100 = ${precision.toFixed(2)} (chance 0.05); ` +
      `recall of all planted errors = ${recallAll.toFixed(2)}; suggested class = true class for ${rightClass}/${hits.length} hits`,
  );
  return { runId, precision, suggestions };
}

describe.skipIf(!mnist)('label-error suggestions on MNIST with 5% planted noise in val + test', () => {
  let dir: TempDataDir;
  let app: App;
  let ds: DatasetDetail;
  let planted: Planted;
  let runId: number;

  beforeAll(async () => {
    dir = tempDataDir();
    app = createApp({ dataDir: dir.root, api: { validateResults: true } });
    ({ ds, planted } = await importWithPlantedNoise(app, mnist!, 'mnist'));
  }, 300_000);
  afterAll(async () => {
    await app?.shutdown(5000);
    dir?.cleanup();
  });

  it('trains LeNet-5 for 2 epochs; the planted errors fill the top of the suggestions (precision@100 ≥ 0.5)', async () => {
    const r = await trainAndScore(app, ds, planted, 'MNIST test set (10,000; 8,000 train)');
    runId = r.runId;
    const { suggestions, precision } = r;
    expect(suggestions.length).toBeGreaterThanOrEqual(50);
    expect(precision).toBeGreaterThanOrEqual(0.5);
    // ranked by score (p(suggested) − p(given)), descending
    for (let i = 1; i < suggestions.length; i++) expect(suggestions[i].score).toBeLessThanOrEqual(suggestions[i - 1].score);
    expect(suggestions.every((s) => s.item.split === 'val' || s.item.split === 'test')).toBe(true);
    // A model this good passes the gate: its val accuracy's 95 % lower bound is far above the majority rate.
    const { gate } = (await app.handle('suggestions.list', { runId, limit: 1 })) as Result<'suggestions.list'>;
    expect(gate).toMatchObject({ passed: true, split: 'val', n: ds.counts.val });
    expect(gate!.lower).toBeGreaterThan(gate!.majorityRate);
  }, 900_000);

  it('runs.confusion counts the run’s val predictions; a cell lists exactly its items', async () => {
    const cm = (await app.handle('runs.confusion', { runId, split: 'val' })) as ConfusionMatrix;
    expect(cm.classIds).toEqual(ds.classes.map((c) => c.id));
    expect(cm.counts.flat().reduce((a, b) => a + b, 0)).toBe(ds.counts.val);
    const diag = cm.counts.reduce((s, row, i) => s + row[i], 0);
    expect(cm.accuracy).toBeCloseTo(diag / ds.counts.val, 12);
    // the largest off-diagonal cell → items filter
    let best = { t: 0, p: 1, n: -1 };
    cm.counts.forEach((row, t) => row.forEach((n, p) => t !== p && n > best.n && (best = { t, p, n })));
    const page = app.datasets.items({ datasetId: ds.id, offset: 0, limit: 5000, runId, split: 'val', trueClassId: cm.classIds[best.t], predictedClassId: cm.classIds[best.p] });
    expect(page.total).toBe(best.n);
    expect(page.items.every((i) => i.prediction?.classId === cm.classIds[best.p])).toBe(true);
    const wrong = app.datasets.items({ datasetId: ds.id, offset: 0, limit: 1, runId, split: 'val', misclassified: true });
    expect(wrong.total).toBe(ds.counts.val - diag);
  });

  it('accept relabels (source suggestion, own undo group), exclude excludes with the reason, reject only records', async () => {
    const { suggestions } = (await app.handle('suggestions.list', { runId, limit: 3 })) as { suggestions: LabelSuggestion[] };
    const [a, b, c] = suggestions;
    await app.handle('suggestions.resolve', { runId, itemId: a.item.id, action: 'accept' });
    let item = app.datasets.items({ datasetId: ds.id, offset: 0, limit: 5000, split: a.item.split!, classId: a.suggestedClassId }).items.find((i) => i.id === a.item.id);
    expect(item?.classId).toBe(a.suggestedClassId);
    const h = app.labels.history({ datasetId: ds.id, itemId: a.item.id });
    expect(h.events[0]).toMatchObject({ source: 'suggestion', oldClassId: a.givenClassId, newClassId: a.suggestedClassId, undone: false });
    await app.handle('suggestions.resolve', { runId, itemId: b.item.id, action: 'exclude' });
    item = app.datasets.items({ datasetId: ds.id, offset: 0, limit: 5000, excluded: true }).items.find((i) => i.id === b.item.id);
    expect(item).toMatchObject({ excluded: true, excludeReason: 'suggested label error' });
    await app.handle('suggestions.resolve', { runId, itemId: c.item.id, action: 'reject' });
    const all = (await app.handle('suggestions.list', { runId, status: 'all', limit: 3 })) as { suggestions: LabelSuggestion[] };
    expect(all.suggestions.map((s) => s.status)).toEqual(['accepted', 'excluded', 'rejected']);
    // the exclusion is an undo group of its own (undone first), and so is the accept
    expect(app.labels.undo(ds.id)).toMatchObject({ changed: 1 });
    expect(app.datasets.items({ datasetId: ds.id, offset: 0, limit: 5000, excluded: true }).items.find((i) => i.id === b.item.id)).toBeUndefined();
    expect(app.labels.undo(ds.id)).toMatchObject({ changed: 1 });
    expect(app.labels.history({ datasetId: ds.id, itemId: a.item.id }).events[0].undone).toBe(true);
    await expect(app.handle('suggestions.resolve', { runId, itemId: 999_999, action: 'reject' })).rejects.toMatchObject({ code: 'not_found', field: 'itemId' });
  });
});

describe.skipIf(!existsSync(fashionSample))('label-error suggestions on Fashion-MNIST (the bundled test split) with 5% planted noise in val + test', () => {
  let dir: TempDataDir;
  let app: App;
  afterAll(async () => {
    await app?.shutdown(5000);
    dir?.cleanup();
  });
  it('the planted errors rank high: precision@100 ≥ 0.4 (chance 0.05)', async () => {
    dir = tempDataDir();
    app = createApp({ dataDir: dir.root });
    const { ds, planted } = await importWithPlantedNoise(app, fashionSample, 'fashion');
    const { precision } = await trainAndScore(app, ds, planted, 'Fashion-MNIST test split (10,000; 8,000 train)');
    // Fashion-MNIST is harder (shirt / T-shirt / pullover / coat look alike), so the bar is lower than MNIST's, still 8× chance.
    expect(precision).toBeGreaterThanOrEqual(0.4);
  }, 900_000);
});

describe('the suggestion gate: Wilson score interval', () => {
  it('matches the published values (Wilson 1927; e.g. Newcombe 1998, Stat Med 17: 857–872, table I)', () => {
    // 0/10 → [0, 0.2775]; 5/10 → [0.2366, 0.7634]; 81/263 → [0.2553, 0.3662] (Newcombe's examples)
    const r = (x: [number, number]) => x.map((v) => Number(v.toFixed(4)));
    expect(r(wilsonInterval(0, 10))).toEqual([0, 0.2775]);
    expect(r(wilsonInterval(5, 10))).toEqual([0.2366, 0.7634]);
    expect(r(wilsonInterval(81, 263))).toEqual([0.2553, 0.3662]);
  });
});

describe.skipIf(!hymenoptera)('hymenoptera (train + val, no test split) with a chance-level model', () => {
  let dir: TempDataDir;
  let app: App;
  let runId: number;
  let ds: DatasetDetail;
  beforeAll(async () => {
    dir = tempDataDir();
    app = createApp({ dataDir: dir.root, api: { validateResults: true } });
    const job = await app.datasets.waitForImport((await app.datasets.startImport({ path: hymenoptera!, name: 'hymenoptera' })).jobId);
    ds = app.datasets.get(job.datasetId!);
    expect(ds.counts.test).toBe(0);
    // An untrained linear model (learning rate 1e-9): what chance looks like, with confident softmax outputs.
    ({ runId } = await app.runs.start({
      spec: {
        datasetId: ds.id,
        model: buildPreset('linear', { inputShape: [32, 32, 3], numClasses: 2 }),
        training: { optimizer: { type: 'sgd', learningRate: 1e-9 }, batchSize: 32, epochs: 1 },
        seed: 5,
        backend: 'auto',
      },
    }));
    expect((await app.runs.waitFor(runId)).status).toBe('completed');
  }, 300_000);
  afterAll(async () => {
    await app?.shutdown(5000);
    dir?.cleanup();
  });

  it('test accuracy is null, not 0; the confusion matrix is of val (the split with images), and test is refused', async () => {
    const run = (await app.handle('runs.get', { runId })) as Result<'runs.get'>;
    expect(run.testAccuracy).toBeNull();
    expect(run.testLoss).toBeNull();
    expect(app.db.prepare('SELECT test_accuracy FROM runs WHERE id = ?').pluck().get(runId)).toBeNull();
    const cm = (await app.handle('runs.confusion', { runId })) as ConfusionMatrix;
    expect(cm.split).toBe('val');
    expect(cm.splitCounts).toEqual({ train: ds.counts.train, val: ds.counts.val, test: 0 });
    expect(cm.counts.flat().reduce((a, b) => a + b, 0)).toBe(ds.counts.val);
    let err: unknown;
    await app.handle('runs.confusion', { runId, split: 'test' }).catch((e) => (err = e));
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'invalid_params', field: 'split' });
    expect((err as Error).message).toContain(`run ${runId} has no test images; its predictions cover train (${ds.counts.train}), val (${ds.counts.val})`);
  });

  it('offers no suggestions, and says why with the figures (val accuracy interval vs the majority-class rate)', async () => {
    const r = (await app.handle('suggestions.list', { runId })) as Result<'suggestions.list'>;
    const gate = r.gate!;
    const byClass = new Map(ds.classes.map((c) => [c.id, c.counts.val]));
    const majority = Math.max(...byClass.values());
    expect(gate).toMatchObject({ passed: false, split: 'val', n: ds.counts.val });
    expect(gate.majorityRate).toBeCloseTo(majority / ds.counts.val, 12);
    expect(byClass.get(gate.majorityClassId!)).toBe(majority);
    const right = app.db.prepare("SELECT COUNT(*) FROM predictions WHERE run_id = ? AND split = 'val' AND given_class_id = predicted_class_id").pluck().get(runId) as number;
    expect(gate.correct).toBe(right);
    expect([gate.lower, gate.upper]).toEqual(wilsonInterval(right, ds.counts.val));
    expect(gate.lower).toBeLessThanOrEqual(gate.majorityRate);
    expect(r.total).toBe(0);
    expect(r.suggestions).toEqual([]);
    console.log(`hymenoptera, untrained linear: val accuracy ${(gate.accuracy! * 100).toFixed(1)}% (95% ${(gate.lower * 100).toFixed(1)}–${(gate.upper * 100).toFixed(1)}%), majority ${(gate.majorityRate * 100).toFixed(1)}%: no suggestions`);
  });
});
