/**
 * One import job: scan the source with its importer, decode and store every entry with
 * bounded concurrency, and commit items in batches (one transaction per batch), checking
 * the cancel flag between files. The caller (DatasetService) owns the job row's final
 * status, the split assignment and the events.
 */
import type { Db } from '../db/db';
import { now } from '../db/db';
import type { BlobStore } from '../blobs';
import type { SplitConfig } from '../../shared/api';
import { dhashImage } from '../phash';
import { SkipError, type NormalizedImage } from './image';
import { mapPool } from './pool';
import type { ImportEntry, Importer } from './types';

/** Files decoded at once. */
export const IMPORT_CONCURRENCY = 16;
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
  jobId: number;
  datasetId: number;
  importer: Importer;
  path: string;
  /** True when this job created the dataset: its split config then follows the source (given splits or not). */
  newDataset: boolean;
  isCancelled(): boolean;
  onProgress(p: ImportProgress): void;
}

/**
 * Split settings of a new dataset: the given splits when the source brought a train
 * split, else a seeded stratified 80/10/10 split (a source with only a test split, such
 * as the Fashion-MNIST `t10k` files alone, would otherwise have nothing to train on).
 */
export function defaultSplitConfig(hasSplits: boolean): SplitConfig {
  return hasSplits ? { mode: 'given', train: 80, val: 10, test: 10, valFromTrain: 10, seed: 42 } : { mode: 'random', train: 80, val: 10, test: 10, valFromTrain: 10, seed: 42 };
}

type Outcome = { entry: ImportEntry; image: NormalizedImage; hash: string; phash: string | null } | { entry: ImportEntry; skip: string };

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
  const classIds = new Map<string, number>();
  db.transaction(() => {
    for (const s of source.skipped) insertSkip.run(jobId, s.path, s.reason);
    skipped += source.skipped.length;
    const rows = db.prepare('SELECT id, name, idx FROM classes WHERE dataset_id = ? AND deleted_at IS NULL').all(datasetId) as { id: number; name: string; idx: number }[];
    let nextIdx = rows.reduce((m, r) => Math.max(m, r.idx + 1), 0);
    for (const r of rows) classIds.set(r.name, r.id);
    const insertClass = db.prepare('INSERT INTO classes (dataset_id, idx, name) VALUES (?, ?, ?)');
    for (const name of source.classNames) {
      if (!classIds.has(name)) classIds.set(name, Number(insertClass.run(datasetId, nextIdx++, name).lastInsertRowid));
    }
    if (ctx.newDataset) db.prepare('UPDATE datasets SET split_config = ? WHERE id = ?').run(JSON.stringify(defaultSplitConfig(source.hasSplits && source.entries.some((e) => e.split === 'train'))), datasetId);
  })();

  const insertBlob = db.prepare(
    "INSERT INTO blobs (hash, size, width, height, channels, format, phash) VALUES (?, ?, ?, ?, ?, 'png', ?) ON CONFLICT (hash) DO UPDATE SET phash = COALESCE(blobs.phash, excluded.phash)",
  );
  const insertItem = db.prepare('INSERT OR IGNORE INTO items (dataset_id, blob_hash, original_name, class_id, split, given_split, excluded, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)');
  const insertLabel = db.prepare("INSERT INTO label_events (item_id, old_class_id, new_class_id, time, source) VALUES (?, NULL, ?, ?, 'import')");
  const updateJob = db.prepare('UPDATE import_jobs SET imported = imported + ?, duplicates = duplicates + ? WHERE id = ?');

  const commit = db.transaction((outcomes: (Outcome | undefined)[]) => {
    let imported = 0, duplicates = 0;
    const t = now();
    for (const o of outcomes) {
      if (!o) continue;
      if ('skip' in o) {
        insertSkip.run(jobId, o.entry.path, o.skip);
        skipped++;
        continue;
      }
      const className = o.entry.className;
      // Classes met only now (an importer may discover them late): create them.
      if (className !== null && !classIds.has(className)) {
        const idx = (db.prepare('SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM classes WHERE dataset_id = ? AND deleted_at IS NULL').get(datasetId) as { n: number }).n;
        classIds.set(className, Number(db.prepare('INSERT INTO classes (dataset_id, idx, name) VALUES (?, ?, ?)').run(datasetId, idx, className).lastInsertRowid));
      }
      const classId = className === null ? null : classIds.get(className)!;
      insertBlob.run(o.hash, o.image.png.length, o.image.width, o.image.height, o.image.channels, o.phash);
      // No split yet: the caller assigns new items by the dataset's rule at the end (applySplits 'new-items').
      const r = insertItem.run(datasetId, o.hash, o.entry.name, classId, null, o.entry.split, t);
      if (r.changes === 1) {
        imported++;
        if (classId !== null) insertLabel.run(r.lastInsertRowid, classId, t);
      } else {
        duplicates++;
      }
    }
    updateJob.run(imported, duplicates, jobId);
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
          const image = await entry.load();
          const { hash } = await blobs.put(image.png);
          if (image.thumb) await blobs.putThumb(hash, image.thumb);
          out = { entry, image, hash, phash: await dhashImage(image.png).catch(() => null) };
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
    commit(outcomes);
  }
  progress(true);
  return ctx.isCancelled() ? 'cancelled' : 'done';
}
