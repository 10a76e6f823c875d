/**
 * The Slurm executor (issue 12) against a fake Slurm (test/fixtures/fake-slurm: sbatch, squeue,
 * sacct, scancel as small scripts on PATH that run the submitted job script as a local process
 * and keep a job table in a folder). Everything else is real: the executor, the job script,
 * `layerwise engine-job DIR` forking the real engine, the message files and their ingest into a
 * real SQLite file, on real CIFAR-10 images.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEngineJob } from '../../src/main/host/engine-job';
import { createApp, type App } from '../../src/main/services/app';
import { engineThreads } from '../../src/main/services/runs/threads';
import type { ExecutorSettings, SlurmJobInfo } from '../../src/shared/executor';
import type { RunDetail } from '../../src/shared/api';
import { buildPreset, type RunSpecInput } from '../../src/shared/spec';
import { tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { epochNumbers, until } from '../helpers/slurm';
import { cifar, scriptLauncher, tinyCifarFolder } from './runs-helpers';

const FAKE = resolve(__dirname, '../fixtures/fake-slurm');
const THREADS = engineThreads(1);

function spec(datasetId: number, epochs: number): RunSpecInput {
  return {
    datasetId,
    model: buildPreset('mlp', { inputShape: [32, 32, 3], numClasses: 2, hiddenUnits: [16] }),
    training: { optimizer: { type: 'adam', learningRate: 1e-3 }, batchSize: 4, epochs },
    seed: 7,
    backend: 'auto',
  };
}

describe.skipIf(!cifar)('Slurm executor on a fake cluster', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  let cluster: { path: string; cleanup(): void };
  let app: App;
  let datasetId: number;
  let stage: string;
  let slurmDir: string;
  const oldPath = process.env.PATH;
  const calls = (): string[][] => (existsSync(join(slurmDir, 'calls.log')) ? readFileSync(join(slurmDir, 'calls.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]) : []);
  const job = async (runId: number): Promise<SlurmJobInfo | null> => (await app.handle('executor.job', { runId })) as SlurmJobInfo | null;
  const useSlurm = async (over: Record<string, unknown> = {}): Promise<void> => {
    await app.handle('executor.set', {
      kind: 'slurm',
      slurm: { stageDir: stage, partition: 'debug', timeLimit: '00:10:00', cpusPerRun: THREADS, memoryMb: 1024, extraArgs: ['--qos=test'], layerwiseCommand: join(FAKE, 'layerwise-dev'), pollSeconds: 0.2, ...over },
    });
  };
  const useLocal = async (): Promise<void> => {
    const s = (await app.handle('executor.get', {})) as ExecutorSettings;
    await app.handle('executor.set', { ...s, kind: 'local' });
  };
  const train = async (epochs: number): Promise<number> => ((await app.handle('runs.start', { spec: spec(datasetId, epochs) })) as { runId: number }).runId;

  beforeAll(async () => {
    dir = tempDataDir();
    input = tempDir();
    cluster = tempDir('layerwise-slurm-');
    stage = join(cluster.path, 'stage');
    slurmDir = join(cluster.path, 'slurm');
    mkdirSync(slurmDir, { recursive: true });
    process.env.FAKE_SLURM_DIR = slurmDir;
    process.env.PATH = `${FAKE}:${oldPath}`;
    tinyCifarFolder(input.path, ['airplane', 'cat'], 20);
    app = createApp({ dataDir: dir.root, api: { validateResults: true }, cancelTimeoutMs: 5000, concurrency: 1 });
    const { jobId } = (await app.handle('datasets.import', { path: input.path, name: 'tiny' })) as { jobId: number };
    datasetId = (await app.datasets.waitForImport(jobId)).datasetId!;
  }, 120_000);
  afterAll(async () => {
    await app?.shutdown(2000);
    process.env.PATH = oldPath;
    input?.cleanup();
    // A job's last writes (slurm-<id>.out) may still land: the folder goes when it can.
    await new Promise((r) => setTimeout(r, 1500));
    try {
      cluster?.cleanup();
    } catch {
      // left in the temp folder
    }
    dir?.cleanup();
  });

  it('a run submitted to Slurm trains, waits PENDING with Slurm\'s reason first, and lands in the DB as the same run trained locally does', { timeout: 300_000 }, async () => {
    await useLocal();
    const local = await train(2);
    expect((await app.runs.waitFor(local)).status).toBe('completed');

    await useSlurm();
    writeFileSync(join(slurmDir, 'hold'), '');
    const remote = await train(2);
    await until('Slurm to say why the job waits', async () => (await job(remote))?.reason != null);
    const pending = (await job(remote))!;
    expect(pending.state).toBe('PENDING');
    expect(pending.reason).toBe('Resources');
    expect(app.runs.get(remote).status).toBe('queued');
    rmSync(join(slurmDir, 'hold'));
    const done = await app.runs.waitFor(remote);
    expect(done.error).toBeNull();
    expect(done.status).toBe('completed');

    const a = app.runs.get(local);
    const b = app.runs.get(remote) as RunDetail;
    // Same spec and seed, same thread count: the same numbers.
    expect(epochNumbers(app.runs.metrics(remote))).toEqual(epochNumbers(app.runs.metrics(local)));
    expect(epochNumbers(app.runs.metrics(remote)).length).toBeGreaterThan(6);
    expect(b.testAccuracy).toBe(a.testAccuracy);
    // Step losses: one per step, as locally.
    const steps = (id: number): number[] => app.runs.metrics(id).filter((m) => m.name === 'loss').map((m) => m.value);
    expect(steps(remote)).toEqual(steps(local));
    // Checkpoints and predictions in the run's own folder, rows as a local run's.
    const rows = (sql: string, id: number): unknown => app.db.prepare(sql).all(id);
    expect(rows('SELECT epoch FROM checkpoints WHERE run_id = ? ORDER BY epoch', remote)).toEqual(rows('SELECT epoch FROM checkpoints WHERE run_id = ? ORDER BY epoch', local));
    for (const e of [0, 1]) expect(existsSync(join(dir.root, 'runs', String(remote), `epoch-${e}`, 'train-state.json'))).toBe(true);
    const preds = 'SELECT item_id, split, predicted_class_id FROM predictions WHERE run_id = ? ORDER BY item_id';
    expect((rows(preds, remote) as unknown[]).length).toBe(40);
    expect(rows(preds, remote)).toEqual(rows(preds, local));
    // What ran where.
    // The run is complete at the engine's `done`; Slurm records the job's end a poll later.
    await until('Slurm to record the end', async () => (await job(remote))?.state === 'COMPLETED', 30_000);
    const info = (await job(remote))!;
    expect(info.node).toBe('fake-node-1');
    expect(b.backendDetail ?? '').toContain(`Slurm job ${info.jobId} on fake-node-1`);
  });

  it('the job\'s end state is stored after the run completes, even when the next poll is later than the engine\'s exit grace', { timeout: 120_000 }, async () => {
    // pollSeconds 30 > the 5 s grace after `done`: the host used to stop (scancel) the job then, leaving PENDING/RUNNING for good.
    await useSlurm({ pollSeconds: 30 });
    const id = await train(1);
    expect((await app.runs.waitFor(id)).status).toBe('completed');
    await until('Slurm to record the end', async () => (await job(id))?.state === 'COMPLETED', 30_000);
    const jobId = (await job(id))!.jobId;
    expect(calls().filter((c) => c[0] === 'scancel' && c[1] === jobId)).toEqual([]);
  });

  it('a classic run trains on this machine with the Slurm executor set, and submits no job', { timeout: 120_000 }, async () => {
    await useSlurm();
    const before = calls().filter((c) => c[0] === 'sbatch').length;
    const { runId } = (await app.handle('runs.start', { spec: { kind: 'classic', datasetId, descriptors: [{ type: 'hog' }], classifier: { type: 'svm' }, inputShape: [32, 32, 3] } })) as { runId: number };
    const end = await app.runs.waitFor(runId);
    expect(end.error).toBeNull();
    expect(end.status).toBe('completed');
    expect(end.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(await job(runId)).toBeNull();
    expect(calls().filter((c) => c[0] === 'sbatch').length).toBe(before);
  });

  it('sbatch gets the settings; two runs of one dataset version share one staged pack', { timeout: 300_000 }, async () => {
    await useSlurm({ gpusPerRun: 1 });
    const r1 = await train(1);
    await app.runs.waitFor(r1);
    const r2 = await train(1);
    expect((await app.runs.waitFor(r2)).status).toBe('completed');
    expect(readdirSync(join(stage, 'packs')).filter((n) => !n.startsWith('.'))).toHaveLength(1);
    const j1 = JSON.parse(readFileSync(join((await job(r1))!.jobDir, 'job.json'), 'utf8')) as { packDir: string; outDir: string };
    const j2 = JSON.parse(readFileSync(join((await job(r2))!.jobDir, 'job.json'), 'utf8')) as { packDir: string };
    expect(j1.packDir).toBe(j2.packDir);
    expect(j1.packDir.startsWith(join(stage, 'packs'))).toBe(true);
    expect(j1.outDir).toBe(join(stage, 'runs', String(r1)));
    const script = readFileSync(join((await job(r1))!.jobDir, 'job.sh'), 'utf8');
    for (const line of ['#SBATCH --partition=debug', '#SBATCH --time=00:10:00', `#SBATCH --cpus-per-task=${THREADS}`, '#SBATCH --mem=1024M', '#SBATCH --gres=gpu:1', '#SBATCH --qos=test', `#SBATCH --job-name=layerwise-run-${r1}`]) {
      expect(script).toContain(line);
    }
    expect(script).toContain(`engine-job '${(await job(r1))!.jobDir}'`);
    const submitted = calls().filter((c) => c[0] === 'sbatch');
    expect(submitted.at(-1)).toEqual(['sbatch', '--parsable', join((await job(r2))!.jobDir, 'job.sh')]);
  });

  it('cancel calls scancel and leaves the run cancelled, with what it wrote before', { timeout: 300_000 }, async () => {
    await useSlurm();
    const id = await train(400);
    await until('a checkpoint', () => app.runs.metrics(id).some((m) => m.name === 'val_accuracy'));
    await app.handle('runs.cancel', { runId: id });
    const end = await app.runs.waitFor(id);
    expect(end.status).toBe('cancelled');
    const info = (await job(id))!;
    expect(calls()).toContainEqual(['scancel', info.jobId]);
    await until('Slurm to record the cancel', async () => (await job(id))?.state === 'CANCELLED', 30_000);
    expect(app.runs.isActive(id)).toBe(false);
    expect(app.runs.metrics(id).some((m) => m.name === 'train_loss')).toBe(true);
    expect(app.runs.get(id).status).toBe('cancelled');
  });

  it('a job killed at its time limit fails with Slurm\'s reason and resumes from its last checkpoint to the uninterrupted numbers', { timeout: 400_000 }, async () => {
    const EPOCHS = 60;
    await useLocal();
    const whole = await train(EPOCHS);
    expect((await app.runs.waitFor(whole)).status).toBe('completed');

    await useSlurm();
    const id = await train(EPOCHS);
    const info = async (): Promise<SlurmJobInfo | null> => job(id);
    await until('checkpoint of epoch 2', () => existsSync(join(dir.root, 'runs', String(id), 'epoch-2', 'train-state.json')));
    const { execFileSync } = await import('node:child_process');
    execFileSync(join(FAKE, 'fake-slurm-kill'), [(await info())!.jobId, 'TIMEOUT']);
    const failed = await app.runs.waitFor(id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/time limit/);
    expect(failed.error).toContain((await info())!.jobId);
    expect((await info())!.state).toBe('TIMEOUT');

    const { fromEpoch } = (await app.handle('runs.resume', { runId: id })) as { fromEpoch: number | null };
    expect(fromEpoch).not.toBeNull();
    expect(fromEpoch!).toBeGreaterThanOrEqual(2);
    expect(fromEpoch!).toBeLessThan(EPOCHS - 1);
    const end = await app.runs.waitFor(id);
    expect(end.error).toBeNull();
    expect(end.status).toBe('completed');
    const resumedJob = JSON.parse(readFileSync(join((await info())!.jobDir, 'job.json'), 'utf8')) as { resume?: { epoch: number } };
    expect(resumedJob.resume).toEqual({ epoch: fromEpoch });
    expect(epochNumbers(app.runs.metrics(id))).toEqual(epochNumbers(app.runs.metrics(whole)));
    expect(app.runs.get(id).testAccuracy).toBe(app.runs.get(whole).testAccuracy);
  });

  it('engine-job: an engine ended by SIGTERM (Slurm signals every process of a job) writes no failure of its own; one that dies by itself says why', { timeout: 60_000 }, async () => {
    // The time-limit test was flaky: Slurm's SIGTERM reaches engine-job and the engine at once, and
    // when the engine's exit was seen first, engine-job wrote "engine exited with signal SIGTERM" as the run's error.
    const from = join(stage, 'jobs', readdirSync(join(stage, 'jobs'))[0]!, 'job.json');
    const ends = async (name: string, source: string): Promise<{ code: number; messages: string }> => {
      const d = tempDir();
      try {
        copyFileSync(from, join(d.path, 'job.json'));
        const code = await runEngineJob(d.path, { launcher: scriptLauncher(d.path, name, source), signals: [] });
        return { code, messages: readFileSync(join(d.path, 'messages.jsonl'), 'utf8') };
      } finally {
        d.cleanup();
      }
    };
    expect(await ends('sigterm', "process.on('message', () => process.kill(process.pid, 'SIGTERM'));")).toEqual({ code: 143, messages: '' });
    const died = await ends('exit3', "process.on('message', () => process.exit(3));");
    expect(died.code).toBe(3);
    expect(JSON.parse(died.messages.trim())).toEqual({ type: 'failed', error: 'engine exited with code 3' });
  });

  it('a host restarted while its job trains follows the job again to its end', { timeout: 300_000 }, async () => {
    await useSlurm();
    await app.shutdown(2000);
    app = createApp({ dataDir: dir.root, api: { validateResults: true }, cancelTimeoutMs: 5000, concurrency: 1, adoptQueued: true });
    const id = await train(120);
    await until('a few epochs', () => app.runs.metrics(id).filter((m) => m.name === 'train_loss').length >= 3);
    const jobId = app.executor.job(id)!.jobId;
    await app.shutdown(2000);
    // The host went away; the job did not.
    expect((JSON.parse(readFileSync(join(slurmDir, 'jobs', `${jobId}.json`), 'utf8')) as { state: string }).state).toBe('RUNNING');
    app = createApp({ dataDir: dir.root, api: { validateResults: true }, cancelTimeoutMs: 5000, concurrency: 1, adoptQueued: true });
    const end = await app.runs.waitFor(id);
    expect(end.status).toBe('completed');
    const epochs = app.runs.metrics(id).filter((m) => m.name === 'train_loss').map((m) => m.epoch);
    expect(epochs).toEqual(Array.from({ length: 120 }, (_, i) => i));
    expect(calls().filter((c) => c[0] === 'scancel' && c[1] === jobId)).toEqual([]);
    expect(app.executor.job(id)!.jobId).toBe(jobId);
  });
});
