/**
 * RunService and the API router against a real SQLite file, real dataset import and a
 * real engine process (src/engine/entry.ts run with tsx).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/shared/errors';
import { createApiHandler, toApiError } from '../../src/main/services/api-router';
import { createApp, type App } from '../../src/main/services/app';
import { INTERRUPTED } from '../../src/main/services/runs';
import { processStartTime } from '../../src/main/db/owners';
import { hostname } from 'node:os';
import type { ApiEvent } from '../../src/main/events';
import { SpecError } from '../../src/shared/spec';
import type { Metric, RunDetail, RunSummary } from '../../src/shared/api';
import { tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { cifar, linearSpec, RecordingLauncher, scriptLauncher, tinyCifarFolder } from './runs-helpers';

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected a rejection');
}

/** Resolve on the first event matching `pred`. */
function nextEvent(app: App, pred: (e: ApiEvent) => boolean): Promise<ApiEvent> {
  return new Promise((resolve) => {
    const sub = app.onEvent((e) => {
      if (pred(e)) {
        sub.dispose();
        resolve(e);
      }
    });
  });
}

describe('API router', () => {
  const services = {
    systemInfo: () => ({ version: '0', dataDir: '/x', host: 'headless' as const, sampleDatasetPath: null }),
    datasets: {
      list: () => [],
      get: (id: number) => {
        throw new ApiError('not_found', `datasetId: ${id} not found`, 'datasetId');
      },
      startImport: () => {
        throw new ApiError('invalid_params', 'path: /nope does not exist', 'path');
      },
      cancelImport: () => false,
      getImport: () => null,
      items: () => ({ total: 0, items: [] }),
      setSplit: () => undefined,
      delete: () => undefined,
    },
    runs: {
      list: () => [],
      get: () => {
        throw new ApiError('not_found', 'run 9 not found', 'runId');
      },
      start: async () => {
        throw new SpecError('training.batchSize: Too small: expected number to be >=1', 'training.batchSize');
      },
      cancel: () => ({ ok: false }),
      metrics: () => [],
    },
  };
  const handle = createApiHandler(services as never, { validateResults: true });

  it('refuses an unknown method', async () => {
    const e = await rejection(handle('runs.explode', {}));
    expect(e.code).toBe('invalid_params');
    expect(e.field).toBe('method');
    expect(e.message).toContain('runs.explode');
  });

  it('refuses bad params with a message naming the field', async () => {
    let e = await rejection(handle('runs.get', { runId: 'seven' }));
    expect(e).toMatchObject({ code: 'invalid_params', field: 'runId' });
    expect(e.message).toMatch(/^runId: /);
    e = await rejection(handle('datasets.items', { datasetId: 1, offset: 0, limit: 0 }));
    expect(e).toMatchObject({ code: 'invalid_params', field: 'limit' });
    e = await rejection(handle('runs.list', { datasetId: 1, extra: true }));
    expect(e.code).toBe('invalid_params');
    expect(e.message).toContain('extra');
    e = await rejection(handle('system.info', 'not an object'));
    expect(e.code).toBe('invalid_params');
  });

  it('maps service errors: SpecError → invalid_params, "x: … not found" → not_found', async () => {
    expect(await rejection(handle('runs.start', { spec: {} }))).toMatchObject({ code: 'invalid_params', field: 'training.batchSize' });
    expect(await rejection(handle('datasets.get', { datasetId: 3 }))).toMatchObject({ code: 'not_found', field: 'datasetId', message: 'datasetId: 3 not found' });
    expect(await rejection(handle('datasets.import', { path: '/nope' }))).toMatchObject({ code: 'invalid_params', field: 'path' });
    expect(await rejection(handle('runs.get', { runId: 9 }))).toMatchObject({ code: 'not_found', field: 'runId' });
    expect(await rejection(handle('imports.get', { jobId: 4 }))).toMatchObject({ code: 'not_found', field: 'jobId' });
    expect(toApiError(new Error('boom'))).toEqual({ code: 'internal', message: 'boom' });
    expect(toApiError(new Error('DatasetService: disposed')).code).toBe('internal');
  });

  it('never guesses a code from message text: a plain Error is internal whatever it says', () => {
    expect(toApiError(new Error('datasetId: 3 not found'))).toEqual({ code: 'internal', message: 'datasetId: 3 not found' });
    expect(toApiError(new Error('path: /x does not exist'))).toEqual({ code: 'internal', message: 'path: /x does not exist' });
    expect(toApiError(new ApiError('conflict', 'name: taken', 'name'))).toEqual({ code: 'conflict', message: 'name: taken', field: 'name' });
  });

  it('normalises results (cancelImport boolean → { ok })', async () => {
    expect(await handle('imports.cancel', { jobId: 1 })).toEqual({ ok: false });
    expect(await handle('datasets.delete', { datasetId: 1 })).toEqual({ ok: true });
  });
});

