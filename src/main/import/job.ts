/**
 * One import job: scan the source with its importer, decode and store every entry with
 * bounded concurrency, and commit items in batches (one transaction per batch, which also
 * gives the batch's new items their splits, so a crash or cancel never leaves an item
 * without one), checking the cancel flag between files. Per batch it records:
 *  - skipped files: the first SKIP_LIST_LIMIT with their reasons, all counted by kind;
 *  - conflicts: a known image found under another class folder is left as it is and
 *    reported (not counted as a duplicate);
 * and then the items worth a look (./outliers.ts). Photos are committed from their header
 * (images/image.ts `deferPreview`); once every item is in, the 'thumbnails' phase makes the
 * dataset's pending thumbnails and dHashes (./previews.ts), cancellable like the rest.
 * Until it ends the grid makes a thumbnail asked for on demand, and near-duplicate search
 * waits for the hashes it needs. The caller (DatasetService) owns the job row's final
 * status and the events.
 */
import { availableParallelism } from 'node:os';
import type { Db } from '../db/db';
import { now } from '../db/db';
import type { BlobStore } from '../blobs';
import type { SplitConfig } from '../../shared/api';
import { SkipError } from '../images/image';
import { mapPool } from '../images/pool';
import { Ingest, storeImage, type StoredImage } from './ingest';
import { findOutliers, type ImportedImage } from './outliers';
import type { Previews } from './previews';
import type { ImportEntry, Importer } from './types';

/** Files decoded at once: a few per core, so that reads and writes overlap decoding. */
export const IMPORT_CONCURRENCY = Math.max(4, 3 * availableParallelism());
/** Skipped files listed with their reasons per job; beyond that they are only counted. */
export const SKIP_LIST_LIMIT = 1000;
/** Conflicting files listed per job; beyond that they are only counted. */
export const CONFLICT_LIST_LIMIT = 1000;
/** Items worth a look stored per job. */
export const OUTLIER_LIMIT = 200;
/** Least time between two progress reports, milliseconds (about 10 per second). */
export const PROGRESS_INTERVAL_MS = 100;
/** Entries per committed batch. */
export const IMPORT_BATCH = 512;

export interface ImportProgress {
  phase: 'scanning' | 'importing' | 'thumbnails';
  done: number;
  total: number;
  skipped: number;
}

export interface ImportJobContext {
  db: Db;
  blobs: BlobStore;
  /** Makes the thumbnails and dHashes left pending by header-only commits. */
  previews: Previews;
  jobId: number;
  datasetId: number;
  importer: Importer;
  path: string;
  /** True when this job created the dataset: its split config then follows the source (given splits or not). */
  newDataset: boolean;
  /** A new dataset's split config, instead of `defaultSplitConfig` of the source. */
  splitConfig?: SplitConfig;
  isCancelled(): boolean;
  onProgress(p: ImportProgress): void;
  /**
   * Give the dataset's items without a split their split (by the dataset's rule); called
   * inside each batch's transaction. `sourceHasVal`: the source brings a val split (so
   * none is carved from train, even in batches before its val files come).
   */
  assignSplits(sourceHasVal: boolean): void;
}

