/**
 * The host's read cache: answers repeated reads from memory, and never a stale one after a
 * write — through the API, or by another connection (another process) to the same file.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheReads } from '../../src/main/host/read-cache';
import { createApp, type App } from '../../src/main/services/app';
import type { DatasetDetail } from '../../src/shared/api';
import { tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { cifar, RecordingLauncher, tinyCifarFolder } from './runs-helpers';

describe.skipIf(!cifar)('read cache (host)', () => {
  let dir: TempDataDir;
  let app: App;
  let datasetId: number;
  beforeAll(async () => {
    dir = tempDataDir();
    app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher() });
    const input = tempDir();
    tinyCifarFolder(input.path, ['airplane', 'cat'], 3);
    const { jobId } = await app.datasets.startImport({ path: input.path, name: 'six' });
    datasetId = (await app.datasets.waitForImport(jobId)).datasetId!;
    input.cleanup();
  });
  afterAll(async () => {
    await app?.shutdown(1000);
    dir?.cleanup();
  });

  it('serves a repeated read from memory, equal to the uncached answer', async () => {
    const cache = cacheReads(app.handle, app.db);
    const first = await cache.handle('datasets.get', { datasetId });
    const second = await cache.handle('datasets.get', { datasetId });
    expect(second).toBe(first);
    expect(second).toEqual(await app.handle('datasets.get', { datasetId }));
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
    // Other params, other entry; writes are never cached.
    await cache.handle('datasets.items', { datasetId, offset: 0, limit: 2 });
    expect(cache.stats().misses).toBe(2);
  });

  it('a write through the API is seen by the next read', async () => {
    const cache = cacheReads(app.handle, app.db);
    const before = (await cache.handle('datasets.get', { datasetId })) as DatasetDetail;
    await cache.handle('classes.add', { datasetId, name: 'frog' });
    const after = (await cache.handle('datasets.get', { datasetId })) as DatasetDetail;
    expect(after.classes.map((c) => c.name)).toEqual([...before.classes.map((c) => c.name), 'frog']);
    expect(after.classCount).toBe(before.classCount + 1);
  });

  it('a write by another connection (e.g. the CLI in another process) is seen by the next read', async () => {
    const cache = cacheReads(app.handle, app.db);
    expect(((await cache.handle('datasets.get', { datasetId })) as DatasetDetail).name).toBe('six');
    const other = new Database(dir.paths.db);
    try {
      other.prepare('UPDATE datasets SET name = ? WHERE id = ?').run('renamed elsewhere', datasetId);
    } finally {
      other.close();
    }
    expect(((await cache.handle('datasets.get', { datasetId })) as DatasetDetail).name).toBe('renamed elsewhere');
  });

  it('entries expire after maxAgeMs (run durations are computed up to now)', async () => {
    const cache = cacheReads(app.handle, app.db, { maxAgeMs: 20 });
    const a = await cache.handle('datasets.list', {});
    await new Promise((r) => setTimeout(r, 40));
    const b = await cache.handle('datasets.list', {});
    expect(b).not.toBe(a);
    expect(b).toEqual(a);
  });
});
