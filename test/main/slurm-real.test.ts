/**
 * The Slurm executor (issue 12) against a REAL one-node Slurm (scripts/slurm-up.sh: slurmctld
 * and slurmd on this machine, munge, select/cons_tres). Nothing is faked: sbatch, squeue,
 * scancel and Slurm's own time limit, the job script, `layerwise engine-job DIR` forking the
 * real engine on the node, the message files and their ingest into a real SQLite file, real
 * CIFAR-10 images. Skipped, with the reason, when `sinfo` is missing or no node is idle.
 * Every run trains with 1 thread (`--cpus-per-task 1` on Slurm, LAYERWISE_THREADS=1 here), so
 * a Slurm run and the same spec run locally compute the same numbers.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/main/services/app';
import type { ExecutorSettings, SlurmJobInfo, SlurmSettings } from '../../src/shared/executor';
import type { RunDetail } from '../../src/shared/api';
import { buildPreset, type RunSpecInput } from '../../src/shared/spec';
import { tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { epochNumbers, LAYERWISE_DEV, realSlurmMissing, until } from '../helpers/slurm';
import { cifar, tinyCifarFolder } from './runs-helpers';

const missing = cifar ? realSlurmMissing() : 'shared data cifar10-subset is absent';
const NODE = hostname().split('.')[0]!;

function spec(datasetId: number, epochs: number, over: { learningRate?: number; batchSize?: number; preset?: 'mlp' | 'lenet5'; inputSize?: number } = {}): RunSpecInput {
  const side = over.inputSize ?? 32;
  return {
    datasetId,
    model: buildPreset(over.preset ?? 'mlp', { inputShape: [side, side, 3], numClasses: 2, hiddenUnits: [32] }),
    training: { optimizer: { type: 'adam', learningRate: over.learningRate ?? 1e-3 }, batchSize: over.batchSize ?? 4, epochs },
    seed: 11,
    backend: 'auto',
  };
}

describe.skipIf(missing !== null)('Slurm executor on a real one-node Slurm', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  let cluster: { path: string; cleanup(): void };
  let app: App;
  let datasetId: number;
  const oldThreads = process.env.LAYERWISE_THREADS;
  const open = (): App => createApp({ dataDir: dir.root, api: { validateResults: true }, cancelTimeoutMs: 10_000, concurrency: 2, adoptQueued: true });
  const job = async (runId: number): Promise<SlurmJobInfo | null> => (await app.handle('executor.job', { runId })) as SlurmJobInfo | null;
  const useSlurm = async (over: Partial<SlurmSettings> = {}): Promise<void> => {
    await app.handle('executor.set', {
      kind: 'slurm',
      slurm: { stageDir: join(cluster.path, 'stage'), partition: 'debug', cpusPerRun: 1, memoryMb: 1024, layerwiseCommand: LAYERWISE_DEV, pollSeconds: 0.5, ...over },
    });
  };
  const useLocal = async (): Promise<void> => {
    const s = (await app.handle('executor.get', {})) as ExecutorSettings;
    await app.handle('executor.set', { ...s, kind: 'local' });
  };
  const train = async (s: RunSpecInput): Promise<number> => ((await app.handle('runs.start', { spec: s })) as { runId: number }).runId;
  /** What squeue says of a job now (`-t all`: an ended one too). */
  const squeue = (jobId: string): string => execFileSync('squeue', ['-h', '-t', 'all', '-j', jobId, '-o', '%T|%N|%r'], { encoding: 'utf8' }).trim();

  beforeAll(async () => {
    process.env.LAYERWISE_THREADS = '1';
    dir = tempDataDir();
    input = tempDir();
    cluster = tempDir('layerwise-slurm-real-');
    tinyCifarFolder(input.path, ['airplane', 'cat'], 40);
    app = open();
    const { jobId } = (await app.handle('datasets.import', { path: input.path, name: 'tiny' })) as { jobId: number };
    datasetId = (await app.datasets.waitForImport(jobId)).datasetId!;
  }, 120_000);
  afterAll(async () => {
    await app?.shutdown(5000);
    if (oldThreads === undefined) delete process.env.LAYERWISE_THREADS;
    else process.env.LAYERWISE_THREADS = oldThreads;
    input?.cleanup();
    try {
      cluster?.cleanup();
    } catch {
      // a job's last output may still land: left in the temp folder
    }
    dir?.cleanup();
  });

  it('a 2 × 2 sweep submitted to Slurm completes, two jobs at once on the node, each run with the metrics of the same spec trained locally', { timeout: 240_000 }, async () => {
    await useSlurm();
    const sweep = {
      base: spec(datasetId, 3),
      grid: [
        { path: 'training.optimizer.learningRate', values: [1e-3, 3e-3] },
        { path: 'training.batchSize', values: [4, 8] },
      ],
    };
    const { runIds } = (await app.handle('sweeps.create', { spec: sweep, name: 'on slurm' })) as { runIds: number[] };
    expect(runIds).toHaveLength(4);
    let mostRunning = 0;
    const sampler = setInterval(() => {
      const states = runIds.map((id) => app.executor.job(id)?.state);
      mostRunning = Math.max(mostRunning, states.filter((s) => s === 'RUNNING').length);
    }, 100);
    try {
      for (const id of runIds) {
        const r = await app.runs.waitFor(id);
        expect(r.error).toBeNull();
        expect(r.status).toBe('completed');
      }
    } finally {
      clearInterval(sampler);
    }
    // cons_tres, 1 CPU a job: the queue's two runs shared the node.
    expect(mostRunning).toBe(2);
    const jobIds = new Set<string>();
    for (const id of runIds) {
      await until(`Slurm to record the end of run ${id}`, async () => (await job(id))?.state === 'COMPLETED', 30_000);
      const info = (await job(id))!;
      jobIds.add(info.jobId);
      expect(info.node).toBe(NODE);
      expect(squeue(info.jobId)).toBe(`COMPLETED|${NODE}|None`);
      expect((app.runs.get(id) as RunDetail).backendDetail ?? '').toContain(`Slurm job ${info.jobId} on ${NODE}`);
    }
    expect(jobIds.size).toBe(4);

    await useLocal();
    const locals = [];
    for (const id of runIds) locals.push(await train((app.runs.get(id) as RunDetail).spec));
    for (const [i, local] of locals.entries()) {
      expect((await app.runs.waitFor(local)).status).toBe('completed');
      expect(app.executor.job(local)).toBeNull();
      const remote = runIds[i]!;
      expect(epochNumbers(app.runs.metrics(remote)).length).toBeGreaterThan(9);
      expect(epochNumbers(app.runs.metrics(remote))).toEqual(epochNumbers(app.runs.metrics(local)));
      expect(app.runs.get(remote).testAccuracy).toBe(app.runs.get(local).testAccuracy);
    }
    // The grid's runs differ (else equal numbers would prove little).
    expect(new Set(runIds.map((id) => app.runs.get(id).testAccuracy ?? NaN).map(String)).size + new Set(runIds.map((id) => epochNumbers(app.runs.metrics(id)).join())).size).toBeGreaterThan(4);
  });

  it('cancel scancels the job: the run is cancelled, Slurm says CANCELLED', { timeout: 120_000 }, async () => {
    await useSlurm();
    const id = await train(spec(datasetId, 1000));
    await until('the first epoch', () => app.runs.metrics(id).some((m) => m.name === 'val_accuracy'));
    const { jobId } = (await job(id))!;
    expect(squeue(jobId)).toMatch(/^RUNNING\|/);
    await app.handle('runs.cancel', { runId: id });
    expect((await app.runs.waitFor(id)).status).toBe('cancelled');
    await until('Slurm to record the cancel', async () => (await job(id))?.state === 'CANCELLED', 30_000);
    expect(squeue(jobId)).toMatch(/^CANCELLED\|/);
    expect(app.runs.metrics(id).some((m) => m.name === 'train_loss')).toBe(true);
  });

  it('a job past its 1-minute time limit is failed with Slurm\'s reason and resumes from its last checkpoint to the numbers of an uninterrupted run', { timeout: 400_000 }, async () => {
    // Slurm ends a job 60–90 s after it started (limit 1 min, checked every 30 s): the run must train longer.
    // LeNet-5 at 64×64 (the 32×32 images upscaled) and batch 1: ≈ 0.2–0.6 s an epoch, so the epochs that
    // fill 120 s stay under the 1,000 a spec allows on a fast machine too (at 32×32 an epoch took 0.1 s).
    await useLocal();
    const slow = { preset: 'lenet5', batchSize: 1, inputSize: 64 } as const;
    const probe = await train(spec(datasetId, 4, slow));
    expect((await app.runs.waitFor(probe)).status).toBe('completed');
    const secs = app.runs.metrics(probe).filter((m) => m.name === 'epoch_seconds' && (m.epoch ?? 0) > 0).map((m) => m.value);
    const perEpoch = secs.reduce((a, b) => a + b, 0) / secs.length;
    const EPOCHS = Math.max(30, Math.ceil(120 / perEpoch));
    console.log(`[slurm-real] ${perEpoch.toFixed(3)} s an epoch here: ${EPOCHS} epochs`);
    if (EPOCHS > 1000) throw new Error(`an epoch takes ${perEpoch.toFixed(3)} s here: 1000 epochs (the most a spec allows) end before Slurm's time limit; give the test a heavier model`);

    // The uninterrupted reference trains here while the Slurm job trains on the node (1 CPU each).
    const whole = await train(spec(datasetId, EPOCHS, slow));
    // Launched here before the executor changes (the queue reads it at each launch).
    await until('the local run to train', () => app.runs.metrics(whole).length > 0);
    await useSlurm({ timeLimit: '1' });
    const id = await train(spec(datasetId, EPOCHS, slow));
    const failed = await app.runs.waitFor(id);
    const info = (await job(id))!;
    expect(failed.status).toBe('failed');
    expect(info.state).toBe('TIMEOUT');
    expect(failed.error).toContain(`Slurm job ${info.jobId} on ${NODE} reached its time limit`);
    expect(squeue(info.jobId)).toMatch(/^TIMEOUT\|/);
    // The engine stopped by Slurm wrote no failure of its own: the reason is Slurm's.
    const written = readFileSync(join(info.jobDir, 'messages.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    expect(written).not.toContain('failed');
    expect(written).not.toContain('done');

    // More time for the rest, then Resume: a new job continuing after the last checkpoint.
    await useSlurm({ timeLimit: '10' });
    const { fromEpoch } = (await app.handle('runs.resume', { runId: id })) as { fromEpoch: number | null };
    expect(fromEpoch).not.toBeNull();
    expect(fromEpoch!).toBeGreaterThan(0);
    expect(fromEpoch!).toBeLessThan(EPOCHS - 1);
    const end = await app.runs.waitFor(id);
    expect(end.error).toBeNull();
    expect(end.status).toBe('completed');
    const again = (await job(id))!;
    expect(again.jobId).not.toBe(info.jobId);
    const reference = await app.runs.waitFor(whole);
    expect(reference.error).toBeNull();
    expect(reference.status).toBe('completed');
    expect(app.executor.job(whole)).toBeNull();
    expect(epochNumbers(app.runs.metrics(id))).toEqual(epochNumbers(app.runs.metrics(whole)));
    expect(app.runs.get(id).testAccuracy).toBe(app.runs.get(whole).testAccuracy);
  });

  it('a host restarted while its jobs train picks their state up from Slurm and follows them to the end', { timeout: 240_000 }, async () => {
    await useSlurm();
    const EPOCHS = 150;
    const ids = [await train(spec(datasetId, EPOCHS)), await train(spec(datasetId, EPOCHS, { learningRate: 3e-3 }))];
    await until('both jobs to train', () => ids.every((id) => app.runs.metrics(id).filter((m) => m.name === 'train_loss').length >= 2));
    const jobIds = ids.map((id) => app.executor.job(id)!.jobId);
    await app.shutdown(5000);
    // The host went away; the jobs did not.
    for (const j of jobIds) expect(squeue(j)).toMatch(/^RUNNING\|/);
    app = open();
    for (const id of ids) {
      const end = await app.runs.waitFor(id);
      expect(end.error).toBeNull();
      expect(end.status).toBe('completed');
      expect(app.runs.metrics(id).filter((m) => m.name === 'train_loss').map((m) => m.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, i) => i));
    }
    await until('Slurm to record both ends', () => ids.every((id) => app.executor.job(id)?.state === 'COMPLETED'), 30_000);
    expect(ids.map((id) => app.executor.job(id)!.jobId)).toEqual(jobIds);
  });
});
