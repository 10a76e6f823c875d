/**
 * The import parts of DatasetService that are plain functions of the database: an import
 * job's report beyond its counters (skips by kind, conflicts, items worth a look), the
 * clean-up of a failed or cancelled job's empty new dataset, and a dataset's image
 * statistics (typical = median size, grey or not) that the default input shape follows.
 */
import type { DatasetSummary, ImportJob, SplitConfig } from '../../shared/api';
import type { Db } from '../db/db';
import { assignNewSplits, newSplitAssigner } from './datasets-split';

/** The parts of ImportJob read from the tables of migration 005. */
export type ImportReport = Pick<ImportJob, 'skippedTotal' | 'skippedByReason' | 'conflicts' | 'worthALook'>;

/** What job `jobId` counted and listed (see import/job.ts); `skipped` is the job row's total. */
export function importReport(db: Db, jobId: number, skipped: number, conflicts: number): ImportReport {
  const byReason = db.prepare('SELECT reason, n AS count FROM import_skip_counts WHERE job_id = ? ORDER BY n DESC, reason').all(jobId) as { reason: string; count: number }[];
  const byClass = (db.prepare('SELECT existing_class AS existingClass, found_class AS foundClass, n AS count FROM import_conflict_counts WHERE job_id = ? ORDER BY n DESC').all(jobId) as { existingClass: string; foundClass: string; count: number }[]).map(
    (r) => ({ ...r, existingClass: r.existingClass === '' ? null : r.existingClass }),
  );
  const files = db.prepare('SELECT path, existing_class AS existingClass, found_class AS foundClass FROM import_conflicts WHERE job_id = ? ORDER BY id').all(jobId) as { path: string; existingClass: string | null; foundClass: string }[];
  const worthALook = db
    .prepare(
      `SELECT o.item_id AS itemId, i.blob_hash AS hash, i.original_name AS name, c.name AS className, o.reason AS reason
       FROM import_outliers o JOIN items i ON i.id = o.item_id LEFT JOIN classes c ON c.id = i.class_id WHERE o.job_id = ? ORDER BY o.id`,
    )
    .all(jobId) as NonNullable<ImportJob['worthALook']>;
  return { skippedTotal: skipped, skippedByReason: byReason, conflicts: { total: conflicts, byClass, files }, worthALook };
}

/**
 * The import job's per-batch split step for `datasetId` (ImportJobContext.assignSplits):
 * the items without a split get theirs by the dataset's current rule, with the dataset's
 * other items counted once per job.
 */
export function importSplitAssigner(db: Db, datasetId: number): (sourceHasVal: boolean) => void {
  const assign = newSplitAssigner(db, datasetId);
  return (sourceHasVal) => {
    const cfg = db.prepare('SELECT split_config FROM datasets WHERE id = ?').get(datasetId) as { split_config: string } | undefined;
    if (cfg) assign(JSON.parse(cfg.split_config) as SplitConfig, sourceHasVal);
  };
}

/**
 * Give every item of `datasetId` still without a split its split by the dataset's rule
 * (the import job does this per batch; this is the end-of-job pass that catches the rest).
 */
export function assignPendingSplits(db: Db, datasetId: number, sourceHasVal = false): void {
  const cfg = db.prepare('SELECT split_config FROM datasets WHERE id = ?').get(datasetId) as { split_config: string } | undefined;
  if (cfg) assignNewSplits(db, datasetId, JSON.parse(cfg.split_config) as SplitConfig, { sourceHasVal });
}

/**
 * After a failed or cancelled job that created `datasetId`: when the dataset holds no
 * item, delete it (the user did not ask for an empty dataset); the job row stays, with
 * no dataset. Returns true when it was deleted.
 */
export function discardEmptyNewDataset(db: Db, datasetId: number): boolean {
  return db.transaction(() => {
    if (db.prepare('SELECT 1 FROM items WHERE dataset_id = ? LIMIT 1').get(datasetId)) return false;
    db.prepare('UPDATE import_jobs SET dataset_id = NULL WHERE dataset_id = ?').run(datasetId);
    db.prepare('DELETE FROM datasets WHERE id = ?').run(datasetId);
    return true;
  })();
}

/** A dataset's image statistics (DatasetSummary.imageStats and typicalShape). */
export type ImageStats = NonNullable<DatasetSummary['imageStats']>;

const statsCache = new WeakMap<Db, Map<number, { key: string; stats: ImageStats | null }>>();

/**
 * Over all items of `datasetId`: how many, their median height and width (sizes as
 * shown), and how many are grey (blobs.grey = 1; a blob of unknown greyness counts as
 * colour). Null when the dataset has no item. Cached per (item count, last item id).
 */
export function imageStats(db: Db, datasetId: number): ImageStats | null {
  const { n, last } = db.prepare('SELECT COUNT(*) AS n, MAX(id) AS last FROM items WHERE dataset_id = ?').get(datasetId) as { n: number; last: number | null };
  if (n === 0) return null;
  let cache = statsCache.get(db);
  if (!cache) statsCache.set(db, (cache = new Map()));
  const key = `${n}:${last}`;
  const hit = cache.get(datasetId);
  if (hit?.key === key) return hit.stats;
  const mid = Math.floor((n - 1) / 2);
  const at = (col: 'height' | 'width'): number =>
    (db.prepare(`SELECT b.${col} AS v FROM items i JOIN blobs b ON b.hash = i.blob_hash WHERE i.dataset_id = ? ORDER BY b.${col} LIMIT 1 OFFSET ?`).get(datasetId, mid) as { v: number }).v;
  const grey = (db.prepare('SELECT COUNT(*) AS g FROM items i JOIN blobs b ON b.hash = i.blob_hash WHERE i.dataset_id = ? AND b.grey = 1').get(datasetId) as { g: number }).g;
  const stats: ImageStats = { count: n, medianHeight: at('height'), medianWidth: at('width'), grey };
  cache.set(datasetId, { key, stats });
  return stats;
}

/** [median height, median width, 1 when every image is grey else 3], or null for no images. */
export function typicalShapeOf(stats: ImageStats | null): [number, number, number] | null {
  return stats ? [stats.medianHeight, stats.medianWidth, stats.grey === stats.count ? 1 : 3] : null;
}
