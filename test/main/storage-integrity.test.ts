/**
 * Storage integrity in one process (issue 7): run and dataset ids never reused, a deleted
 * dataset's run folders and pack caches removed; damaged cached packs detected and
 * rebuilt; a dataset with 100,000 predictions deleted in chunks while the API answers;
 * a full disk during import and training fails the job with its reason and corrupts
 * nothing (on a size-limited tmpfs, as root). Real SQLite files, real images, real engines.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createApp, type App } from '../../src/main/services/app';
import { tempDataDir, tempDir } from '../helpers';
import { cifar, linearSpec, RecordingLauncher, scriptLauncher, tinyCifarFolder } from './runs-helpers';

const NO_GPU = async (): Promise<{ available: boolean; detail: string }> => ({ available: false, detail: 'test' });

/** An engine that reports ready and done at once. */
const QUICK_ENGINE = `process.on('message', (m) => {
  if (m.type !== 'train') return;
  process.send({ type: 'ready', backend: 'fake' });
  process.send({ type: 'done', testLoss: null, testAccuracy: null, samplesPerSec: 1, cancelled: false }, () => process.exit(0));
});`;

async function until(what: string, f: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function importFolder(app: App, path: string): Promise<number> {
  const job = await app.datasets.waitForImport((await app.datasets.startImport({ path })).jobId);
  expect(job.status, job.error ?? '').toBe('done');
  return job.datasetId!;
}

describe.skipIf(!cifar)('ids and files of deleted datasets', () => {
  it('run and dataset ids are never reused; deleting a dataset removes its runs folders and its pack caches', async () => {
    const dir = tempDataDir();
    const input = tempDir();
    const scripts = tempDir();
    // A folder left by a run deleted before ids were AUTOINCREMENT: no new run may use it.
    mkdirSync(join(dir.paths.runs, '7'), { recursive: true });
    writeFileSync(join(dir.paths.runs, '7', 'stale.txt'), 'old run 7');
    const app = createApp({ dataDir: dir.root, launcher: scriptLauncher(scripts.path, 'quick', QUICK_ENGINE), gpu: NO_GPU, sampleDatasetPath: null });
    try {
      const folder = tinyCifarFolder(join(input.path, 'tiny'));
      const first = await importFolder(app, folder);
      const { runId } = await app.runs.start({ spec: linearSpec(first) });
      expect(await app.runs.waitFor(runId)).toMatchObject({ status: 'completed' });
      expect(runId).toBeGreaterThan(7);
      writeFileSync(join(dir.paths.runs, String(runId), 'model.json'), '{}');
      const version = app.runs.get(runId).datasetVersionId!;
      const hash = app.db.prepare('SELECT content_hash FROM dataset_versions WHERE id = ?').pluck().get(version) as string;
      expect(readdirSync(dir.paths.cache).filter((n) => n.startsWith(hash))).toHaveLength(1);

      await app.handle('datasets.delete', { datasetId: first });
      expect(existsSync(join(dir.paths.runs, String(runId)))).toBe(false);
      expect(readdirSync(dir.paths.cache).filter((n) => n.startsWith(hash))).toEqual([]);

      // The same images again: new dataset id, new run id, an empty run folder.
      const second = await importFolder(app, folder);
      expect(second).toBeGreaterThan(first);
      const again = await app.runs.start({ spec: linearSpec(second) });
      expect(again.runId).toBeGreaterThan(runId);
      expect(await app.runs.waitFor(again.runId)).toMatchObject({ status: 'completed' });
      expect(existsSync(join(dir.paths.runs, String(again.runId), 'model.json'))).toBe(false);
      const items = app.db.prepare('SELECT MIN(id) FROM items WHERE dataset_id = ?').pluck().get(second) as number;
      expect(items).toBeGreaterThan(40); // the first dataset's 40 item ids are not handed out again
    } finally {
      await app.shutdown(1000);
      scripts.cleanup();
      input.cleanup();
      dir.cleanup();
    }
  });
});

describe.skipIf(!cifar)('damaged pack caches', () => {
  it('truncated pixels, a label out of range, changed pixels and a bad meta.json are detected, named (file and item) and rebuilt', async () => {
    const dir = tempDataDir();
    const input = tempDir();
    const app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), gpu: NO_GPU, sampleDatasetPath: null });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const datasetId = await importFolder(app, tinyCifarFolder(join(input.path, 'tiny')));
      const p = await app.datasets.prepareTraining(datasetId, [32, 32, 3]);
      expect(p.meta.checksums?.pixelBlocks).toHaveLength(1);
      const file = (n: string): string => join(p.packDir, n);
      const original = { pixels: readFileSync(file('pixels.u8')), labels: readFileSync(file('labels.i32')), meta: readFileSync(file('meta.json'), 'utf8') };
      const manifest = JSON.parse(readFileSync(app.imageFile(p.versionHash, 'full')!, 'utf8')) as { items: [string, number, string][] };
      const damage: [string, () => void, RegExp][] = [
        ['truncated pixels', () => writeFileSync(file('pixels.u8'), original.pixels.subarray(0, 10 * 3072 + 5)), new RegExp(`pixels\\.u8: 30725 bytes, expected 122880 .*; item 10 \\(blob ${manifest.items[10][0].slice(0, 12)}…\\) is cut short`)],
        [
          'label out of range',
          () => {
            const l = Buffer.from(original.labels);
            l.writeInt32LE(7, 3 * 4);
            writeFileSync(file('labels.i32'), l);
          },
          new RegExp(`labels\\.i32: item 3 \\(blob ${manifest.items[3][0].slice(0, 12)}…\\) has label 7, outside 0…1`),
        ],
        [
          'one pixel changed',
          () => {
            const px = Buffer.from(original.pixels);
            px[5 * 3072 + 100] ^= 0xff;
            writeFileSync(file('pixels.u8'), px);
          },
          /pixels\.u8: items 0…39 \(from blob [0-9a-f]{12}…\) do not match their checksum/,
        ],
        ['bad meta.json', () => writeFileSync(file('meta.json'), original.meta.slice(0, 40)), /meta\.json: unreadable/],
        ['meta.json of another shape', () => writeFileSync(file('meta.json'), original.meta.replace('"count": 40', '"count": 39')), /meta\.json: count is 39, the dataset version has 40/],
      ];
      for (const [what, spoil, message] of damage) {
        warn.mockClear();
        spoil();
        const again = await app.datasets.prepareTraining(datasetId, [32, 32, 3]);
        expect(again.packDir, what).toBe(p.packDir);
        expect(warn.mock.calls.map((c) => String(c[0])).join('\n'), what).toMatch(message);
        expect(warn.mock.calls[0][0], what).toContain(p.packDir);
        expect(readFileSync(file('pixels.u8')).equals(original.pixels), what).toBe(true);
        expect(readFileSync(file('labels.i32')).equals(original.labels), what).toBe(true);
        expect(JSON.parse(readFileSync(file('meta.json'), 'utf8')), what).toEqual(JSON.parse(original.meta));
      }
      // An intact pack is reused without a word.
      warn.mockClear();
      await app.datasets.prepareTraining(datasetId, [32, 32, 3]);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
      await app.shutdown(1000);
      input.cleanup();
      dir.cleanup();
    }
  });
});

