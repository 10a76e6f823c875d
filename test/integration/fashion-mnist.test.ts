/**
 * The accuracy bar on real data, through the real services: Fashion-MNIST (Debian's
 * dataset-fashion-mnist) imported into a real SQLite file, LeNet-5 trained for 2 epochs
 * in a real engine process, every number read back from the database. Then the same
 * spec and seed twice → the same per-epoch metrics.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/main/services/app';
import { buildPreset, type RunSpecInput } from '../../src/shared/spec';
import { optionalPath, tempDataDir } from '../helpers';

const fashion = optionalPath('/usr/share/datasets/fashion-mnist');

const lenet = (datasetId: number, over: Partial<RunSpecInput['training']> = {}, seed = 7): RunSpecInput => ({
  datasetId,
  model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }),
  training: { optimizer: { type: 'adam', learningRate: 0.001 }, batchSize: 64, epochs: 2, ...over },
  seed,
  backend: 'cpu',
});

type MetricRow = { name: string; epoch: number | null; step: number | null; value: number };

describe.skipIf(!fashion)('Fashion-MNIST, LeNet-5, 2 epochs (needs apt-get install dataset-fashion-mnist)', () => {
  let dir: ReturnType<typeof tempDataDir>;
  let app: App;
  let datasetId: number;

  beforeAll(async () => {
    dir = tempDataDir();
    app = createApp({ dataDir: dir.root });
    const { jobId } = await app.datasets.startImport({ path: fashion! });
    const job = await app.datasets.waitForImport(jobId);
    expect(job.status).toBe('done');
    expect(job.imported).toBe(70_000);
    datasetId = job.datasetId!;
  }, 300_000);
  // Stopping the services and removing a data directory of 70,000 blobs: minutes on a loaded 2-core machine.
  afterAll(async () => {
    const t0 = Date.now();
    await app?.shutdown(5000);
    const t1 = Date.now();
    dir?.cleanup();
    console.log(`Fashion-MNIST teardown: shutdown ${((t1 - t0) / 1000).toFixed(1)} s, removing the data directory ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  }, 600_000);

  it('reaches ≥ 85% test accuracy and records the run with all its metrics in SQLite', async () => {
    const t0 = Date.now();
    const { runId } = await app.runs.start({ spec: lenet(datasetId), name: 'fashion lenet5' });
    const done = await app.runs.waitFor(runId);
    const seconds = (Date.now() - t0) / 1000;
    console.log(`Fashion-MNIST LeNet-5 2 epochs: test accuracy ${(done.testAccuracy! * 100).toFixed(2)}%, ${seconds.toFixed(0)} s, ${done.samplesPerSec?.toFixed(0)} samples/s on ${done.backend}${done.error ? `; error: ${done.error}` : ''}`);
    expect(done.status, done.error ?? '').toBe('completed');

    // Read it back from the database file itself, as another tool would.
    const run = app.db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as Record<string, unknown>;
    expect(run.status).toBe('completed');
    expect(run.test_accuracy as number).toBeGreaterThanOrEqual(0.85);
    expect(run.backend).toMatch(/wasm|webgpu|cpu/);
    expect(run.backend_detail).toMatch(/threads: \d+|webgpu/); // what ran, for reproducing it
    expect(run.dataset_version_id).not.toBeNull();
    expect(JSON.parse(run.spec as string)).toMatchObject({ seed: 7, training: { epochs: 2, batchSize: 64 }, model: { preset: 'lenet5' } });

    const rows = app.db.prepare('SELECT name, epoch, step, value FROM metrics WHERE run_id = ?').all(runId) as MetricRow[];
    for (const name of ['train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'learning_rate']) {
      const perEpoch = rows.filter((r) => r.name === name && r.step === null);
      expect(perEpoch.map((r) => r.epoch), name).toEqual([0, 1]);
    }
    const trainLoss = rows.filter((r) => r.name === 'train_loss').map((r) => r.value);
    expect(trainLoss[1]).toBeLessThan(trainLoss[0]);
    // Every step's loss is stored, none lost to the throttling of progress messages.
    const trainCount = app.datasets.get(datasetId).counts.train;
    const steps = 2 * Math.ceil(trainCount / 64);
    const stepLoss = rows.filter((r) => r.name === 'loss' && r.step !== null).map((r) => r.step);
    expect(stepLoss).toEqual(Array.from({ length: steps }, (_, i) => i));
    const best = Math.max(...rows.filter((r) => r.name === 'val_accuracy').map((r) => r.value));
    expect(run.best_val_accuracy).toBeCloseTo(best, 12);

    const ckpts = app.db.prepare('SELECT epoch, path FROM checkpoints WHERE run_id = ? ORDER BY epoch').all(runId) as { epoch: number; path: string }[];
    expect(ckpts.map((c) => c.epoch)).toEqual([0, 1]);
    for (const c of ckpts) expect(existsSync(c.path.endsWith('.json') ? c.path : `${c.path}/model.json`), c.path).toBe(true);
    expect(app.db.pragma('integrity_check', { simple: true })).toBe('ok');
  }, 1_200_000);

  it('the same spec and seed twice give the same per-epoch metrics', async () => {
    const spec = lenet(datasetId, { maxTrainSamples: 4000, augmentation: { horizontalFlip: true, randomTranslation: 0.1, gaussianNoise: 0.05 } }, 11);
    spec.model = buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10, dropoutRate: 0.25, batchNormalization: true });
    const epochMetrics = async (): Promise<MetricRow[]> => {
      const { runId } = await app.runs.start({ spec });
      expect((await app.runs.waitFor(runId)).status).toBe('completed');
      return app.db
        .prepare("SELECT name, epoch, step, value FROM metrics WHERE run_id = ? AND step IS NULL AND name NOT IN ('epoch_seconds') ORDER BY name, epoch")
        .all(runId) as MetricRow[];
    };
    const a = await epochMetrics();
    const b = await epochMetrics();
    expect(a.length).toBeGreaterThanOrEqual(10);
    expect(b).toEqual(a);
  }, 1_200_000);
});

