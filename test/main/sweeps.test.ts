/**
 * Sweeps end to end (src/main/services/sweeps.ts, the run queue in services/runs/) on a real
 * SQLite file, a real import of 2 CIFAR-10 classes × 20 images and real engine processes:
 * a 2×2 grid × 2 seeds creates 8 runs with the right specs and its table's means are the
 * runs' stored metrics; the queue survives a clean host restart and a killed process
 * (queued runs stay queued and start again in the next host; running ones are interrupted);
 * engines share the cores (LAYERWISE_THREADS); `layerwise sweep` prints the table.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/main/services/app';
import { INTERRUPTED } from '../../src/main/services/runs';
import { runCli } from '../../src/main/host/cli-program';
import type { Metric, RunDetail } from '../../src/shared/api';
import type { SweepDetail, SweepSummary } from '../../src/shared/sweep-api';
import { mulberry32 } from '../../src/shared/random';
import { sweepProgressText } from '../../src/shared/sweep-table';
import { REPO_ROOT, tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { cifar, linearSpec, RecordingLauncher, tinyCifarFolder } from './runs-helpers';

const CLI = join(REPO_ROOT, 'src', 'main', 'host', 'cli.ts');

async function until(what: string, pred: () => boolean, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sample mean and standard deviation (n − 1), written out again for the check. */
function handStats(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, sd: xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) };
}