describe('deleting a large dataset', () => {
  it('a dataset with 100,000 predictions is deleted in chunks: system.info keeps answering (target p95 < 100 ms)', async () => {
    const dir = tempDataDir();
    const app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), gpu: NO_GPU, sampleDatasetPath: null });
    try {
      const db = app.db;
      const ITEMS = 5000, RUNS = 20;
      db.transaction(() => {
        const d = Number(db.prepare("INSERT INTO datasets (name, created_at, split_config) VALUES ('big', 0, '{}')").run().lastInsertRowid);
        const c0 = Number(db.prepare("INSERT INTO classes (dataset_id, idx, name) VALUES (?, 0, 'a')").run(d).lastInsertRowid);
        db.prepare("INSERT INTO classes (dataset_id, idx, name) VALUES (?, 1, 'b')").run(d);
        const blob = db.prepare("INSERT INTO blobs (hash, size, width, height, channels, format) VALUES (?, 1, 1, 1, 1, 'png')");
        const item = db.prepare("INSERT INTO items (dataset_id, blob_hash, original_name, class_id, split, created_at) VALUES (?, ?, ?, ?, 'train', 0)");
        const event = db.prepare("INSERT INTO label_events (item_id, new_class_id, time, source) VALUES (?, ?, 0, 'import')");
        const ids: number[] = [];
        for (let i = 0; i < ITEMS; i++) {
          const h = i.toString(16).padStart(64, '0');
          blob.run(h);
          const id = Number(item.run(d, h, `${i}.png`, c0).lastInsertRowid);
          event.run(id, c0);
          ids.push(id);
        }
        const run = db.prepare("INSERT INTO runs (dataset_id, name, preset, spec, seed, status, created_at) VALUES (?, 'r', 'linear', '{}', 0, 'completed', 0)");
        const pred = db.prepare("INSERT INTO predictions (run_id, item_id, split, given_class_id, predicted_class_id, confidence, given_probability, probs) VALUES (?, ?, 'train', ?, ?, 0.9, 0.9, ?)");
        const metric = db.prepare("INSERT INTO metrics (run_id, name, epoch, step, value, time) VALUES (?, 'loss', 0, ?, 1, 0)");
        const probs = Buffer.alloc(8);
        for (let r = 0; r < RUNS; r++) {
          const runId = Number(run.run(d).lastInsertRowid);
          for (const id of ids) pred.run(runId, id, c0, c0, probs);
          for (let s = 0; s < 2000; s++) metric.run(runId, s);
        }
      })();
      expect(db.prepare('SELECT COUNT(*) FROM predictions').pluck().get()).toBe(ITEMS * RUNS);
      const datasetId = db.prepare("SELECT id FROM datasets WHERE name = 'big'").pluck().get() as number;
      await app.handle('system.info', {});

      // system.info every 5 ms on a fixed schedule; latency counted from when it was due (so a blocked loop counts fully).
      let deleting = true;
      const latencies: number[] = [];
      const t0 = performance.now();
      const pinger = (async () => {
        for (let i = 0; deleting; i++) {
          const due = t0 + i * 5;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          await app.handle('system.info', {});
          latencies.push(performance.now() - due);
        }
      })();
      const started = performance.now();
      await app.handle('datasets.delete', { datasetId });
      const deleteMs = performance.now() - started;
      deleting = false;
      await pinger;
      latencies.sort((a, b) => a - b);
      const p95 = latencies[Math.floor(latencies.length * 0.95)];
      const max = latencies.at(-1)!;
      const stats = app.datasets.lastDeleteStats!;
      console.log(
        `delete of ${ITEMS} items, ${ITEMS * RUNS} predictions, ${RUNS * 2000} metrics: ${deleteMs.toFixed(0)} ms in ${stats.chunks} transactions, longest ${stats.longestChunkMs.toFixed(1)} ms (CPU ${stats.longestChunkCpuMs.toFixed(1)} ms); ` +
          `system.info ×${latencies.length}: p50 ${latencies[Math.floor(latencies.length / 2)].toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${max.toFixed(1)} ms`,
      );
      // The behaviour: many short transactions (one transaction of it all blocks > 1 s here), each well under the
      // 100 ms target in its own CPU time. On 2 cores shared with other work wall-clock latency is noisy, so the
      // system.info p95 is printed (the figure for the report), not asserted.
      expect(stats.chunks).toBeGreaterThan(100);
      expect(stats.longestChunkCpuMs).toBeLessThan(100);
      expect(latencies.length).toBeGreaterThan(10);
      for (const t of ['datasets', 'items', 'predictions', 'metrics', 'runs', 'label_events', 'classes', 'blobs']) expect(db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get(), t).toBe(0);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      await app.shutdown(1000);
      dir.cleanup();
    }
  });
});

