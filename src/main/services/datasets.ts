/**
 * DatasetService: datasets, their classes, items and splits; import jobs (asynchronous,
 * cancellable, reported through `onEvent`); the blob store's image files; and
 * `prepareTraining`, which freezes a dataset version and packs it for the engine.
 *
 * Errors are plain `Error`s whose message starts with the offending field or path
 * (`path: /x does not exist`, `datasetId: 7 not found`); the API layer maps them.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { ClassInfo, DatasetDetail, DatasetSummary, ImportJob, Item, ItemFilter, Split, SplitConfig } from '../../shared/api';
import { SplitConfigSchema } from '../../shared/api';
import type { PackMeta } from '../../shared/pack';
import { BlobStore } from '../blobs';
import type { Db } from '../db/db';
import { now } from '../db/db';
import { Emitter, type ApiEvent, type Disposable } from '../events';
import { findImporter } from '../import/index';
import { defaultSplitConfig, runImportJob } from '../import/job';
import type { DataPaths } from '../paths';
import { applySplits } from './datasets-split';
import { queryItemIds, queryItems } from './item-query';
import { prepareTraining } from './pack';
import { VersionStore } from './versions';

export interface DatasetServiceOptions {
  db: Db;
  paths: DataPaths;
}

interface RunningJob {
  cancelled: boolean;
  done: Promise<ImportJob>;
}

interface JobRow {
  id: number;
  dataset_id: number | null;
  source_path: string;
  status: ImportJob['status'];
  imported: number;
  duplicates: number;
  error: string | null;
  started_at: number;
  finished_at: number | null;
}

export class DatasetService implements Disposable {
  private readonly db: Db;
  private readonly paths: DataPaths;
  readonly blobs: BlobStore;
  /** Frozen dataset versions (manifests, diffs). */
  readonly versions: VersionStore;
  private readonly emitter = new Emitter<ApiEvent>();
  /** Subscribe to `import.progress` and `import.finished` events. */
  readonly onEvent = this.emitter.event;
  private readonly jobs = new Map<number, RunningJob>();
  private disposed = false;

  /** Marks import jobs left 'running' by a crash as failed ("interrupted"). */
  constructor(opts: DatasetServiceOptions) {
    this.db = opts.db;
    this.paths = opts.paths;
    this.blobs = new BlobStore(opts.paths);
    this.versions = new VersionStore(this.db, this.blobs);
    this.db.prepare("UPDATE import_jobs SET status = 'failed', error = 'interrupted', finished_at = ? WHERE status = 'running'").run(now());
  }

  /** Every dataset with counts, oldest first. */
  list(): DatasetSummary[] {
    const rows = this.db.prepare('SELECT id FROM datasets ORDER BY id').all() as { id: number }[];
    return rows.map((r) => this.summary(r.id));
  }

  /** One dataset with its classes (and per-split counts), split config and import jobs. @throws Error `datasetId: N not found`. */
  get(datasetId: number): DatasetDetail {
    const s = this.summary(datasetId);
    const row = this.db.prepare('SELECT split_config FROM datasets WHERE id = ?').get(datasetId) as { split_config: string };
    const classRows = this.db.prepare('SELECT id, idx, name, color FROM classes WHERE dataset_id = ? AND deleted_at IS NULL ORDER BY idx').all(datasetId) as { id: number; idx: number; name: string; color: string | null }[];
    const countRows = this.db
      .prepare('SELECT class_id AS classId, split, COUNT(*) AS n FROM items WHERE dataset_id = ? AND excluded = 0 AND class_id IS NOT NULL GROUP BY class_id, split')
      .all(datasetId) as { classId: number; split: Split | null; n: number }[];
    const classes: ClassInfo[] = classRows.map((c) => ({ id: c.id, index: c.idx, name: c.name, color: c.color, counts: { train: 0, val: 0, test: 0, total: 0 } }));
    const byId = new Map(classes.map((c) => [c.id, c]));
    for (const r of countRows) {
      const c = byId.get(r.classId);
      if (!c) continue;
      if (r.split) c.counts[r.split] += r.n;
      c.counts.total += r.n;
    }
    const jobs = this.db.prepare('SELECT * FROM import_jobs WHERE dataset_id = ? ORDER BY id').all(datasetId) as JobRow[];
    return { ...s, classes, split: JSON.parse(row.split_config) as SplitConfig, imports: jobs.map((j) => this.jobFromRow(j)) };
  }

  /**
   * Start importing `path` (a folder of class folders, of split folders, or IDX files).
   * Into `datasetId` when given; else into the dataset already imported from the same
   * path; else into a new dataset named `name` (default: the folder's name). Returns at
   * once with the job id; progress comes as `import.progress`, the end as `import.finished`.
   * @throws Error `path: … does not exist` / `path: … is not …` / `datasetId: N not found`.
   */
  async startImport(params: { path: string; name?: string; datasetId?: number }): Promise<{ jobId: number }> {
    this.assertLive();
    const path = resolve(params.path);
    const st = await stat(path).catch(() => null);
    if (!st) throw new Error(`path: ${path} does not exist`);
    if (params.datasetId !== undefined) this.assertDataset(params.datasetId);
    const importer = await findImporter(path);
    if (!importer) throw new Error(`path: ${path} is not a folder of images or of IDX files`);
    this.assertLive();
    const t = now();
    const { datasetId, newDataset, jobId } = this.db.transaction(() => {
      let datasetId = params.datasetId ?? (this.db.prepare('SELECT id FROM datasets WHERE source_path = ? ORDER BY id LIMIT 1').get(path) as { id: number } | undefined)?.id;
      let newDataset = false;
      if (datasetId === undefined) {
        const name = params.name ?? (basename(path).replace(/\.(gz|idx\d?-?ubyte)$/i, '') || path);
        datasetId = Number(this.db.prepare('INSERT INTO datasets (name, source_path, created_at, split_config) VALUES (?, ?, ?, ?)').run(name, path, t, JSON.stringify(defaultSplitConfig(false))).lastInsertRowid);
        newDataset = true;
      }
      const jobId = Number(this.db.prepare("INSERT INTO import_jobs (dataset_id, source_path, status, started_at) VALUES (?, ?, 'running', ?)").run(datasetId, path, t).lastInsertRowid);
      return { datasetId, newDataset, jobId };
    })();

    const job: RunningJob = { cancelled: false, done: Promise.resolve(null as unknown as ImportJob) };
    this.jobs.set(jobId, job);
    job.done = (async (): Promise<ImportJob> => {
      let status: 'done' | 'cancelled' | 'failed' = 'failed';
      let error: string | null = null;
      try {
        status = await runImportJob({
          db: this.db,
          blobs: this.blobs,
          jobId,
          datasetId,
          importer,
          path,
          newDataset,
          isCancelled: () => job.cancelled || this.disposed,
          onProgress: (p) => this.emitter.fire({ event: 'import.progress', payload: { jobId, datasetId, ...p } }),
        });
      } catch (err) {
        status = 'failed';
        error = err instanceof Error ? err.message : String(err);
      }
      this.jobs.delete(jobId);
      try {
        this.db.prepare('UPDATE import_jobs SET status = ?, error = ?, finished_at = ? WHERE id = ?').run(status, error, now(), jobId);
        const cfg = this.db.prepare('SELECT split_config FROM datasets WHERE id = ?').get(datasetId) as { split_config: string } | undefined;
        // New items get a split by the dataset's rule; items that have one keep it.
        if (cfg) applySplits(this.db, datasetId, JSON.parse(cfg.split_config) as SplitConfig, 'new-items');
        const result = this.getImport(jobId);
        this.emitter.fire({ event: 'import.finished', payload: result });
        return result;
      } catch (err) {
        // The database went away (service disposed and closed): nothing more to record.
        const msg = err instanceof Error ? err.message : String(err);
        return { id: jobId, datasetId, sourcePath: path, status, imported: 0, duplicates: 0, skipped: [], error: error ?? msg, startedAt: t, finishedAt: now() };
      }
    })();
    return { jobId };
  }

  /** Ask a running import to stop after the files in flight. Returns false when `jobId` is not running. */
  cancelImport(jobId: number): boolean {
    const job = this.jobs.get(jobId);
    if (!job) return false;
    job.cancelled = true;
    return true;
  }

  /** An import job with its skipped files. @throws Error `jobId: N not found`. */
  getImport(jobId: number): ImportJob {
    const row = this.db.prepare('SELECT * FROM import_jobs WHERE id = ?').get(jobId) as JobRow | undefined;
    if (!row) throw new Error(`jobId: ${jobId} not found`);
    return this.jobFromRow(row);
  }

  /** Resolves with the job once it has finished (at once when it is not running). @throws Error `jobId: N not found`. */
  async waitForImport(jobId: number): Promise<ImportJob> {
    const job = this.jobs.get(jobId);
    return job ? job.done : this.getImport(jobId);
  }

  /**
   * A page of items matching the filters (see ./item-query.ts), ordered by (split, class,
   * id) — the order of the items_dataset_split index, so pages need no sort.
   * `offset` ≥ 0, 1 ≤ `limit` ≤ 5000. Returns the total matching and the page.
   * @throws Error `datasetId: N not found` / `limit: …` / `runId: …` / `changedSinceVersionId: …`.
   */
  items(params: { datasetId: number; offset: number; limit: number } & ItemFilter): { total: number; items: Item[] } {
    this.assertDataset(params.datasetId);
    if (!Number.isInteger(params.offset) || params.offset < 0) throw new Error(`offset: must be an integer ≥ 0, got ${params.offset}`);
    if (!Number.isInteger(params.limit) || params.limit < 1 || params.limit > 5000) throw new Error(`limit: must be an integer from 1 to 5000, got ${params.limit}`);
    return queryItems(this.db, this.versions, params);
  }

  /** Ids of every item matching the filters, in grid order (at most 200,000). @throws Error as items(). */
  itemIds(params: { datasetId: number } & ItemFilter): { ids: number[] } {
    this.assertDataset(params.datasetId);
    return { ids: queryItemIds(this.db, this.versions, params) };
  }

  /**
   * Store a split configuration and reassign splits (seeded, stratified per class).
   * A test image never leaves test silently: items now in test stay there (they count
   * towards the test share; the other items fill the rest) unless `allowFromTest` is true,
   * which recomputes every item's split from scratch.
   * @throws Error `datasetId: N not found` / `split.<field>: …` for an invalid config.
   */
  setSplit(datasetId: number, split: SplitConfig, opts: { allowFromTest?: boolean } = {}): DatasetDetail {
    this.assertDataset(datasetId);
    const parsed = SplitConfigSchema.safeParse(split);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`split.${issue.path.join('.') || 'mode'}: ${issue.message}`);
    }
    this.db.transaction(() => {
      this.db.prepare('UPDATE datasets SET split_config = ? WHERE id = ?').run(JSON.stringify(parsed.data), datasetId);
      applySplits(this.db, datasetId, parsed.data, opts.allowFromTest ? 'all' : 'keep-test');
    })();
    this.emitter.fire({ event: 'dataset.changed', payload: { datasetId, what: 'splits' } });
    return this.get(datasetId);
  }

  /**
   * Delete a dataset (its items, classes, imports, versions and runs, by cascade), after
   * cancelling its running imports; then remove blobs no dataset uses any more.
   * @throws Error `datasetId: N not found`.
   */
  async delete(datasetId: number): Promise<{ ok: true }> {
    this.assertDataset(datasetId);
    const mine = (this.db.prepare("SELECT id FROM import_jobs WHERE dataset_id = ? AND status = 'running'").all(datasetId) as { id: number }[]).map((r) => r.id);
    for (const id of mine) this.cancelImport(id);
    await Promise.all(mine.map((id) => this.jobs.get(id)?.done));
    this.db.prepare('DELETE FROM datasets WHERE id = ?').run(datasetId);
    await this.collectGarbage();
    return { ok: true };
  }

  /** Remove blobs (rows and files) that no item and no dataset version refers to. Returns how many. */
  async collectGarbage(): Promise<number> {
    if (this.jobs.size > 0) return 0; // a running import may be about to refer to a blob
    const orphans = this.db
      .prepare('SELECT hash FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.blob_hash = b.hash) AND NOT EXISTS (SELECT 1 FROM dataset_versions v WHERE v.manifest_hash = b.hash)')
      .all() as { hash: string }[];
    const del = this.db.prepare('DELETE FROM blobs WHERE hash = ?');
    this.db.transaction(() => {
      for (const o of orphans) del.run(o.hash);
    })();
    for (const o of orphans) await this.blobs.remove(o.hash);
    return orphans.length;
  }

  /** The file to serve for image `hash` (see BlobStore.imageFile); null for a bad hash or a missing file. */
  imageFile(hash: string, kind: 'thumb' | 'full'): string | null {
    return this.blobs.imageFile(hash, kind);
  }

  /**
   * Freeze the dataset's current labelled, non-excluded items as a dataset version and
   * build (or reuse) its pack at `inputShape` = [height, width, channels] (pixels; 1 or 3
   * channels). See ./pack.ts.
   * @throws Error `datasetId: …` (not found / no labelled items) or `inputShape: …`.
   */
  prepareTraining(datasetId: number, inputShape: [number, number, number]): Promise<{ versionId: number; versionHash: string; packDir: string; meta: PackMeta }> {
    this.assertDataset(datasetId);
    return prepareTraining({ db: this.db, paths: this.paths, blobs: this.blobs }, datasetId, inputShape);
  }

  /** Cancel running imports and drop listeners. Safe to call twice. Await `idle()` before closing the database. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const job of this.jobs.values()) job.cancelled = true;
    this.emitter.dispose();
  }

  /** Resolves when no import job is running. */
  async idle(): Promise<void> {
    await Promise.all([...this.jobs.values()].map((j) => j.done));
  }

  private summary(datasetId: number): DatasetSummary {
    const d = this.db.prepare('SELECT id, name, source_path, created_at FROM datasets WHERE id = ?').get(datasetId) as { id: number; name: string; source_path: string | null; created_at: number } | undefined;
    if (!d) throw new Error(`datasetId: ${datasetId} not found`);
    const counts = { train: 0, val: 0, test: 0 };
    let itemCount = 0;
    for (const r of this.db.prepare('SELECT split, COUNT(*) AS n FROM items WHERE dataset_id = ? GROUP BY split').all(datasetId) as { split: Split | null; n: number }[]) {
      if (r.split) counts[r.split] = r.n;
      itemCount += r.n;
    }
    const classCount = (this.db.prepare('SELECT COUNT(*) AS n FROM classes WHERE dataset_id = ? AND deleted_at IS NULL').get(datasetId) as { n: number }).n;
    const first = this.db.prepare('SELECT b.height, b.width, b.channels FROM items i JOIN blobs b ON b.hash = i.blob_hash WHERE i.dataset_id = ? ORDER BY i.id LIMIT 1').get(datasetId) as
      | { height: number; width: number; channels: number }
      | undefined;
    return {
      id: d.id,
      name: d.name,
      sourcePath: d.source_path,
      createdAt: d.created_at,
      itemCount,
      classCount,
      counts,
      typicalShape: first ? [first.height, first.width, first.channels] : null,
    };
  }

  private jobFromRow(j: JobRow): ImportJob {
    const skipped = this.db.prepare('SELECT path, reason FROM import_skips WHERE job_id = ? ORDER BY id').all(j.id) as { path: string; reason: string }[];
    return {
      id: j.id,
      datasetId: j.dataset_id,
      sourcePath: j.source_path,
      status: j.status,
      imported: j.imported,
      duplicates: j.duplicates,
      skipped,
      error: j.error,
      startedAt: j.started_at,
      finishedAt: j.finished_at,
    };
  }

  private assertDataset(datasetId: number): void {
    if (!this.db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(datasetId)) throw new Error(`datasetId: ${datasetId} not found`);
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('DatasetService: disposed');
  }
}