describe.skipIf(!cifar)('runs with a real engine on 2 CIFAR-10 classes × 20 images', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  let app: App;
  let launcher: RecordingLauncher;
  let datasetId: number;

  beforeAll(async () => {
    dir = tempDataDir();
    input = tempDir();
    tinyCifarFolder(input.path);
    launcher = new RecordingLauncher();
    app = createApp({ dataDir: dir.root, launcher, api: { validateResults: true }, cancelTimeoutMs: 3000, concurrency: 1 });
    const { jobId } = (await app.handle('datasets.import', { path: input.path, name: 'tiny' })) as { jobId: number };
    const job = await app.datasets.waitForImport(jobId);
    expect(job.status).toBe('done');
    datasetId = job.datasetId!;
  });
  afterAll(async () => {
    await app?.shutdown(2000);
    input?.cleanup();
    dir?.cleanup();
  });

  it('refuses invalid specs before anything starts, naming the field', async () => {
    const bad = linearSpec(datasetId);
    (bad.training as { batchSize: number }).batchSize = 0;
    let e = await rejection(app.handle('runs.start', { spec: bad }));
    expect(e).toMatchObject({ code: 'invalid_params', field: 'training.batchSize' });
    expect(e.message).toContain('training.batchSize');
    e = await rejection(app.handle('runs.start', { spec: linearSpec(datasetId, { numClasses: 3 }) }));
    expect(e).toMatchObject({ code: 'invalid_params', field: 'model.numClasses' });
    e = await rejection(app.handle('runs.start', { spec: linearSpec(999) }));
    expect(e).toMatchObject({ code: 'invalid_params', field: 'datasetId' });
    expect(app.runs.list()).toEqual([]);
    expect(launcher.launched).toHaveLength(0);
  });

  it('trains linear for 1 epoch: running → completed, metrics and checkpoint persisted, events fired', async () => {
    const events: ApiEvent[] = [];
    const sub = app.onEvent((e) => events.push(e));
    const t0 = performance.now();
    const { runId } = (await app.handle('runs.start', { spec: linearSpec(datasetId, { epochs: 1, batchSize: 8 }) })) as { runId: number };
    const done = await app.runs.waitFor(runId);
    const seconds = (performance.now() - t0) / 1000;
    sub.dispose();
    console.log(`linear, 1 epoch on 32 train images: ${seconds.toFixed(2)} s wall (engine start included), backend ${done.backend}`);
    expect(done.status).toBe('completed');
    expect(done.error).toBeNull();
    expect(done.backend).toBeTruthy();
    expect(done.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(done.testAccuracy).toBeLessThanOrEqual(1);
    expect(done.samplesPerSec).toBeGreaterThan(0);
    expect(done.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(done.datasetName).toBe('tiny');
    expect(done.preset).toBe('linear');
    expect(done.datasetVersionId).not.toBeNull();

    const detail = (await app.handle('runs.get', { runId })) as RunDetail;
    expect(detail.spec.training.batchSize).toBe(8);
    expect(detail.spec.training.learningRateSchedule).toEqual({ type: 'constant' }); // defaults filled in

    const metrics = (await app.handle('runs.metrics', { runId })) as Metric[];
    const names = new Set(metrics.map((m) => m.name));
    for (const n of ['loss', 'samples_per_sec', 'train_loss', 'train_accuracy', 'learning_rate', 'epoch_seconds']) expect(names).toContain(n);
    const steps = metrics.filter((m) => m.name === 'loss');
    expect(steps.length).toBeGreaterThanOrEqual(1);
    expect(steps.every((m) => m.step !== null && m.epoch === 0)).toBe(true);
    const epochRows = metrics.filter((m) => m.name === 'train_loss');
    expect(epochRows).toEqual([expect.objectContaining({ epoch: 0, step: null })]);

    const ckpts = app.db.prepare('SELECT epoch, path FROM checkpoints WHERE run_id = ?').all(runId) as { epoch: number; path: string }[];
    expect(ckpts.length).toBe(1);
    expect(existsSync(ckpts[0].path.endsWith('.json') ? ckpts[0].path : join(ckpts[0].path, 'model.json'))).toBe(true);

    const statuses = events.filter((e) => e.event === 'run.status' && e.payload.runId === runId).map((e) => (e.payload as { status: string }).status);
    expect(statuses).toEqual(['queued', 'running', 'completed']);
    expect(events.some((e) => e.event === 'run.progress')).toBe(true);
    expect(events.some((e) => e.event === 'run.metrics')).toBe(true);
    const list = (await app.handle('runs.list', { datasetId })) as RunSummary[];
    expect(list.map((r) => r.id)).toContain(runId);
  });

  it('SIGKILL of the engine mid-run marks the run failed with a reason; the database stays intact', async () => {
    const { runId } = (await app.handle('runs.start', { spec: linearSpec(datasetId, { epochs: 500, batchSize: 1 }) })) as { runId: number };
    await nextEvent(app, (e) => e.event === 'run.progress' && e.payload.runId === runId);
    const engine = launcher.launched[launcher.launched.length - 1];
    expect(engine.pid).toBeGreaterThan(0);
    process.kill(engine.pid!, 'SIGKILL');
    const r = await app.runs.waitFor(runId);
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/engine exited with signal SIGKILL/);
    expect(app.db.pragma('integrity_check', { simple: true })).toBe('ok');
    // the step metrics received before the kill were kept
    expect(app.runs.metrics(runId).some((m) => m.name === 'loss')).toBe(true);
  });

  it('cancel stops a running engine: status cancelled', async () => {
    const { runId } = (await app.handle('runs.start', { spec: linearSpec(datasetId, { epochs: 500, batchSize: 1 }) })) as { runId: number };
    await nextEvent(app, (e) => e.event === 'run.progress' && e.payload.runId === runId);
    const t0 = performance.now();
    expect(await app.handle('runs.cancel', { runId })).toEqual({ ok: true });
    const r = await app.runs.waitFor(runId);
    console.log(`cancel → cancelled in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    expect(r.status).toBe('cancelled');
    expect(await app.handle('runs.cancel', { runId })).toEqual({ ok: false });
  });

  it('queues a second run while one trains (concurrency 1) and cancels a queued run at once', async () => {
    const a = (await app.handle('runs.start', { spec: linearSpec(datasetId, { epochs: 500, batchSize: 1 }) })) as { runId: number };
    const b = (await app.handle('runs.start', { spec: linearSpec(datasetId) })) as { runId: number };
    expect(app.runs.get(b.runId).status).toBe('queued');
    expect(await app.handle('runs.cancel', { runId: b.runId })).toEqual({ ok: true });
    expect(app.runs.get(b.runId).status).toBe('cancelled');
    await app.handle('runs.cancel', { runId: a.runId });
    expect((await app.runs.waitFor(a.runId)).status).toBe('cancelled');
  });

  it('deleting the dataset during a run stops its engine; nothing breaks', async () => {
    const other = tempDir();
    try {
      tinyCifarFolder(other.path, ['ship', 'truck'], 10);
      const { jobId } = (await app.handle('datasets.import', { path: other.path, name: 'doomed' })) as { jobId: number };
      const doomed = (await app.datasets.waitForImport(jobId)).datasetId!;
      const { runId } = await app.runs.start({ spec: linearSpec(doomed, { epochs: 1000, batchSize: 1 }) });
      await nextEvent(app, (e) => e.event === 'run.progress' && e.payload.runId === runId);
      const engine = launcher.launched[launcher.launched.length - 1];
      const exited = new Promise<void>((resolve) => engine.onExit(() => resolve()));
      await app.handle('datasets.delete', { datasetId: doomed });
      await exited;
      expect(app.runs.isActive(runId)).toBe(false);
      await expect(app.handle('runs.get', { runId })).rejects.toMatchObject({ code: 'not_found' });
      expect(app.db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(app.db.pragma('foreign_key_check')).toEqual([]);
    } finally {
      other.cleanup();
    }
  });

  it('an engine that exits without done is marked failed with its stderr tail', async () => {
    const scripts = tempDir();
    const dying = scriptLauncher(scripts.path, 'dying', `process.on('message', () => { process.stderr.write('Error: out of memory in conv2d\\n'); process.exit(3); });`);
    const other = createApp({ dataDir: dir.root, launcher: dying });
    try {
      const { runId } = await other.runs.start({ spec: linearSpec(datasetId) });
      const r = await other.runs.waitFor(runId);
      expect(r.status).toBe('failed');
      expect(r.error).toBe('engine exited with code 3: Error: out of memory in conv2d');
    } finally {
      await other.shutdown(1000);
      scripts.cleanup();
    }
  });

  it('an engine failed message is the reason; exit code 0 without done is a failure too', async () => {
    const scripts = tempDir();
    const failing = scriptLauncher(
      scripts.path,
      'failing',
      `process.on('message', () => { process.send({ type: 'ready', backend: 'fake' }); process.send({ type: 'failed', error: 'backend: no GPU adapter' }, () => process.exit(1)); });`,
    );
    const quitting = scriptLauncher(scripts.path, 'quitting', `process.on('message', () => process.send({ type: 'ready', backend: 'fake' }, () => process.exit(0)));`);
    let other = createApp({ dataDir: dir.root, launcher: failing });
    try {
      const { runId } = await other.runs.start({ spec: linearSpec(datasetId) });
      expect(await other.runs.waitFor(runId)).toMatchObject({ status: 'failed', error: 'backend: no GPU adapter', backend: 'fake' });
      await other.shutdown(1000);
      other = createApp({ dataDir: dir.root, launcher: quitting });
      const second = await other.runs.start({ spec: linearSpec(datasetId) });
      expect(await other.runs.waitFor(second.runId)).toMatchObject({ status: 'failed', error: 'engine exited with code 0' });
    } finally {
      await other.shutdown(1000);
      scripts.cleanup();
    }
  });
});

describe('interrupted runs', () => {
  it('on start, runs left running by a dead process are marked interrupted (not failed), queued ones stay queued (for a host that adopts them: test/main/sweeps.test.ts); a live owner keeps its runs', async () => {
    const dir = tempDataDir();
    try {
      const db = dir.openDb();
      db.prepare(`INSERT INTO datasets (id, name, created_at, split_config) VALUES (1, 'd', 0, '{}')`).run();
      const ins = db.prepare(`INSERT INTO runs (id, dataset_id, name, preset, spec, seed, status, created_at) VALUES (?, 1, 'r', 'linear', '{}', 0, ?, 0)`);
      ins.run(1, 'running');
      ins.run(2, 'queued');
      ins.run(3, 'running');
      ins.run(4, 'completed');
      // Run 3 belongs to a live process (our parent), run 1 to a dead one (owners in the database: src/main/db/owners.ts).
      const proc = db.prepare('INSERT INTO processes (id, pid, host, proc_start, started_at, heartbeat_at, heartbeat_ms) VALUES (?, ?, ?, ?, 0, 0, 2000)');
      const own = db.prepare('UPDATE runs SET owner_id = ? WHERE id = ?');
      for (const [id, pid] of [
        [1, 2 ** 22 + 12345],
        [3, process.ppid],
      ]) {
        proc.run(`p${id}`, pid, hostname(), processStartTime(pid));
        own.run(`p${id}`, id);
      }
      db.close();
      const app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher() });
      try {
        const byId = new Map(app.runs.list().map((r) => [r.id, r]));
        expect(byId.get(1)).toMatchObject({ status: 'interrupted', error: INTERRUPTED });
        expect(byId.get(2)).toMatchObject({ status: 'queued', error: null });
        expect(byId.get(3)?.status).toBe('running');
        expect(byId.get(4)?.status).toBe('completed');
      } finally {
        app.dispose();
        app.dispose(); // safe twice
      }
    } finally {
      dir.cleanup();
    }
  });
});