/** Mount a tmpfs of `sizeMb` MiB at a new folder; null (with the reason) when that is not possible here. */
function mountTmpfs(sizeMb: number): { path: string; unmount(): void } | { reason: string } {
  if (process.platform !== 'linux') return { reason: 'tmpfs mounts need Linux' };
  if (process.getuid?.() !== 0) return { reason: 'mounting a tmpfs needs root' };
  const path = mkdtempSync(join(tmpdir(), 'layerwise-full-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', path], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(path, { recursive: true, force: true });
    return { reason: `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}` };
  }
  return {
    path,
    unmount: () => {
      spawnSync('umount', [path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Fill the file system of `dir` with one file until ENOSPC, then give back `leaveBytes`. Returns its path. */
function fill(dir: string, leaveBytes = 0): string {
  const file = join(dir, `filler-${Date.now()}.bin`);
  const chunk = Buffer.alloc(256 * 1024, 1);
  writeFileSync(file, '');
  for (;;) {
    try {
      writeFileSync(file, chunk, { flag: 'a' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
      throw err;
    }
  }
  // the last bytes, in small pieces
  for (let n = 16 * 1024; n >= 512; n /= 2) {
    try {
      for (;;) writeFileSync(file, chunk.subarray(0, n), { flag: 'a' });
    } catch {
      // next smaller size
    }
  }
  if (leaveBytes > 0) truncateSync(file, Math.max(0, statSync(file).size - leaveBytes));
  return file;
}

describe.skipIf(!cifar)('disk full', () => {
  it('during import and training: the job fails with "disk full while writing <file>", the host answers, nothing stored is damaged', async (ctx) => {
    const mnt = mountTmpfs(20);
    if ('reason' in mnt) {
      console.warn(`[tests] skipped: disk-full test: ${mnt.reason}`);
      ctx.skip();
      return;
    }
    const input = tempDir();
    const root = join(mnt.path, 'data');
    let app = createApp({ dataDir: root, gpu: NO_GPU, sampleDatasetPath: null, heartbeatMs: 200 });
    try {
      const datasetId = await importFolder(app, tinyCifarFolder(join(input.path, 'first')));
      const first = await app.runs.start({ spec: linearSpec(datasetId) });
      expect(await app.runs.waitFor(first.runId)).toMatchObject({ status: 'completed' });
      const before = {
        items: app.db.prepare('SELECT id, blob_hash, class_id, split FROM items ORDER BY id').all(),
        metrics: app.db.prepare('SELECT COUNT(*) FROM metrics WHERE run_id = ?').pluck().get(first.runId),
      };
      // Import with 64 KiB left: blobs and rows run out of space part-way.
      let filler = fill(mnt.path, 64 * 1024);
      const job = await app.datasets.waitForImport((await app.datasets.startImport({ path: tinyCifarFolder(join(input.path, 'second'), ['bird', 'dog']) })).jobId);
      console.log(`import on a full disk: ${job.status}: ${job.error}`);
      expect(job.status).toBe('failed');
      expect(job.error).toMatch(/^disk full while writing \//);
      expect(((await app.handle('datasets.list', {})) as unknown[]).length).toBeGreaterThanOrEqual(1);
      // With no space at all, the request itself is refused with the reason; the host stays up.
      const full = fill(mnt.path);
      await expect(app.handle('datasets.import', { path: join(input.path, 'second') })).rejects.toThrow(/disk full while writing \//);
      rmSync(full);
      rmSync(filler);

      // Training: the disk fills up after the first checkpoint.
      const run = await app.runs.start({ spec: linearSpec(datasetId, { epochs: 200, batchSize: 4 }) });
      await until('a first checkpoint', () => (app.db.prepare('SELECT COUNT(*) FROM checkpoints WHERE run_id = ?').pluck().get(run.runId) as number) > 0);
      // What clients (and the CLI, which waits with waitFor) are told at once; the run's row is written when there is space again.
      filler = fill(mnt.path);
      const r = await app.runs.waitFor(run.runId);
      console.log(`training on a full disk: ${r.status}: ${r.error}`);
      expect(r.status).toBe('failed');
      expect(r.error).toMatch(/disk full while writing \//);
      expect(await app.handle('system.info', {})).toMatchObject({ dataDir: root });

      // Space again: everything stored before is intact, the failures are recorded.
      rmSync(filler);
      await new Promise((res) => setTimeout(res, 500)); // a sweep writes what could not be written
      await app.shutdown(2000);
      app = createApp({ dataDir: root, gpu: NO_GPU, sampleDatasetPath: null });
      expect(app.db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(app.db.pragma('foreign_key_check')).toEqual([]);
      expect(app.db.prepare('SELECT id, blob_hash, class_id, split FROM items WHERE dataset_id = ? ORDER BY id').all(datasetId)).toEqual(before.items);
      expect(app.db.prepare('SELECT COUNT(*) FROM metrics WHERE run_id = ?').pluck().get(first.runId)).toBe(before.metrics);
      expect(app.runs.get(run.runId)).toMatchObject({ status: 'failed', error: r.error });
      expect(app.datasets.getImport(job.id)).toMatchObject({ status: 'failed' });
      for (const h of (before.items as { blob_hash: string }[]).map((i) => i.blob_hash)) expect(app.imageFile(h, 'full')).not.toBeNull();
    } finally {
      await app.shutdown(2000);
      input.cleanup();
      mnt.unmount();
    }
  });
});
