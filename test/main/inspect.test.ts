/**
 * Inspect jobs through the API with real engine processes, on a LeNet-5 run trained here on
 * 2 CIFAR-10 classes × 20 images: checkpoints and the default epoch, filters, activations of
 * a dataset item (its pixels as the pack decodes them) and of a dropped file, Grad-CAM over
 * several items, progress events, cancel, and a damaged checkpoint failing the job with the
 * file named. Main stays free meanwhile (a request is answered while a job runs).
 */
import { readFileSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../src/main/events';
import type { App } from '../../src/main/services/app';
import { loadPixels } from '../../src/main/services/pack';
import type { Item } from '../../src/shared/api';
import type { EngineJob, InspectResult } from '../../src/shared/inspect';
import { cifar } from './runs-helpers';
import { jobFinished as finished, trainedLenet, type TrainedRun } from './trained-run';

async function run(app: App, params: unknown): Promise<{ job: EngineJob; result?: InspectResult }> {
  const { jobId } = (await app.handle('inspect.start', params)) as { jobId: number };
  const job = await finished(app, jobId);
  return { job, result: job.status === 'completed' ? ((await app.handle('inspect.result', { jobId })) as InspectResult) : undefined };
}

describe.skipIf(!cifar)('inspect jobs on a trained LeNet-5 (2 CIFAR-10 classes × 20 images)', () => {
  let trained: TrainedRun;
  let app: App;
  let runId: number;
  let items: Item[];
  let input: { path: string };

  beforeAll(async () => {
    trained = await trainedLenet(3);
    ({ app, runId } = trained);
    input = { path: trained.input };
    items = ((await app.handle('datasets.items', { datasetId: trained.datasetId, offset: 0, limit: 10 })) as { items: Item[] }).items;
  }, 240_000);
  afterAll(async () => {
    await trained?.close();
  });

  it('lists the checkpoints; the default is the epoch the run tested, else the best by validation accuracy', async () => {
    const c = (await app.handle('inspect.checkpoints', { runId })) as { epochs: number[]; best: number; classNames: string[] };
    expect(c.epochs).toEqual([0, 1, 2]);
    const tested = (app.db.prepare('SELECT best_epoch FROM runs WHERE id = ?').get(runId) as { best_epoch: number | null }).best_epoch;
    const val = app.runs.metrics(runId).filter((m) => m.name === 'val_accuracy');
    const bestValue = Math.max(...val.map((m) => m.value));
    expect(c.best).toBe(tested ?? val.find((m) => m.value === bestValue)?.epoch);
    expect(c.classNames).toEqual(['airplane', 'cat']);
  });

  it('filters: every convolution kernel of the chosen epoch, progress and result through the API', async () => {
    const events: ApiEvent[] = [];
    const sub = app.onEvent((e) => events.push(e));
    const { job, result } = await run(app, { runId, epoch: 1, op: { op: 'filters' } });
    sub.dispose();
    expect(job).toMatchObject({ status: 'completed', epoch: 1, kind: 'inspect', what: 'filters' });
    expect(result?.op === 'filters' && result.kernels.map((k) => k.shape)).toEqual([
      [5, 5, 3, 6],
      [5, 5, 6, 16],
    ]);
    expect(events.some((e) => e.event === 'job.progress' && e.payload.jobId === job.jobId)).toBe(true);
  }, 120_000);

  it('activations of a dataset item: the pixels the pack gives, every node, probabilities summing to 1', async () => {
    const item = items[0];
    const { job, result } = await run(app, { runId, op: { op: 'activations', image: { itemId: item.id } } });
    expect(job.status, job.error ?? '').toBe('completed');
    if (result?.op !== 'activations') throw new Error('no activations');
    const px = await loadPixels(app.blobs, item.hash, 32, 32, 3);
    expect(Buffer.from(result.input, 'base64').equals(px)).toBe(true);
    const names = result.nodes.map((n) => n.node);
    expect(names[0]).toBe('input');
    expect(names[names.length - 1]).toBe('logits');
    expect(result.scores.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const conv = result.nodes.find((n) => n.type === 'Conv2D')!;
    expect(Buffer.from(conv.dataBase64, 'base64').length).toBe(conv.shape.reduce((a, b) => a * b, 1));
  }, 120_000);

  it('a dropped file works like an item; bytes that are no image are refused naming the field, before any engine starts', async () => {
    const file = join(input.path, 'cat', readdirSync(join(input.path, 'cat'))[0]);
    const { job, result } = await run(app, { runId, op: { op: 'activations', image: { name: 'dropped.png', dataBase64: readFileSync(file).toString('base64') } } });
    expect(job.status, job.error ?? '').toBe('completed');
    expect(result?.op === 'activations' && result.nodes.length).toBeGreaterThan(5);
    await expect(app.handle('inspect.start', { runId, op: { op: 'activations', image: { name: 'x.png', dataBase64: Buffer.from('not an image').toString('base64') } } })).rejects.toMatchObject({
      code: 'invalid_params',
      field: 'op.image.dataBase64',
    });
    await expect(app.handle('inspect.start', { runId, epoch: 7, op: { op: 'filters' } })).rejects.toMatchObject({ code: 'invalid_params', field: 'epoch' });
  }, 120_000);

  it('Grad-CAM over several items: a map per image at input size; weight histograms over the three epochs', async () => {
    const { job, result } = await run(app, { runId, op: { op: 'saliency', method: 'gradcam', images: items.slice(0, 3).map((i) => ({ itemId: i.id })) } });
    expect(job.status, job.error ?? '').toBe('completed');
    if (result?.op !== 'saliency') throw new Error('no saliency');
    expect(result.maps).toHaveLength(3);
    expect(result.node).toBeTruthy();
    for (const m of result.maps) expect(Buffer.from(m.map, 'base64').length).toBe(32 * 32);
    const h = await run(app, { runId, op: { op: 'histograms', bins: 20 } });
    expect(h.result?.op === 'histograms' && h.result.histograms.find((x) => x.weight === 'kernel')?.epochs).toEqual([0, 1, 2]);
  }, 120_000);

  it('cancel stops a long SmoothGrad job between images; main answers requests meanwhile', async () => {
    const images = Array.from({ length: 40 }, (_, i) => ({ itemId: items[i % items.length].id }));
    const { jobId } = (await app.handle('inspect.start', { runId, op: { op: 'saliency', method: 'smoothgrad', samples: 200, images } })) as { jobId: number };
    await new Promise<void>((resolve) => {
      const sub = app.onEvent((e) => {
        if (e.event === 'job.progress' && e.payload.jobId === jobId && e.payload.phase === 'images') {
          sub.dispose();
          resolve();
        }
      });
    });
    expect(((await app.handle('runs.list', {})) as unknown[]).length).toBe(1);
    expect(await app.handle('jobs.cancel', { jobId })).toEqual({ ok: true });
    const job = await finished(app, jobId);
    expect(job.status).toBe('cancelled');
    expect(job.done).toBeLessThan(40);
    await expect(app.handle('inspect.result', { jobId })).rejects.toMatchObject({ code: 'conflict' });
  }, 120_000);

  it('a damaged checkpoint fails the job with the file named', async () => {
    const path = (app.db.prepare('SELECT path FROM checkpoints WHERE run_id = ? AND epoch = 0').get(runId) as { path: string }).path;
    const weights = join(path.replace(/model\.json$/, ''), 'weights.bin');
    truncateSync(weights, statSync(weights).size - 100);
    const { job } = await run(app, { runId, epoch: 0, op: { op: 'filters' } });
    expect(job.status).toBe('failed');
    expect(job.error).toContain(weights);
  }, 120_000);
});
