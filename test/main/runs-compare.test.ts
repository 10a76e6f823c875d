/**
 * Compare's service and CLI on a real data directory with real engine runs (two linear runs
 * on 40 CIFAR-10 images that differ only in their learning rate): `runs.compare` gives both
 * runs with the same samples `runs.metrics` has; `layerwise compare --json` lists exactly the
 * learning rate as the difference; tags and notes are stored; a deleted run leaves no rows
 * and no folder.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/main/host/cli-program';
import { createApp, type App } from '../../src/main/services/app';
import type { Metric, Result } from '../../src/shared/api';
import { tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { argv, io } from './cli-io';
import { cifar, linearSpec, scriptLauncher, tinyCifarFolder } from './runs-helpers';


describe.skipIf(!cifar)('compare runs (real engine, real SQLite)', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  const ids: number[] = [];

  beforeAll(async () => {
    dir = tempDataDir();
    input = tempDir();
    tinyCifarFolder(input.path);
    expect(await runCli(argv('import', input.path, '--name', 'tiny', '--data-dir', dir.root), io())).toBe(0);
    for (const lr of ['0.01', '0.05']) {
      const o = io();
      const code = await runCli(argv('train', '--dataset', 'tiny', '--preset', 'linear', '--epochs', '2', '--batch-size', '8', '--optimizer', 'sgd', '--learning-rate', lr, '--seed', '3', '--data-dir', dir.root), o);
      expect(o.errors).toEqual([]);
      expect(code).toBe(0);
      ids.push(Number(/^run (\d+):/.exec(o.lines[0])![1]));
    }
  }, 300_000);
  afterAll(() => {
    input?.cleanup();
    dir?.cleanup();
  });

  const withApp = async <T>(fn: (app: App) => Promise<T>): Promise<T> => {
    const app = createApp({ dataDir: dir.root, host: 'headless', api: { validateResults: true } });
    try {
      return await fn(app);
    } finally {
      await app.shutdown();
    }
  };

  it('runs.compare: both runs in order, each metric in columns equal to runs.metrics, summary figures', async () => {
    await withApp(async (app) => {
      const res = (await app.handle('runs.compare', { runIds: [ids[1], ids[0]] })) as Result<'runs.compare'>;
      expect(res.runs.map((r) => r.id)).toEqual([ids[1], ids[0]]);
      for (const r of res.runs) {
        expect(r.status).toBe('completed');
        expect(r.epochsDone).toBe(2);
        const all = (await app.handle('runs.metrics', { runId: r.id })) as Metric[];
        const loss = all.filter((m) => m.name === 'loss');
        const col = res.metrics.find((c) => c.runId === r.id && c.name === 'loss')!;
        expect(col.value).toEqual(loss.map((m) => m.value));
        expect(col.step).toEqual(loss.map((m) => m.step));
        expect(res.sampleCounts.find((c) => c.runId === r.id && c.name === 'loss')!.count).toBe(loss.length);
        const val = all.filter((m) => m.name === 'val_accuracy');
        const best = Math.max(...val.map((m) => m.value));
        expect(r.bestValAccuracy).toBeCloseTo(best, 12);
        expect(r.bestValEpoch).toBe(val.find((m) => m.value === best)!.epoch! + 1);
      }
      // offset / limit: slices of a column, in order, that join into the whole column.
      const whole = res.metrics.find((c) => c.runId === ids[0] && c.name === 'loss')!;
      const head = (await app.handle('runs.compare', { runIds: [ids[0]], names: ['loss'], offset: 0, limit: 5 })) as Result<'runs.compare'>;
      const tail = (await app.handle('runs.compare', { runIds: [ids[0]], names: ['loss'], offset: 5 })) as Result<'runs.compare'>;
      expect(head.metrics[0].value).toEqual(whole.value.slice(0, 5));
      expect([...head.metrics[0].step, ...tail.metrics[0].step]).toEqual(whole.step);
      const past = (await app.handle('runs.compare', { runIds: [ids[0]], names: ['loss'], offset: whole.value.length })) as Result<'runs.compare'>;
      expect(past.metrics[0].value).toEqual([]);
      // names: [] → runs only; a missing run is refused naming runIds.
      const bare = (await app.handle('runs.compare', { runIds: ids, names: [] })) as Result<'runs.compare'>;
      expect(bare.metrics).toEqual([]);
      expect(bare.sampleCounts.length).toBeGreaterThan(0);
      // A deleted (absent) run is left out and named, the others still come (a saved Compare link keeps working).
      const partial = (await app.handle('runs.compare', { runIds: [ids[0], 999, ids[1]], names: [] })) as Result<'runs.compare'>;
      expect(partial.runs.map((r) => r.id)).toEqual([ids[0], ids[1]]);
      expect(partial.missing).toEqual([999]);
      expect(bare.missing).toEqual([]);
    });
  });

  it('layerwise compare --json: exactly the learning rate differs; the tables mark min and max', async () => {
    const o = io();
    expect(await runCli(argv('compare', String(ids[0]), String(ids[1]), '--json', '--data-dir', dir.root), o)).toBe(0);
    const out = JSON.parse(o.lines.join('\n')) as { runs: { id: number; testAccuracy: number | null }[]; differences: { path: string; values: unknown[] }[] };
    expect(out.differences).toEqual([{ path: 'training.optimizer.learningRate', values: [0.01, 0.05] }]);
    expect(out.runs.map((r) => r.id)).toEqual(ids);
    const t = io();
    expect(await runCli(argv('compare', String(ids[0]), String(ids[1]), '--data-dir', dir.root), t)).toBe(0);
    const text = t.lines.join('\n');
    expect(text).toMatch(/training\.optimizer\.learningRate\s+0\.01\s+0\.05/);
    expect(text).toContain('best val acc');
    expect(text).toMatch(/▲|the specs are the same/);
    // A run that is not there: named, the others compared; with none left, an error.
    const gone = io();
    expect(await runCli(argv('compare', String(ids[0]), '999', String(ids[1]), '--data-dir', dir.root), gone)).toBe(0);
    expect(gone.lines[0]).toBe('run 999 is not there (deleted?); comparing the others');
    expect(gone.lines.join('\n')).toMatch(/training\.optimizer\.learningRate\s+0\.01\s+0\.05/);
    const none = io();
    expect(await runCli(argv('compare', '998', '999', '--data-dir', dir.root), none)).not.toBe(0);
    expect(none.errors.join('\n')).toContain('runs 998, 999 are not there');
    const bad = io();
    expect(await runCli(argv('compare', 'x', '--data-dir', dir.root), bad)).toBe(2);
    expect(bad.errors.join('\n')).toContain('"x" is not a run id');
  });

  it('tags and a note are stored and listed; a deleted run leaves no rows and no folder', async () => {
    await withApp(async (app) => {
      const d = (await app.handle('runs.update', { runId: ids[0], tags: [' baseline ', 'lr', 'lr'], note: 'lower rate' })) as Result<'runs.update'>;
      expect(d.tags).toEqual(['baseline', 'lr']);
      expect(d.note).toBe('lower rate');
      const list = (await app.handle('runs.list', {})) as Result<'runs.list'>;
      expect(list.find((r) => r.id === ids[0])!.tags).toEqual(['baseline', 'lr']);
      expect(list.find((r) => r.id === ids[1])!.tags).toEqual([]);
      await expect(app.handle('runs.update', { runId: ids[0], tags: [''] })).rejects.toMatchObject({ code: 'invalid_params' });

      const folder = join(dir.paths.runs, String(ids[0]));
      expect(existsSync(folder)).toBe(true);
      expect(await app.handle('runs.delete', { runId: ids[0] })).toEqual({ ok: true });
      expect(existsSync(folder)).toBe(false);
      await expect(app.handle('runs.get', { runId: ids[0] })).rejects.toMatchObject({ code: 'not_found' });
      const db = dir.openDb();
      for (const t of ['metrics', 'checkpoints', 'predictions', 'run_tags']) {
        expect(db.prepare(`SELECT COUNT(*) FROM ${t} WHERE run_id = ?`).pluck().get(ids[0]), t).toBe(0);
      }
      expect(db.prepare(`SELECT COUNT(*) FROM metrics WHERE run_id = ?`).pluck().get(ids[1])).toBeGreaterThan(0);
      await expect(app.handle('runs.delete', { runId: ids[0] })).rejects.toMatchObject({ code: 'not_found' });
    });
  });

  it('a running run is not deleted (conflict, field runId); once cancelled it is', async () => {
    const scripts = tempDir();
    // An engine that says it is ready and then trains forever (until killed).
    const launcher = scriptLauncher(scripts.path, 'forever', `process.on('message', (m) => { if (m.type === 'train') process.send({ type: 'ready', backend: 'fake' }); if (m.type === 'cancel') process.exit(0); }); setInterval(() => {}, 1000);`);
    const app = createApp({ dataDir: dir.root, host: 'headless', launcher, cancelTimeoutMs: 2_000 });
    try {
      const { runId } = (await app.handle('runs.start', { spec: linearSpec(1) })) as { runId: number };
      await expect(app.handle('runs.delete', { runId })).rejects.toMatchObject({ code: 'conflict', field: 'runId' });
      await expect.poll(async () => ((await app.handle('runs.get', { runId })) as { status: string }).status, { timeout: 60_000 }).toBe('running');
      await expect(app.handle('runs.delete', { runId })).rejects.toMatchObject({ code: 'conflict', field: 'runId' });
      await app.handle('runs.cancel', { runId });
      await expect.poll(async () => ((await app.handle('runs.get', { runId })) as { status: string }).status, { timeout: 60_000 }).toBe('cancelled');
      await expect.poll(async () => app.handle('runs.delete', { runId }).then(() => 'deleted', (e: { code: string }) => e.code), { timeout: 30_000 }).toBe('deleted');
      await expect(app.handle('runs.get', { runId })).rejects.toMatchObject({ code: 'not_found' });
    } finally {
      await app.shutdown();
      scripts.cleanup();
    }
  }, 120_000);
});