/** The kind of a skip reason, for counting: its text before the first ':' or '(' ("not an image", "truncated PNG"). */
export function reasonKind(reason: string): string {
  return reason.split(/[:(]/)[0].trim() || reason;
}

/**
 * Split settings of a new dataset: the given splits when the source brought a train
 * split, else a seeded stratified 80/10/10 split (a source with only a test split, such
 * as the Fashion-MNIST `t10k` files alone, would otherwise have nothing to train on).
 */
export function defaultSplitConfig(hasSplits: boolean): SplitConfig {
  return hasSplits ? { mode: 'given', train: 80, val: 10, test: 10, valFromTrain: 10, seed: 42 } : { mode: 'random', train: 80, val: 10, test: 10, valFromTrain: 10, seed: 42 };
}

type Outcome = { entry: ImportEntry; image: StoredImage; sourceFormat: string } | { entry: ImportEntry; skip: string };

/**
 * Run the job to the end or to cancellation. Returns 'done' or 'cancelled'; items
 * committed before a cancel stay.
 * @throws Error for failures that are not about one file (unreadable source, disk full, …).
 */
export async function runImportJob(ctx: ImportJobContext): Promise<'done' | 'cancelled'> {
  const { db, blobs, jobId, datasetId } = ctx;
  let skipped = 0;
  ctx.onProgress({ phase: 'scanning', done: 0, total: 0, skipped });
  const source = await ctx.importer.open(ctx.path, () => ctx.isCancelled());
  if (ctx.isCancelled()) return 'cancelled';

  const insertSkip = db.prepare('INSERT INTO import_skips (job_id, path, reason) VALUES (?, ?, ?)');
  const countSkip = db.prepare('INSERT INTO import_skip_counts (job_id, reason, n) VALUES (?, ?, 1) ON CONFLICT (job_id, reason) DO UPDATE SET n = n + 1');
  const insertConflict = db.prepare('INSERT INTO import_conflicts (job_id, item_id, path, existing_class, found_class) VALUES (?, ?, ?, ?, ?)');
  const countConflict = db.prepare('INSERT INTO import_conflict_counts (job_id, existing_class, found_class, n) VALUES (?, ?, ?, 1) ON CONFLICT (job_id, existing_class, found_class) DO UPDATE SET n = n + 1');
  const counted = db.prepare('SELECT skipped, conflicts FROM import_jobs WHERE id = ?').get(jobId) as { skipped: number; conflicts: number };
  let conflicts = counted.conflicts;
  skipped = counted.skipped;
  /** Record one skipped file (inside a transaction): listed while under the limit, always counted. */
  const skip = (path: string, reason: string): void => {
    if (skipped < SKIP_LIST_LIMIT) insertSkip.run(jobId, path, reason);
    countSkip.run(jobId, reasonKind(reason));
    skipped++;
  };
  const ingest = new Ingest(db, datasetId);
  const sourceHasVal = source.entries.some((e) => e.split === 'val');
  db.transaction(() => {
    for (const s of source.skipped) skip(s.path, s.reason);
    // The source's classes first, in its order (their idx order for a new dataset).
    for (const name of source.classNames) ingest.classId(name);
    if (ctx.newDataset) db.prepare('UPDATE datasets SET split_config = ? WHERE id = ?').run(JSON.stringify(ctx.splitConfig ?? defaultSplitConfig(source.hasSplits && source.entries.some((e) => e.split === 'train'))), datasetId);
    db.prepare('UPDATE import_jobs SET skipped = ? WHERE id = ?').run(skipped, jobId);
  })();

  const updateJob = db.prepare('UPDATE import_jobs SET imported = imported + ?, duplicates = duplicates + ?, skipped = ?, conflicts = ? WHERE id = ?');
  const imported: ImportedImage[] = [];

  const commit = db.transaction((outcomes: (Outcome | undefined)[]) => {
    let added = 0, duplicates = 0;
    const t = now();
    for (const o of outcomes) {
      if (!o) continue;
      if ('skip' in o) {
        skip(o.entry.path, o.skip);
        continue;
      }
      // A class met only now (an importer may discover classes late) is created here.
      const classId = o.entry.className === null ? null : ingest.classId(o.entry.className);
      const itemId = ingest.add({ image: o.image, name: o.entry.name, classId, givenSplit: o.entry.split }, t);
      if (itemId !== null) {
        added++;
        imported.push({ itemId, className: o.entry.className, format: o.sourceFormat, width: o.image.width, height: o.image.height });
        continue;
      }
      // Known image: a duplicate, unless its folder names another class than the one it is in (then left as it is, and reported).
      const known = ingest.existing(o.image.hash);
      if (o.entry.className === null || !known || known.classId === classId) {
        duplicates++;
        continue;
      }
      if (conflicts < CONFLICT_LIST_LIMIT) insertConflict.run(jobId, known.id, o.entry.path, known.className, o.entry.className);
      countConflict.run(jobId, known.className ?? '', o.entry.className);
      conflicts++;
    }
    ctx.assignSplits(sourceHasVal);
    updateJob.run(added, duplicates, skipped, conflicts, jobId);
  });

  const total = source.entries.length;
  let done = 0;
  let lastProgress = 0;
  const progress = (force = false): void => {
    const t = Date.now();
    if (!force && t - lastProgress < PROGRESS_INTERVAL_MS) return;
    lastProgress = t;
    ctx.onProgress({ phase: 'importing', done, total, skipped });
  };
  progress(true);
  for (let start = 0; start < total; start += IMPORT_BATCH) {
    if (ctx.isCancelled()) break;
    const batch = source.entries.slice(start, start + IMPORT_BATCH);
    const outcomes = await mapPool(
      batch,
      IMPORT_CONCURRENCY,
      async (entry): Promise<Outcome> => {
        let out: Outcome;
        try {
          const img = await entry.load({ deferPreview: true });
          out = { entry, image: await storeImage(blobs, img), sourceFormat: img.sourceFormat };
        } catch (err) {
          if (!(err instanceof SkipError)) throw err;
          out = { entry, skip: err.message };
        }
        done++;
        progress();
        return out;
      },
      () => ctx.isCancelled(),
    );
    try {
      commit(outcomes);
    } finally {
      // The batch's items are committed (or not): their blobs no longer need a pending reference (src/main/blobs.ts).
      blobs.release(outcomes.flatMap((o) => (o && 'image' in o ? [o.image.hash] : [])));
    }
  }
  progress(true);
  // Worth a look: judged over what this job imported (also when cancelled).
  const outliers = findOutliers(imported, OUTLIER_LIMIT);
  if (outliers.length > 0) {
    const insertOutlier = db.prepare('INSERT INTO import_outliers (job_id, item_id, reason) VALUES (?, ?, ?)');
    db.transaction(() => {
      for (const o of outliers) insertOutlier.run(jobId, o.itemId, o.reason);
    })();
  }
  if (ctx.isCancelled()) return 'cancelled';
  // Every item is in: the thumbnails and dHashes still to make (this job's and any a crashed job left in this dataset).
  const pending = ctx.previews.pending(datasetId);
  ctx.onProgress({ phase: 'thumbnails', done: 0, total: pending.length, skipped });
  await ctx.previews.fill(pending, {
    concurrency: IMPORT_CONCURRENCY,
    isCancelled: () => ctx.isCancelled(),
    intervalMs: PROGRESS_INTERVAL_MS,
    onProgress: (n, total) => ctx.onProgress({ phase: 'thumbnails', done: n, total, skipped }),
  });
  return ctx.isCancelled() ? 'cancelled' : 'done';
}
