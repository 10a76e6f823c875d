/**
 * Resume and re-run through the run service with real engine processes (wasm backend, the
 * same thread count for every engine: concurrency 1), a real SQLite file and real images:
 * a run cancelled mid-way and resumed ends with the same epoch metrics, step losses and
 * test metrics as the same spec run uninterrupted; a re-run reproduces a run's numbers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/main/services/app';
import type { Metric, RunDetail, RunSummary } from '../../src/shared/api';
import { ApiError } from '../../src/shared/errors';
import { buildPreset, type RunSpecInput } from '../../src/shared/spec';
import { tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { cifar, tinyCifarFolder } from './runs-helpers';

const EPOCHS = 24;

function spec(datasetId: number): RunSpecInput {
  return {
    datasetId,
    model: buildPreset('mlp', { inputShape: [32, 32, 3], numClasses: 2, hiddenUnits: [16], dropoutRate: 0.2 }),
    training: {
      optimizer: { type: 'adam', learningRate: 1e-3 },
      batchSize: 2,
      epochs: EPOCHS,
      augmentation: { horizontalFlip: true, randomTranslation: 0.1, gaussianNoise: 0 },
      learningRateSchedule: { type: 'cosine', warmupEpochs: 2, minLearningRate: 0 },
      earlyStopping: { monitor: 'val_loss', patience: 0 },
    },
    seed: 3,
    backend: 'auto',
  };
}

/** Epoch metrics of epochs > `after` (values only), and the step losses of those epochs. */
function numbers(ms: Metric[], after = -1) {
  const keep = ms.filter((m) => m.epoch !== null && m.epoch > after && m.name !== 'epoch_seconds' && m.name !== 'samples_per_sec');
  return keep.map((m) => `${m.name}|${m.epoch}|${m.step}|${m.value}`).sort();
}

describe.skipIf(!cifar)('resume and re-run with real engines', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  let app: App;
  let datasetId: number;

  beforeAll(async () => {
    dir = tempDataDir();
    input = tempDir();
    tinyCifarFolder(input.path, ['airplane', 'cat'], 20);
    app = createApp({ dataDir: dir.root, api: { validateResults: true }, cancelTimeoutMs: 5000, concurrency: 1 });
    const { jobId } = (await app.handle('datasets.import', { path: input.path, name: 'tiny' })) as { jobId: number };
    datasetId = (await app.datasets.waitForImport(jobId)).datasetId!;
  }, 120_000);
  afterAll(async () => {
    await app?.shutdown(2000);
    input?.cleanup();
    dir?.cleanup();
  });

  it('a run cancelled after a few epochs and resumed equals the uninterrupted run; a re-run equals it too', { timeout: 300_000 }, async () => {
    const { runId: whole } = (await app.handle('runs.start', { spec: spec(datasetId) })) as { runId: number };
    const a = await app.runs.waitFor(whole);
    expect(a.status).toBe('completed');
    const aMetrics = (await app.handle('runs.metrics', { runId: whole })) as Metric[];

    // The same spec, cancelled once its third epoch's metrics are stored.
    const { runId: cut } = (await app.handle('runs.start', { spec: spec(datasetId) })) as { runId: number };
    const sub = app.onEvent((e) => {
      if (e.event === 'run.metrics' && e.payload.runId === cut && e.payload.metrics.some((m) => m.name === 'val_loss' && m.epoch === 2)) void app.handle('runs.cancel', { runId: cut });
    });
    const c = await app.runs.waitFor(cut);
    sub.dispose();
    expect(c.status).toBe('cancelled');

    // Completed runs are not resumed; the cancelled one is, from its last whole checkpoint.
    await expect(app.handle('runs.resume', { runId: whole })).rejects.toMatchObject({ code: 'conflict', field: 'runId' } satisfies Partial<ApiError>);
    const { fromEpoch } = (await app.handle('runs.resume', { runId: cut })) as { fromEpoch: number | null };
    expect(fromEpoch).not.toBeNull();
    expect(fromEpoch!).toBeGreaterThanOrEqual(2);
    expect(fromEpoch!).toBeLessThan(EPOCHS - 1);
    const b = await app.runs.waitFor(cut);
    expect(b.status).toBe('completed');
    const bMetrics = (await app.handle('runs.metrics', { runId: cut })) as Metric[];
    console.log(`resume: cancelled after epoch ${fromEpoch} of ${EPOCHS}; test accuracy ${b.testAccuracy} (uninterrupted ${a.testAccuracy}), tested epoch ${b.bestEpoch}`);

    // Every epoch metric and step loss equal (the kept epochs are the cancelled run's own, the rest the resumed engine's).
    expect(numbers(bMetrics)).toEqual(numbers(aMetrics));
    expect(numbers(bMetrics, fromEpoch!).length).toBeGreaterThan(0);
    expect(b.testAccuracy).toBe(a.testAccuracy);
    expect(b.testLoss).toBe(a.testLoss);
    expect(b.bestEpoch).toBe(a.bestEpoch);
    expect(b.bestValAccuracy).toBe(a.bestValAccuracy);
    const detail = (await app.handle('runs.get', { runId: cut })) as RunDetail;
    expect(detail.resumed).toBe(1);
    // The duration counts both segments: the cancelled one (c) and the resumed one (from its new start to its end).
    expect(c.durationSeconds).toBeGreaterThan(0);
    expect(detail.durationSeconds!).toBeCloseTo(c.durationSeconds! + (detail.finishedAt! - detail.startedAt!), 6);
    expect(detail.startedAt!).toBeGreaterThanOrEqual(c.finishedAt!);
    // The tested epoch is the one of lowest validation loss (the monitor), stored with the test metrics.
    const valLoss = aMetrics.filter((m) => m.name === 'val_loss');
    const best = valLoss.reduce((x, y) => (y.value < x.value ? y : x));
    expect(a.bestEpoch).toBe(best.epoch);
    expect(aMetrics.find((m) => m.name === 'test_accuracy')).toMatchObject({ epoch: best.epoch, step: null, value: a.testAccuracy });

    // Re-run: a new run, same spec and seed → the same numbers.
    const { runId: again } = (await app.handle('runs.rerun', { runId: whole })) as { runId: number };
    expect(again).not.toBe(whole);
    const r = await app.runs.waitFor(again);
    expect(r.name).toBe(`${a.name} (re-run)`);
    expect(numbers((await app.handle('runs.metrics', { runId: again })) as Metric[])).toEqual(numbers(aMetrics));
    expect(r.testAccuracy).toBe(a.testAccuracy);
    expect(((await app.handle('runs.get', { runId: again })) as RunDetail).spec).toEqual(((await app.handle('runs.get', { runId: whole })) as RunDetail).spec);
    expect(((await app.handle('runs.list', {})) as RunSummary[]).length).toBe(3);
  });
});