describe.skipIf(!cifar)('sweeps with real engines on 2 CIFAR-10 classes × 20 images', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  let datasetId: number;

  beforeAll(async () => {
    dir = tempDataDir();
    input = tempDir();
    tinyCifarFolder(input.path);
    const app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), sampleDatasetPath: null });
    try {
      const job = await app.datasets.waitForImport((await app.datasets.startImport({ path: input.path, name: 'tiny' })).jobId);
      expect(job.status).toBe('done');
      datasetId = job.datasetId!;
      const ds = app.datasets.get(datasetId);
      expect(ds.counts.val).toBeGreaterThan(0);
      expect(ds.counts.test).toBeGreaterThan(0);
    } finally {
      await app.shutdown(2000);
    }
  }, 120_000);
  afterAll(() => {
    input?.cleanup();
    dir?.cleanup();
  });

  it('a 2×2 grid × 2 seeds creates 8 runs with the right specs; the table’s means and sds are those of the runs’ stored metrics', async () => {
    const launcher = new RecordingLauncher();
    const app = createApp({ dataDir: dir.root, launcher, api: { validateResults: true }, concurrency: 2, sampleDatasetPath: null });
    try {
      const spec = {
        base: linearSpec(datasetId, { epochs: 2, batchSize: 4 }),
        grid: [
          { path: 'training.optimizer.learningRate', values: [0.05, 0.005] },
          { path: 'training.batchSize', values: [4, 8] },
        ],
        seeds: 2,
      };
      const { sweepId, runIds } = (await app.handle('sweeps.create', { spec, name: 'grid' })) as { sweepId: number; runIds: number[] };
      expect(runIds).toHaveLength(8);
      const details = runIds.map((id) => app.handle('runs.get', { runId: id }) as Promise<RunDetail>);
      const specs = (await Promise.all(details)).map((r) => [r.spec.training.optimizer.learningRate, r.spec.training.batchSize, r.spec.seed, r.spec.training.epochs]);
      expect(specs).toEqual([
        [0.05, 4, 1, 2],
        [0.05, 4, 2, 2],
        [0.05, 8, 1, 2],
        [0.05, 8, 2, 2],
        [0.005, 4, 1, 2],
        [0.005, 4, 2, 2],
        [0.005, 8, 1, 2],
        [0.005, 8, 2, 2],
      ]);
      const listed = (await app.handle('sweeps.list', {})) as SweepSummary[];
      expect(listed[0]).toMatchObject({ id: sweepId, name: 'grid', variants: 4, seeds: 2, runs: 8, datasetId });

      for (const id of runIds) expect((await app.runs.waitFor(id)).status).toBe('completed');
      const d = (await app.handle('sweeps.get', { sweepId })) as SweepDetail;
      expect(d.counts).toEqual({ queued: 0, running: 0, completed: 8, failed: 0, cancelled: 0, interrupted: 0 });
      expect(d.table).toHaveLength(4);
      // Engines shared the 2-run queue: each got floor(cores / 2) threads when both slots were taken.
      const threads = launcher.options.map((o) => Number(o?.env?.LAYERWISE_THREADS));
      expect(threads).toContain(Math.max(1, Math.floor(availableParallelism() / 2)));

      for (const row of d.table) {
        const mine = d.runList.filter((r) => r.variant === row.variant).map((r) => r.runId);
        expect(mine).toHaveLength(2);
        // Best val accuracy of each run from its stored epoch metrics; test accuracy as stored.
        const vals: number[] = [];
        const tests: number[] = [];
        for (const id of mine) {
          const m = (await app.handle('runs.metrics', { runId: id })) as Metric[];
          vals.push(Math.max(...m.filter((x) => x.name === 'val_accuracy').map((x) => x.value)));
          tests.push(((await app.handle('runs.get', { runId: id })) as RunDetail).testAccuracy!);
        }
        const v = handStats(vals);
        const t = handStats(tests);
        expect(row.val!.mean).toBeCloseTo(v.mean, 12);
        expect(row.val!.sd).toBeCloseTo(v.sd, 12);
        expect(row.test!.mean).toBeCloseTo(t.mean, 12);
        expect(row.test!.sd).toBeCloseTo(t.sd, 12);
        if (row.variant > 0) expect(row.deltaTest!.mean).toBeCloseTo(t.mean - d.table[0].test!.mean, 12);
        console.log(`variant ${row.variant} ${row.label}: val ${vals.join(', ')}; test ${tests.join(', ')}`);
      }
      expect(d.table.filter((r) => r.best)).toHaveLength(1);
    } finally {
      await app.shutdown(3000);
    }
  }, 600_000);

  it('a clean host restart keeps the queue: queued runs stay queued (a CLI passing by leaves them), the next host starts them; the running one is interrupted; cancel stops the rest', async () => {
    const spec = { base: linearSpec(datasetId, { batchSize: 1 }), grid: [{ path: 'training.epochs', values: [400, 1, 2, 400] }] };
    let app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), concurrency: 1, adoptQueued: true, sampleDatasetPath: null });
    let sweepId: number;
    let runIds: number[];
    try {
      ({ sweepId, runIds } = (await app.handle('sweeps.create', { spec })) as { sweepId: number; runIds: number[] });
      await until('the first run to train', () => app.runs.get(runIds[0]).status === 'running');
    } finally {
      await app.shutdown(3000);
    }
    const status = (a: App) => runIds.map((id) => a.runs.get(id).status);
    // A CLI command opens the data directory and leaves: nothing of the queue changes.
    const cli = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), sampleDatasetPath: null });
    try {
      expect(cli.runs.get(runIds[0])).toMatchObject({ status: 'interrupted', error: INTERRUPTED });
      expect(status(cli)).toEqual(['interrupted', 'queued', 'queued', 'queued']);
      cli.runs.sweep();
      expect(status(cli)).toEqual(['interrupted', 'queued', 'queued', 'queued']);
    } finally {
      await cli.shutdown(2000);
    }
    const launcher = new RecordingLauncher();
    app = createApp({ dataDir: dir.root, launcher, concurrency: 1, adoptQueued: true, sampleDatasetPath: null });
    try {
      expect((await app.runs.waitFor(runIds[1])).status).toBe('completed');
      expect((await app.runs.waitFor(runIds[2])).status).toBe('completed');
      await until('the last run to train', () => app.runs.get(runIds[3]).status === 'running');
      // The interrupted run is resumed (runs.resume, same id, same sweep): queued behind the running one.
      expect(((await app.handle('sweeps.get', { sweepId })) as SweepDetail).runList[0]).toMatchObject({ status: 'interrupted', error: INTERRUPTED });
      await app.handle('runs.resume', { runId: runIds[0] });
      expect(app.runs.get(runIds[0]).status).toBe('queued');
      expect(((await app.handle('sweeps.cancel', { sweepId })) as { cancelled: number }).cancelled).toBe(2);
      expect((await app.runs.waitFor(runIds[3])).status).toBe('cancelled');
      expect((await app.runs.waitFor(runIds[0])).status).toBe('cancelled');
      const d = (await app.handle('sweeps.get', { sweepId })) as SweepDetail;
      expect(d.counts).toEqual({ queued: 0, running: 0, completed: 2, failed: 0, cancelled: 2, interrupted: 0 });
      expect(d.cancelledAt).not.toBeNull();
      expect(d.table.map((r) => r.completed)).toEqual([0, 1, 1, 0]);
      // Progress counts each outcome (not "4 / 4 finished"), and the page names the dataset (trial items 7, 10).
      expect(sweepProgressText(d)).toBe('2 completed, 2 cancelled of 4 runs');
      expect(d.datasetName).toBe('tiny');
      // Deleting a run does not shrink the sweep: still 4 planned runs, one said as deleted.
      await app.handle('runs.delete', { runId: runIds[1] });
      const after = (await app.handle('sweeps.get', { sweepId })) as SweepDetail;
      expect(after).toMatchObject({ runs: 4, deleted: 1, variants: 4, seeds: 1 });
      expect(sweepProgressText(after)).toBe('1 completed, 2 cancelled, 1 deleted of 4 runs');
      expect(((await app.handle('sweeps.list', {})) as SweepSummary[]).find((x) => x.id === sweepId)).toMatchObject({ runs: 4, deleted: 1 });
      // Alone in the queue (concurrency 1), each engine had every core.
      expect(launcher.options.map((o) => o?.env?.LAYERWISE_THREADS)).toEqual([String(availableParallelism()), String(availableParallelism()), String(availableParallelism())]);
    } finally {
      await app.shutdown(3000);
    }
  }, 600_000);

  it('a killed `layerwise sweep` (SIGKILL mid-sweep): the next host marks its running run interrupted and trains its queued runs', async () => {
    const file = join(input.path, 'base.json');
    writeFileSync(file, JSON.stringify(linearSpec(datasetId, { batchSize: 1 })));
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'sweep', '--spec', file, '--grid', 'training.epochs=400,1,2', '--concurrency', '1', '--data-dir', dir.root], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    let gone = false;
    const exited = new Promise<void>((r) => child.on('exit', () => ((gone = true), r())));
    const watcher = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), sampleDatasetPath: null });
    let ids: number[] = [];
    try {
      await until('the sweep to be created', () => {
        if (gone) throw new Error(`layerwise sweep exited early:\n${out}`);
        return /^sweep (\d+)/m.test(out);
      });
      const sweepId = Number(/^sweep (\d+)/m.exec(out)![1]);
      await until('its first run to train', () => {
        const d = watcher.sweeps.get(sweepId);
        ids = d.runList.map((r) => r.runId);
        return d.runList.length === 3 && d.runList[0].status === 'running';
      });
    } finally {
      watcher.dispose();
    }
    child.kill('SIGKILL');
    await exited;
    const app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), concurrency: 2, adoptQueued: true, sampleDatasetPath: null });
    try {
      expect(app.runs.get(ids[0])).toMatchObject({ status: 'interrupted', error: INTERRUPTED });
      expect((await app.runs.waitFor(ids[1])).status).toBe('completed');
      expect((await app.runs.waitFor(ids[2])).status).toBe('completed');
      expect(app.runs.get(ids[2]).spec.training.epochs).toBe(2);
    } finally {
      await app.shutdown(3000);
    }
  }, 600_000);

  it('`layerwise sweep` prints a line per run and the ablation table; a bad --grid names the field', async () => {
    const file = join(input.path, 'cli.json');
    writeFileSync(file, JSON.stringify(linearSpec(datasetId)));
    const lines: string[] = [];
    const errors: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => errors.push(l), onInterrupt: () => () => undefined, appOptions: { launcher: new RecordingLauncher(), sampleDatasetPath: null } };
    const code = await runCli(['node', 'layerwise', 'sweep', '--spec', file, '--grid', 'model.dropoutRate=0,0.5', '--seeds', '2', '--concurrency', '2', '--data-dir', dir.root], io);
    expect(code, [...lines, ...errors].join('\n')).toBe(0);
    console.log(lines.join('\n'));
    expect(lines[0]).toMatch(/^sweep \d+ ".*": 2 variants × 2 seeds = 4 runs, 2 at a time$/);
    expect(lines.filter((l) => /^\[\d\/4\] run \d+ completed \(model.dropoutRate=(0|0.5), seed [12]\): val [\d.]+ %, test [\d.]+ %$/.test(l))).toHaveLength(4);
    const header = lines.findIndex((l) => /^#\s+variant\s+done\s+val acc %\s+Δ val\s+test acc %\s+Δ test/.test(l));
    expect(header).toBeGreaterThan(0);
    expect(lines[header + 2]).toMatch(/^[ *]0\s+model.dropoutRate=0\s+2\/2\s+[\d.]+ ± [\d.]+\s+baseline/);
    expect(lines[header + 3]).toMatch(/^[ *]1\s+model.dropoutRate=0.5\s+2\/2\s+[\d.]+ ± [\d.]+\s+[+−][\d.]+ ± [\d.]+/);

    const bad = await runCli(['node', 'layerwise', 'sweep', '--spec', file, '--grid', 'training.batchSize=8,0', '--data-dir', dir.root], { ...io, out: () => undefined, err: (l: string) => errors.push(l) });
    expect(bad).toBe(2);
    expect(errors.at(-1)).toMatch(/sweep variant 1 \(training.batchSize=0\): training.batchSize: /);

    // A SweepSpec file, with seeded log-uniform draws added by flags: the runs' learning rates are the draws.
    const sweepFile = join(input.path, 'sweep.json');
    writeFileSync(sweepFile, JSON.stringify({ base: linearSpec(datasetId), grid: [{ path: 'training.batchSize', values: [4] }] }));
    const out2: string[] = [];
    const code2 = await runCli(['node', 'layerwise', 'sweep', '--spec', sweepFile, '--random', '2', '--range', 'training.optimizer.learningRate=1e-3:1e-1:log', '--random-seed', '5', '--data-dir', dir.root], { ...io, out: (l: string) => out2.push(l) });
    expect(code2, out2.join('\n')).toBe(0);
    expect(out2[0]).toMatch(/: 2 variants × 1 seed = 2 runs, /);
    const u = mulberry32(5);
    const want = [u(), u()].map((x) => Math.exp(Math.log(1e-3) + x * (Math.log(1e-1) - Math.log(1e-3))));
    const sweepId = Number(/^sweep (\d+)/.exec(out2[0])![1]);
    const app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), sampleDatasetPath: null });
    try {
      const got = app.sweeps.get(sweepId).runList.map((r) => app.runs.get(r.runId).spec.training);
      expect(got.map((t) => t.batchSize)).toEqual([4, 4]);
      got.forEach((t, i) => expect(t.optimizer.learningRate).toBeCloseTo(want[i], 15));
    } finally {
      app.dispose();
    }
  }, 600_000);
});
