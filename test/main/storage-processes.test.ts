/**
 * Two (and three) real processes on one data directory (issue 7, "Data across processes"):
 * the second process is test/main/second-process.ts run with tsx; the CLI is
 * src/main/host/cli.ts run with tsx. Real SQLite file, real image folders.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processStartTime } from '../../src/main/db/owners';
import { createApp } from '../../src/main/services/app';
import { INTERRUPTED } from '../../src/main/services/runs';
import { REPO_ROOT, tempDataDir, tempDir } from '../helpers';
import { cifar, RecordingLauncher, tinyCifarFolder } from './runs-helpers';

const SECOND = join(REPO_ROOT, 'test', 'main', 'second-process.ts');
const CLI = join(REPO_ROOT, 'src', 'main', 'host', 'cli.ts');
const HEARTBEAT_MS = 300;

/** A fake engine: 'ready' on the job, then idle; on 'cancel' it reports done (cancelled) and exits; it exits with its parent. */
const FAKE_ENGINE = `
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  if (m.type === 'train') process.send({ type: 'ready', backend: 'fake' });
  if (m.type === 'cancel') process.send({ type: 'done', testLoss: null, testAccuracy: null, samplesPerSec: 0, cancelled: true }, () => process.exit(0));
});`;

interface Second {
  child: ChildProcess;
  /** Resolves with the first stdout line matching `re` (its match). */
  line(re: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  output(): string;
}

function second(dataDir: string, ...args: string[]): Second {
  const child = spawn(process.execPath, ['--import', 'tsx', SECOND, dataDir, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LAYERWISE_TEST_HEARTBEAT_MS: String(HEARTBEAT_MS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      const m = w.re.exec(out);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    check();
  });
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => out,
    line: (re) =>
      new Promise((resolve, reject) => {
        waiters.push({ re, resolve });
        check();
        void exited.then(() => setTimeout(() => reject(new Error(`second process exited before printing ${re}:\n${out}`)), 50));
      }),
  };
}

async function until<T>(what: string, f: () => T | undefined | null | false, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(!cifar)('two processes on one data directory', () => {
  it('a blob that another process is importing survives a dataset delete here (GC decided in SQLite)', async () => {
    const dir = tempDataDir();
    const input = tempDir();
    const app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), heartbeatMs: HEARTBEAT_MS, sampleDatasetPath: null });
    let other: Second | null = null;
    try {
      // Dataset 1 here: about 1,600 CIFAR-10 training images (4 classes). The other process imports the same images from a copy.
      const own = join(input.path, 'images');
      for (const c of ['airplane', 'automobile', 'bird', 'cat']) cpSync(join(cifar!, 'train', c), join(own, c), { recursive: true });
      const first = await app.datasets.waitForImport((await app.datasets.startImport({ path: own })).jobId);
      expect(first.status).toBe('done');
      expect(first.imported).toBeGreaterThan(1500);
      const copy = join(input.path, 'same-images');
      cpSync(own, copy, { recursive: true });
      other = second(dir.root, 'import', copy);
      const jobId = Number((await other.line(/^job (\d+)$/m))[1]);
      // Once it has committed a first batch (and has more in flight, found already on disk), delete dataset 1 here.
      await until('the other import to commit a batch', () => {
        const r = app.db.prepare('SELECT imported, status FROM import_jobs WHERE id = ?').get(jobId) as { imported: number; status: string } | undefined;
        return r && r.imported > 0;
      });
      expect(app.db.prepare('SELECT status FROM import_jobs WHERE id = ?').pluck().get(jobId)).toBe('running');
      await app.datasets.delete(first.datasetId!);
      const stillRunning = app.db.prepare('SELECT status FROM import_jobs WHERE id = ?').pluck().get(jobId);
      expect(await other.exited, other.output()).toBe(0);
      const job = JSON.parse(other.output().split('\n').find((l) => l.startsWith('{'))!) as { status: string; imported: number; datasetId: number };
      expect(job.status).toBe('done');
      console.log(`other import: ${job.imported} items; still running when the delete here finished: ${stillRunning === 'running'}`);
      // Every item the other process committed has its image file; the blob rows exist.
      const hashes = app.db.prepare('SELECT blob_hash FROM items WHERE dataset_id = ?').pluck().all(job.datasetId) as string[];
      expect(hashes.length).toBe(job.imported);
      const missing = hashes.filter((h) => app.imageFile(h, 'full') === null);
      expect(missing.length, `${missing.length} of ${hashes.length} items lost their image`).toBe(0);
      expect(app.db.prepare('SELECT COUNT(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.hash = i.blob_hash)').pluck().get()).toBe(0);
      expect(app.db.pragma('integrity_check', { simple: true })).toBe('ok');
      // With nothing pending any more, deleting the second dataset leaves no blobs behind.
      await app.datasets.delete(job.datasetId);
      expect(app.db.prepare("SELECT COUNT(*) FROM blobs WHERE format != 'json'").pluck().get()).toBe(0);
      expect(hashes.filter((h) => app.imageFile(h, 'full') !== null)).toEqual([]);
    } finally {
      other?.child.kill('SIGKILL');
      await app.shutdown(1000);
      input.cleanup();
      dir.cleanup();
    }
  });

