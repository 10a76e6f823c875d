/**
 * Deleting a dataset without blocking the process: its rows go in chunks of at most
 * DELETE_CHUNK rows per transaction (suggestions, predictions and metrics of each run,
 * the runs, label events, items, skipped-file records; then the dataset row, whose
 * cascade is small by then), with the event loop free between chunks, so requests keep
 * being answered while a dataset with 100,000 predictions goes. Then its runs' folders
 * (`runs/<id>/`) and the pack caches of its versions that no other dataset shares
 * (`cache/<versionHash>-…`; packs are content-addressed) are removed.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../db/db';
import type { DataPaths } from '../paths';

/** Rows deleted per transaction. */
export const DELETE_CHUNK = 1000;

/** What a chunked delete did: transactions run, and the longest one in wall-clock and in this process's CPU time (milliseconds). */
export interface DeleteStats {
  chunks: number;
  longestChunkMs: number;
  /** CPU time (user + system) of the longest transaction: its own work, apart from other processes competing for the cores. */
  longestChunkCpuMs: number;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Delete dataset `datasetId` and everything that refers to it, `chunk` rows per
 * transaction, yielding to the event loop between transactions. Rows added meanwhile
 * (an upload) go with the final cascade. Returns the deleted runs' ids, the content
 * hashes of the deleted versions, and the chunk statistics.
 * @throws the SQLite error of a failing chunk (what was deleted before it stays deleted).
 */
export async function deleteDatasetRows(db: Db, datasetId: number, chunk = DELETE_CHUNK): Promise<{ runIds: number[]; versionHashes: string[]; stats: DeleteStats }> {
  const runIds = db.prepare('SELECT id FROM runs WHERE dataset_id = ? ORDER BY id').pluck().all(datasetId) as number[];
  const versionHashes = db.prepare('SELECT content_hash FROM dataset_versions WHERE dataset_id = ?').pluck().all(datasetId) as string[];
  const stats: DeleteStats = { chunks: 0, longestChunkMs: 0, longestChunkCpuMs: 0 };
  const timed = <T>(f: () => T): T => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const out = f();
    const cpu = process.cpuUsage(c0);
    stats.chunks++;
    stats.longestChunkMs = Math.max(stats.longestChunkMs, performance.now() - t0);
    stats.longestChunkCpuMs = Math.max(stats.longestChunkCpuMs, (cpu.user + cpu.system) / 1000);
    return out;
  };
  const repeat = async (sql: string, ...params: number[]): Promise<void> => {
    const stmt = db.prepare(sql);
    const once = db.transaction(() => stmt.run(...params, chunk).changes);
    for (;;) {
      const changes = timed(once);
      await yieldToEventLoop();
      if (changes < chunk) return;
    }
  };
  for (const runId of runIds) {
    await repeat('DELETE FROM suggestions WHERE rowid IN (SELECT rowid FROM suggestions WHERE run_id = ? LIMIT ?)', runId);
    await repeat('DELETE FROM predictions WHERE run_id = ? AND item_id IN (SELECT item_id FROM predictions WHERE run_id = ? LIMIT ?)', runId, runId);
    await repeat('DELETE FROM metrics WHERE rowid IN (SELECT rowid FROM metrics WHERE run_id = ? LIMIT ?)', runId);
  }
  await repeat('DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE dataset_id = ? LIMIT ?)', datasetId);
  await repeat('DELETE FROM suggestions WHERE rowid IN (SELECT s.rowid FROM items i JOIN suggestions s ON s.item_id = i.id WHERE i.dataset_id = ? LIMIT ?)', datasetId);
  await repeat('DELETE FROM label_events WHERE rowid IN (SELECT e.rowid FROM items i JOIN label_events e ON e.item_id = i.id WHERE i.dataset_id = ? LIMIT ?)', datasetId);
  await repeat('DELETE FROM items WHERE id IN (SELECT id FROM items WHERE dataset_id = ? LIMIT ?)', datasetId);
  await repeat('DELETE FROM import_skips WHERE rowid IN (SELECT s.rowid FROM import_jobs j JOIN import_skips s ON s.job_id = j.id WHERE j.dataset_id = ? LIMIT ?)', datasetId);
  timed(() => db.prepare('DELETE FROM datasets WHERE id = ?').run(datasetId));
  return { runIds, versionHashes, stats };
}

/**
 * Remove the files of a deleted dataset: `runs/<id>/` of each of `runIds`, and every pack
 * `cache/<hash>-<h>x<w>x<c>/` of each of `versionHashes` that no remaining dataset version
 * has. Missing files are fine.
 */
export function removeDatasetFiles(db: Db, paths: Pick<DataPaths, 'runs' | 'cache'>, runIds: readonly number[], versionHashes: readonly string[]): void {
  for (const id of runIds) rmSync(join(paths.runs, String(id)), { recursive: true, force: true });
  const stillUsed = db.prepare('SELECT 1 FROM dataset_versions WHERE content_hash = ? LIMIT 1');
  const gone = versionHashes.filter((h) => stillUsed.get(h) === undefined);
  if (gone.length === 0 || !existsSync(paths.cache)) return;
  const prefixes = gone.map((h) => `${h}-`);
  for (const name of readdirSync(paths.cache)) {
    if (prefixes.some((p) => name.startsWith(p))) rmSync(join(paths.cache, name), { recursive: true, force: true });
  }
}
