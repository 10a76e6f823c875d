/**
 * Attack jobs through the API and the CLI with real engine processes, on a LeNet-5 run trained
 * here on 2 CIFAR-10 classes × 20 images: the accuracy-vs-ε result (ε = 0 = the clean accuracy,
 * PGD no stronger at smaller ε), progress events, the gallery, params refused with their field,
 * cancel, and `layerwise attack RUN` (table and --json).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../../src/main/host/cli-program';
import type { App } from '../../src/main/services/app';
import type { Item, RunDetail, RunSummary } from '../../src/shared/api';
import { loadPixels } from '../../src/main/services/pack';
import type { AttackResult } from '../../src/shared/attack';
import { ApiError } from '../../src/shared/errors';
import type { EngineJob } from '../../src/shared/inspect';
import { cifar } from './runs-helpers';
import { jobFinished, trainedLenet, type TrainedRun } from './trained-run';

describe.skipIf(!cifar)('attack jobs on a trained LeNet-5 (2 CIFAR-10 classes × 20 images)', () => {
  let trained: TrainedRun;
  let app: App;
  let runId: number;

  beforeAll(async () => {
    trained = await trainedLenet(4);
    ({ app, runId } = trained);
  }, 240_000);
  afterAll(async () => {
    await trained?.close();
  });

  it('answers accuracy vs ε for FGSM and PGD with progress and a gallery', async () => {
    const progress: EngineJob[] = [];
    const { jobId } = (await app.handle('attack.start', { runId, params: { epsilons: [0, 2, 8, 32], steps: 5, split: 'train', maxImages: 0, galleryCount: 2 } })) as { jobId: number };
    const job = await jobFinished(app, jobId, progress);
    expect(job.status, job.error ?? '').toBe('completed');
    expect(job.kind).toBe('attack');
    expect(progress.some((p) => p.phase === 'gradients' && p.done > 0)).toBe(true);
    const r = (await app.handle('attack.result', { jobId })) as AttackResult;
    expect(r.count).toBeGreaterThan(20);
    expect(r.points).toHaveLength(8);
    const at = (m: string, e: number) => r.points.find((p) => p.method === m && p.epsilon === e)!.accuracy;
    expect(at('fgsm', 0)).toBe(r.cleanAccuracy);
    expect(at('pgd', 0)).toBe(r.cleanAccuracy);
    for (const [a, b] of [[0, 2], [2, 8], [8, 32]]) expect(at('pgd', b)).toBeLessThanOrEqual(at('pgd', a));
    expect(at('pgd', 32)).toBeLessThan(r.cleanAccuracy);
    expect(r.gallery.items).toHaveLength(2);
    expect(r.gallery.classNames).toEqual(['airplane', 'cat']);
    expect(Buffer.from(r.gallery.items[0].entries[0].adversarial, 'base64')).toHaveLength(32 * 32 * 3);
  });

  it('adversarial training: the run reports val_robust_accuracy per epoch, shown in runs.list and runs.compare', async () => {
    const base = (await app.handle('runs.get', { runId })) as RunDetail;
    const spec = { ...base.spec, training: { ...base.spec.training, epochs: 2, adversarial: { method: 'fgsm', ratio: 0.5, epsilon: 4, steps: 1, robustEpsilon: 4, robustSteps: 3, robustImages: 50 } } };
    const advId = ((await app.handle('runs.start', { spec })) as { runId: number }).runId;
    expect((await app.runs.waitFor(advId)).status).toBe('completed');
    const robust = app.runs.metrics(advId).filter((m) => m.name === 'val_robust_accuracy');
    expect(robust.map((m) => m.epoch)).toEqual([0, 1]);
    const list = (await app.handle('runs.list', {})) as RunSummary[];
    const adv = list.find((r) => r.id === advId)!;
    const tested = adv.bestEpoch ?? 1;
    expect(adv.valRobustAccuracy).toBe(robust.find((m) => m.epoch === tested)!.value);
    expect(adv.robustEpsilon).toBe(4);
    expect(list.find((r) => r.id === runId)!.valRobustAccuracy).toBeNull();
    const cmp = (await app.handle('runs.compare', { runIds: [runId, advId] })) as { runs: { id: number; valRobustAccuracy: number | null }[] };
    expect(cmp.runs.map((r) => r.valRobustAccuracy)).toEqual([null, adv.valRobustAccuracy]);
  });

  it('saves the kept adversarial images as a new dataset of 8-bit PNGs, labels kept, pixels as the engine rounded them', async () => {
    const { jobId } = (await app.handle('attack.start', { runId, params: { methods: ['fgsm'], epsilons: [0, 8], split: 'train', maxImages: 12, galleryCount: 12, save: { method: 'fgsm', epsilon: 8 } } })) as { jobId: number };
    const job = await jobFinished(app, jobId);
    expect(job.status, job.error ?? '').toBe('completed');
    const r = (await app.handle('attack.result', { jobId })) as AttackResult;
    expect(r.saved).toEqual({ method: 'fgsm', epsilon: 8, count: 12 });
    const { importJobId, name } = (await app.handle('attack.saveDataset', { jobId, name: 'adv fgsm 8' })) as { importJobId: number; name: string };
    expect(name).toBe('adv fgsm 8');
    const imp = await app.datasets.waitForImport(importJobId);
    expect(imp.status).toBe('done');
    const d = (await app.handle('datasets.get', { datasetId: imp.datasetId })) as { classes: { name: string; counts: { total: number } }[] };
    const byClass = Object.fromEntries(d.classes.map((c) => [c.name, c.counts.total]));
    const want: Record<string, number> = {};
    for (const item of r.gallery.items) want[r.gallery.classNames[item.label]] = (want[r.gallery.classNames[item.label]] ?? 0) + 1;
    expect(byClass).toEqual(want);
    const items = ((await app.handle('datasets.items', { datasetId: imp.datasetId, offset: 0, limit: 50 })) as { items: Item[] }).items;
    expect(items).toHaveLength(12);
    // Every image keeps its source image's split (all 12 came from train), not the new dataset's 80/10/10 rule.
    expect(items.map((i) => i.split)).toEqual(Array(12).fill('train'));
    for (const g of r.gallery.items) {
      const item = items.find((i) => i.name === `fgsm-eps8-item${g.packIndex}.png`)!;
      const stored = await loadPixels(app.blobs, item.hash, 32, 32, 3);
      expect(Buffer.compare(stored, Buffer.from(g.entries.find((e) => e.epsilon === 8)!.adversarial, 'base64'))).toBe(0);
    }
    // A job without params.save kept nothing.
    const plain = (await app.handle('attack.start', { runId, params: { methods: ['fgsm'], epsilons: [4], maxImages: 4, split: 'train' } })) as { jobId: number };
    await jobFinished(app, plain.jobId);
    await expect(app.handle('attack.saveDataset', { jobId: plain.jobId })).rejects.toMatchObject({ code: 'conflict', field: 'jobId' });
  });

  it('saved attacked test images stay in test in the new dataset', async () => {
    const source = ((await app.handle('datasets.items', { datasetId: trained.datasetId, offset: 0, limit: 100, split: 'test' })) as { items: Item[]; total: number });
    expect(source.items.length).toBeGreaterThan(0);
    const { jobId } = (await app.handle('attack.start', { runId, params: { methods: ['fgsm'], epsilons: [4], split: 'test', maxImages: 0, galleryCount: 0, save: { method: 'fgsm', epsilon: 4 } } })) as { jobId: number };
    expect((await jobFinished(app, jobId)).status).toBe('completed');
    const { importJobId } = (await app.handle('attack.saveDataset', { jobId })) as { importJobId: number };
    const imp = await app.datasets.waitForImport(importJobId);
    expect(imp.status).toBe('done');
    const items = ((await app.handle('datasets.items', { datasetId: imp.datasetId, offset: 0, limit: 100 })) as { items: Item[] }).items;
    expect(items).toHaveLength(source.items.length);
    expect(new Set(items.map((i) => i.split))).toEqual(new Set(['test']));
  });

  it('refuses bad params with their field, and an unknown run', async () => {
    await expect(app.handle('attack.start', { runId, params: { epsilons: [300] } })).rejects.toMatchObject({ code: 'invalid_params', field: 'params.epsilons[0]' });
    await expect(app.handle('attack.start', { runId: 999, params: {} })).rejects.toBeInstanceOf(ApiError);
    await expect(app.handle('attack.start', { runId, epoch: 50, params: {} })).rejects.toMatchObject({ code: 'invalid_params', field: 'epoch' });
  });

  it('is cancelled by jobs.cancel', async () => {
    const { jobId } = (await app.handle('attack.start', { runId, params: { methods: ['pgd'], epsilons: [4, 8, 16, 32], steps: 200, split: 'train' } })) as { jobId: number };
    const progress: EngineJob[] = [];
    const done = jobFinished(app, jobId, progress);
    while (!progress.some((p) => p.phase === 'gradients')) await new Promise((r) => setTimeout(r, 50));
    expect(((await app.handle('jobs.cancel', { jobId })) as { ok: boolean }).ok).toBe(true);
    expect((await done).status).toBe('cancelled');
  });

  it('layerwise attack RUN prints accuracy per ε; --json the same figures', async () => {
    await app.shutdown(2000);
    const dataDir = app.paths.root;
    const lines: string[] = [];
    const errors: string[] = [];
    const io: CliIO = { out: (l) => lines.push(l), err: (l) => errors.push(l), progressStream: { isTTY: false } as NodeJS.WriteStream, onInterrupt: () => () => undefined };
    const args = (...a: string[]) => ['node', 'layerwise', 'attack', String(runId), '--eps', '0,4,16', '--steps', '3', '--split', 'train', '--data-dir', dataDir, ...a];
    expect(await runCli(args(), io), errors.join('\n')).toBe(0);
    const text = lines.join('\n');
    expect(text).toMatch(/clean \d+\.\d\d%/);
    expect(text).toMatch(/ε \(\/255\)\s+FGSM\s+PGD-3/);
    expect(lines.filter((l) => /^(0|4|16)\s+\d/.test(l))).toHaveLength(3);
    lines.length = 0;
    expect(await runCli(args('--json', '--method', 'fgsm'), io), errors.join('\n')).toBe(0);
    const j = JSON.parse(lines.join('\n')) as AttackResult & { runId: number };
    expect(j.runId).toBe(runId);
    expect(j.points.map((p) => [p.method, p.epsilon])).toEqual([['fgsm', 0], ['fgsm', 4], ['fgsm', 16]]);
    expect(j.points[0].accuracy).toBe(j.cleanAccuracy);
    expect('gallery' in j).toBe(false);
    expect(await runCli(args('--method', 'cw'), io)).toBe(2);
  });
});