  it('imports and runs of a live process are never marked interrupted by another (nor by `layerwise runs`); cancel reaches them through the database; a dead owner is found by the periodic sweep', async () => {
    const dir = tempDataDir();
    const input = tempDir();
    const engine = join(input.path, 'fake-engine.cjs');
    writeFileSync(engine, FAKE_ENGINE);
    const children: Second[] = [];
    let app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), heartbeatMs: HEARTBEAT_MS, sampleDatasetPath: null });
    try {
      const tiny = await app.datasets.waitForImport((await app.datasets.startImport({ path: tinyCifarFolder(join(input.path, 'tiny')) })).jobId);
      const datasetId = tiny.datasetId!;
      await app.shutdown(1000);

      // Process B trains (fake engine, runs until cancelled); process C imports 4,000 images.
      const trainer = second(dir.root, 'train', String(datasetId), engine);
      children.push(trainer);
      const runId = Number((await trainer.line(/^run (\d+)$/m))[1]);
      const importer = second(dir.root, 'import', join(cifar!, 'train'));
      children.push(importer);
      const jobId = Number((await importer.line(/^job (\d+)$/m))[1]);

      // This process starts (its start-up sweep runs) and the CLI lists runs: nothing of B or C is touched.
      app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), heartbeatMs: HEARTBEAT_MS, sampleDatasetPath: null });
      await until('the run to be running', () => app.runs.get(runId).status === 'running');
      const cli = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'runs', '--data-dir', dir.root], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(cli.status, cli.stderr).toBe(0);
      expect(cli.stdout).toMatch(new RegExp(`^${runId}\\s.*running`, 'm'));
      await new Promise((r) => setTimeout(r, 4 * HEARTBEAT_MS)); // several sweeps here
      expect(app.runs.get(runId).status).toBe('running');
      expect(app.datasets.getImport(jobId).status).toBe('running');

      // Cancel from here: B carries out the request with its heartbeat.
      expect(app.runs.cancel(runId)).toEqual({ ok: true });
      await until('the run to be cancelled by its owner', () => app.runs.get(runId).status === 'cancelled', 10_000);
      expect(await trainer.exited, trainer.output()).toBe(0);

      // C's import cancelled from here: C stops it at its next heartbeat.
      expect(app.datasets.cancelImport(jobId)).toBe(true);
      await until('the import to be cancelled by its owner', () => app.datasets.getImport(jobId).status === 'cancelled', 10_000);
      expect(await importer.exited, importer.output()).toBe(0);

      // D dies (SIGKILL) while importing: this process's periodic sweep marks its import interrupted.
      const dying = second(dir.root, 'import', join(cifar!, 'train'));
      children.push(dying);
      const dyingJob = Number((await dying.line(/^job (\d+)$/m))[1]);
      await new Promise((r) => setTimeout(r, 2 * HEARTBEAT_MS));
      expect(app.datasets.getImport(dyingJob).status).toBe('running');
      dying.child.kill('SIGKILL');
      await dying.exited;
      const t0 = Date.now();
      await until('the dead import to be marked', () => app.datasets.getImport(dyingJob).status !== 'running', 10_000);
      console.log(`import of a killed process marked after ${Date.now() - t0} ms`);
      expect(app.datasets.getImport(dyingJob)).toMatchObject({ status: 'failed', error: 'interrupted' });

      // A run whose owner is killed is marked interrupted by the sweep, without restarting anything.
      const doomed = second(dir.root, 'train', String(datasetId), engine);
      children.push(doomed);
      const doomedId = Number((await doomed.line(/^run (\d+)$/m))[1]);
      await until('the doomed run to be running', () => app.runs.get(doomedId).status === 'running');
      doomed.child.kill('SIGKILL');
      await doomed.exited;
      await until('the dead run to be marked', () => app.runs.get(doomedId).status !== 'running', 10_000);
      expect(app.runs.get(doomedId)).toMatchObject({ status: 'interrupted', error: INTERRUPTED });

      // Cancel of a run whose owner is dead (here: a process row of a pid that does not exist) cancels it at once.
      app.db.prepare('INSERT INTO processes (id, pid, host, proc_start, started_at, heartbeat_at, heartbeat_ms) VALUES (?, ?, ?, NULL, 0, 0, 2000)').run('dead', 2 ** 22 + 4321, hostname());
      const orphan = Number(
        app.db.prepare("INSERT INTO runs (dataset_id, name, preset, spec, seed, status, created_at, owner_id) VALUES (?, 'o', 'linear', '{}', 0, 'running', 0, 'dead')").run(datasetId).lastInsertRowid,
      );
      expect(app.runs.cancel(orphan)).toEqual({ ok: true });
      expect(app.runs.get(orphan).status).toBe('cancelled');
      // A reused pid (alive, another start time) is not the owner either.
      expect(processStartTime(process.pid)).not.toBeNull();
      expect(app.db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      for (const c of children) c.child.kill('SIGKILL');
      await app.shutdown(1000);
      input.cleanup();
      dir.cleanup();
    }
  });
});

describe('process liveness', () => {
  it.skipIf(!existsSync('/proc/self/stat'))('a live pid with another start time (reused) counts as gone; this process and its parent are alive', async () => {
    const { isGone } = await import('../../src/main/db/owners');
    const row = { id: 'x', pid: process.ppid, host: hostname(), proc_start: processStartTime(process.ppid), started_at: 0, heartbeat_at: 0, heartbeat_ms: 2000 };
    expect(isGone(row)).toBe(false);
    expect(isGone({ ...row, proc_start: '1' })).toBe(true);
    expect(isGone({ ...row, pid: 2 ** 22 + 999 })).toBe(true);
    // another host: judged by the heartbeat alone
    expect(isGone({ ...row, host: 'elsewhere', heartbeat_at: Date.now() / 1000 })).toBe(false);
    expect(isGone({ ...row, host: 'elsewhere', heartbeat_at: Date.now() / 1000 - 10 })).toBe(true);
  });
});
