/**
 * DatasetService: datasets, their classes, items and splits; import jobs (asynchronous,
 * cancellable, reported through `onEvent`); the blob store's image files; and
 * `prepareTraining`, which freezes a dataset version and packs it for the engine.
 *
 * Errors are ApiErrors whose message starts with the offending field or path
 * (`path: /x does not exist`, `datasetId: 7 not found`).
 *
 * Import jobs record their owner (src/main/db/owners.ts). Every HEARTBEAT_MS this service
 * marks 'failed' ("interrupted") the running jobs whose owner is gone — never a job of a
 * live process — and picks up cancel requests other processes wrote for its own jobs.
 * Thumbnails and dHashes an import left to make (../import/previews.ts) are made by the
 * job, on demand (`servedFile`), and for crashed or cancelled jobs by `resumePreviews`.
 *
 * (~480 lines: the public methods of one service; import jobs, splits, counts, deletes and
 * previews already live in ./datasets-import.ts, ./datasets-split.ts, ./counts.ts,
 * ./dataset-delete.ts, ../import/previews.ts.)
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { ClassInfo, DatasetDetail, DatasetSummary, ImportJob, Item, ItemFilter, Split, SplitConfig } from '../../shared/api';
import { SplitConfigSchema } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import type { PackMeta } from '../../shared/pack';
import { existsSync } from 'node:fs';
import { BlobStore, isHash } from '../blobs';
import type { Db } from '../db/db';
import { now } from '../db/db';
import { diskFullError, failureReason } from '../db/disk-full';
import { ownerOf, type Owner } from '../db/owners';
import { Emitter, type ApiEvent, type Disposable } from '../events';
import { findImporter } from '../import/index';
import { folderImporterWith } from '../import/folder';
import { previewImport } from '../import/preview';
import { noClassesNotice, type ImportPreview } from '../../shared/import-preview';
import { defaultSplitConfig, IMPORT_CONCURRENCY, runImportJob } from '../import/job';
import { Previews } from '../import/previews';
import type { DataPaths } from '../paths';
import { deleteDatasetRows, removeDatasetFiles, type DeleteStats } from './dataset-delete';
import { cancelForeignImport, sweepImports, type UnrecordedJob } from './import-owners';
import { applySplits } from './datasets-split';
import { assignPendingSplits, discardEmptyNewDataset, importReport, importSplitAssigner, imageStats, typicalShapeOf } from './datasets-import';
import { queryItemIds, queryItems } from './item-query';
import { datasetCounts } from './counts';
import { prepareTraining } from './pack';
import { VersionStore } from './versions';

/** Milliseconds after start before pending previews of crashed or cancelled imports are made. */
export const RESUME_PREVIEWS_DELAY_MS = 1000;
/** Previews made at once by that background pass (the import job's own phase uses IMPORT_CONCURRENCY). */
export const RESUME_PREVIEWS_CONCURRENCY = Math.max(1, Math.floor(IMPORT_CONCURRENCY / 3));

export interface DatasetServiceOptions {
  db: Db;
  paths: DataPaths;
  /** Milliseconds between heartbeats and recovery sweeps (default HEARTBEAT_MS, src/main/db/owners.ts). */
  heartbeatMs?: number;
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
  /** All skipped files (migration 005); import_skips lists the first of them. */
  skipped: number;
  conflicts: number;
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
  /** Thumbnails and dHashes that imports left to make after committing (../import/previews.ts). */
  readonly previews: Previews;
  /** The running pass over previews that crashed or cancelled jobs left (resumePreviews), if any. */
  private resuming: Promise<number> | null = null;
  private readonly resumeTimer: NodeJS.Timeout;
  private readonly emitter = new Emitter<ApiEvent>();
  /** Subscribe to `import.progress` and `import.finished` events. */
  readonly onEvent = this.emitter.event;
  private readonly jobs = new Map<number, RunningJob>();
  /** Transactions and the longest one (ms) of the last dataset delete (./dataset-delete.ts). */
  lastDeleteStats: DeleteStats | null = null;
  /** Final job statuses that could not be written (disk full): retried by each sweep. */
  private readonly unrecorded = new Map<number, UnrecordedJob>();
  private readonly owner: Owner;
  private readonly sweepTimer: NodeJS.Timeout;
  private disposed = false;

  /** Registers this process as an owner and marks import jobs whose owner is gone as failed ("interrupted"); then does so every heartbeat. */
  constructor(opts: DatasetServiceOptions) {
    this.db = opts.db;
    this.paths = opts.paths;
    this.owner = ownerOf(this.db, opts.heartbeatMs);
    this.blobs = new BlobStore(opts.paths, { db: this.db, ownerId: this.owner.id });
    this.versions = new VersionStore(this.db, this.blobs);
    this.previews = new Previews(this.db, this.blobs);
    this.sweep();
    this.sweepTimer = setInterval(() => this.sweep(), this.owner.heartbeatMs);
    this.sweepTimer.unref();
    // Previews a crashed or cancelled job left: made in the background, a moment after start (a short CLI command has exited by then).
    this.resumeTimer = setTimeout(() => void this.resumePreviews(), RESUME_PREVIEWS_DELAY_MS);
    this.resumeTimer.unref();
  }

  /**
   * Make the previews (thumbnails, dHashes) that are pending in datasets without a running
   * import (left by a crashed or cancelled job), RESUME_PREVIEWS_CONCURRENCY at a time;
   * called a moment after start and whenever a sweep marks a job interrupted. A call while
   * a pass runs returns that pass. Resolves with how many were made; never rejects (logs).
   */
  resumePreviews(): Promise<number> {
    if (this.resuming) return this.resuming;
    if (this.disposed || !this.db.open) return Promise.resolve(0);
    const pass = (async (): Promise<number> => {
      try {
        const pending = this.previews.pending();
        return pending.length === 0 ? 0 : await this.previews.fill(pending, { concurrency: RESUME_PREVIEWS_CONCURRENCY, isCancelled: () => this.disposed });
      } catch (err) {
        if (this.db.open) console.error('[layerwise] making pending thumbnails failed:', (err as Error).message);
        return 0;
      } finally {
        this.resuming = null;
      }
    })();
    this.resuming = pass;
    return pass;
  }

  /**
   * One recovery pass: running jobs of gone owners → 'failed' ("interrupted"); cancel
   * requests for this process's jobs → cancelled; final statuses that could not be written
   * before → written now. Never throws (logs instead).
   */
  sweep(): void {
    if (this.disposed || !this.db.open) return;
    try {
      const interrupted = sweepImports(this.db, this.owner, this.jobs, this.unrecorded);
      this.owner.reapGone();
      if (interrupted > 0 && this.resumeTimer) void this.resumePreviews(); // rows of crashed processes (their pending blob references go with them)
    } catch (err) {
      console.error('[layerwise] import recovery sweep failed:', (err as Error).message);
    }
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
   * `splitConfig`: a new dataset's split rule (else the default of import/job.ts
   * `defaultSplitConfig`); e.g. mode 'given' with valFromTrain 0 keeps every file's split
   * folder exactly (the adversarial datasets of services/attack.ts).
   * @throws Error `path: … does not exist` / `path: … is not …` / `datasetId: N not found`.
   */
  async startImport(params: { path: string; name?: string; datasetId?: number; labelPattern?: string; splitConfig?: SplitConfig }): Promise<{ jobId: number }> {
    this.assertLive();
    const path = resolve(params.path);
    const st = await stat(path).catch(() => null);
    if (!st) throw new ApiError('invalid_params', `path: ${path} does not exist`, 'path');
    if (params.datasetId !== undefined) this.assertDataset(params.datasetId);
    let importer = await findImporter(path);
    if (!importer) throw new ApiError('invalid_params', `path: ${path} is not a folder of images or of IDX files`, 'path');
    if (params.labelPattern !== undefined) {
      // A label pattern is for folders of image files (IDX files bring their labels); it is compiled here so a bad one fails before anything is stored.
      if (importer.id !== 'folder') throw new ApiError('invalid_params', `labelPattern: applies to folders of image files; ${path} is read as ${importer.id} files, whose labels come with them`, 'labelPattern');
      importer = folderImporterWith({ labelPattern: params.labelPattern });
    }
    this.assertLive();
    const t = now();
    const create = this.db.transaction(() => {
      let datasetId = params.datasetId ?? (this.db.prepare('SELECT id FROM datasets WHERE source_path = ? ORDER BY id LIMIT 1').get(path) as { id: number } | undefined)?.id;
      let newDataset = false;
      if (datasetId === undefined) {
        const name = params.name ?? (basename(path).replace(/\.(gz|idx\d?-?ubyte)$/i, '') || path);
        datasetId = Number(this.db.prepare('INSERT INTO datasets (name, source_path, created_at, split_config) VALUES (?, ?, ?, ?)').run(name, path, t, JSON.stringify(defaultSplitConfig(false))).lastInsertRowid);
        newDataset = true;
      }
      const jobId = Number(this.db.prepare("INSERT INTO import_jobs (dataset_id, source_path, status, started_at, owner_id) VALUES (?, ?, 'running', ?, ?)").run(datasetId, path, t, this.owner.id).lastInsertRowid);
      return { datasetId, newDataset, jobId };
    });
    let created: ReturnType<typeof create>;
    try {
      created = create();
    } catch (err) {
      throw diskFullError(err, this.paths.db); // a full disk is named as such
    }
    const { datasetId, newDataset, jobId } = created;

    const job: RunningJob = { cancelled: false, done: Promise.resolve(null as unknown as ImportJob) };
    this.jobs.set(jobId, job);
    job.done = (async (): Promise<ImportJob> => {
      let status: 'done' | 'cancelled' | 'failed' = 'failed';
      let error: string | null = null;
      try {
        status = await runImportJob({
          db: this.db,
          blobs: this.blobs,
          previews: this.previews,
          jobId,
          datasetId,
          importer,
          path,
          newDataset,
          splitConfig: params.splitConfig,
          isCancelled: () => job.cancelled || this.disposed,
          onProgress: (p) => this.emitter.fire({ event: 'import.progress', payload: { jobId, datasetId, ...p } }),
          assignSplits: importSplitAssigner(this.db, datasetId),
        });
      } catch (err) {
        status = 'failed';
        error = failureReason(err, this.paths.db);
      }
      this.jobs.delete(jobId);
      const finishedAt = now();
      try {
        this.db.prepare('UPDATE import_jobs SET status = ?, error = ?, finished_at = ? WHERE id = ?').run(status, error, finishedAt, jobId);
        // Batches gave their items splits; anything left (a batch that failed mid-way) gets one now.
        assignPendingSplits(this.db, datasetId);
        // A failed or cancelled job leaves no empty dataset it created.
        if (newDataset && status !== 'done' && discardEmptyNewDataset(this.db, datasetId)) await this.collectGarbage().catch(() => 0);
        const result = this.getImport(jobId);
        this.emitter.fire({ event: 'import.finished', payload: result });
        return result;
      } catch (err) {
        // The database went away (service disposed and closed), or is full: the next sweep retries the final status.
        if (this.db.open) this.unrecorded.set(jobId, { status, error: error ?? failureReason(err, this.paths.db), finishedAt });
        const msg = failureReason(err, this.paths.db);
        return { id: jobId, datasetId, sourcePath: path, status, imported: 0, duplicates: 0, skipped: [], error: error ?? msg, startedAt: t, finishedAt: now() };
      }
    })();
    return { jobId };
  }

  /**
   * What importing `path` would store (import/preview.ts): splits × classes with counts,
   * file types, samples with thumbnails, warnings. Reads the source; writes nothing.
   * @throws ApiError invalid_params `path: … does not exist` / `path: … is not …` / `labelPattern: …`.
   */
  async previewImport(params: { path: string; labelPattern?: string; samplesPerClass?: number; thumbnails?: boolean }): Promise<ImportPreview> {
    this.assertLive();
    const path = resolve(params.path);
    if (!(await stat(path).catch(() => null))) throw new ApiError('invalid_params', `path: ${path} does not exist`, 'path');
    const importer = await findImporter(path);
    if (!importer) throw new ApiError('invalid_params', `path: ${path} is not a folder of images or of IDX files`, 'path');
    return previewImport(importer, path, { ...params, isCancelled: () => this.disposed });
  }

  /**
   * Ask a running import to stop after the files in flight. A job of another live process
   * gets a cancel request that its owner picks up with its next heartbeat; a job whose
   * owner is gone or stuck (stale heartbeat) is marked cancelled at once.
   * Returns false when `jobId` is not running.
   */
  cancelImport(jobId: number): boolean {
    const job = this.jobs.get(jobId);
    if (!job) return cancelForeignImport(this.db, this.owner, jobId);
    job.cancelled = true;
    return true;
  }

  /** An import job with its skipped files. @throws Error `jobId: N not found`. */
  getImport(jobId: number): ImportJob {
    const row = this.db.prepare('SELECT * FROM import_jobs WHERE id = ?').get(jobId) as JobRow | undefined;
    if (!row) throw new ApiError('not_found', `jobId: ${jobId} not found`, 'jobId');
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
    if (!Number.isInteger(params.offset) || params.offset < 0) throw new ApiError('invalid_params', `offset: must be an integer ≥ 0, got ${params.offset}`, 'offset');
    if (!Number.isInteger(params.limit) || params.limit < 1 || params.limit > 5000) throw new ApiError('invalid_params', `limit: must be an integer from 1 to 5000, got ${params.limit}`, 'limit');
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
      const field = `split.${issue.path.join('.') || 'mode'}`;
      throw new ApiError('invalid_params', `${field}: ${issue.message}`, field);
    }
    this.db.transaction(() => {
      this.db.prepare('UPDATE datasets SET split_config = ? WHERE id = ?').run(JSON.stringify(parsed.data), datasetId);
      applySplits(this.db, datasetId, parsed.data, opts.allowFromTest ? 'all' : 'keep-test');
    })();
    this.emitter.fire({ event: 'dataset.changed', payload: { datasetId, what: 'splits' } });
    return this.get(datasetId);
  }

  /**
   * Delete a dataset: its running imports are cancelled (this process's are awaited;
   * another process's get a cancel request); its rows go in chunks (./dataset-delete.ts)
   * so other requests are answered meanwhile; then its runs' folders, its pack caches and
   * the blobs nothing references any more (in any process, see collectGarbage).
   * @throws Error `datasetId: N not found`.
   */
  async delete(datasetId: number): Promise<{ ok: true }> {
    this.assertDataset(datasetId);
    const running = this.db.prepare("SELECT id FROM import_jobs WHERE dataset_id = ? AND status = 'running'").pluck().all(datasetId) as number[];
    for (const id of running) this.cancelImport(id);
    await Promise.all(running.map((id) => this.jobs.get(id)?.done));
    const { runIds, versionHashes, stats } = await deleteDatasetRows(this.db, datasetId);
    this.lastDeleteStats = stats;
    removeDatasetFiles(this.db, this.paths, runIds, versionHashes);
    await this.collectGarbage();
    return { ok: true };
  }

  /**
   * Remove the blobs (rows, files, thumbnails) that no item, no dataset version and no
   * pending reference of a live process (an import about to commit, in any process) names;
   * decided inside SQLite transactions (src/main/blobs.ts). Returns how many.
   */
  async collectGarbage(): Promise<number> {
    this.owner.reapGone();
    return this.blobs.collectGarbage();
  }

  /** The file to serve for image `hash` (see BlobStore.imageFile); null for a bad hash or a missing file. */
  imageFile(hash: string, kind: 'thumb' | 'full'): string | null {
    return this.blobs.imageFile(hash, kind);
  }

  /**
   * As imageFile, with a thumbnail still pending (a photo imported a moment ago, whose
   * import is making thumbnails, or one a crashed import left) made now, so the grid never
   * shows a missing tile. A blob whose bytes do not decode is served as it is.
   * @throws Error when the thumbnail cannot be written (disk full).
   */
  async servedFile(hash: string, kind: 'thumb' | 'full'): Promise<string | null> {
    if (kind === 'thumb' && isHash(hash) && !existsSync(this.blobs.thumbPath(hash))) {
      const pending = this.db.prepare('SELECT 1 FROM blobs WHERE hash = ? AND phash IS NULL').get(hash);
      if (pending) await this.previews.ensure(hash);
    }
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
    clearInterval(this.sweepTimer);
    clearTimeout(this.resumeTimer);
    this.previews.dispose();
    for (const job of this.jobs.values()) job.cancelled = true;
    this.emitter.dispose();
    // The owner row stays while jobs finish (their blob reservations name it); the last holder deletes it.
    if (this.jobs.size === 0) this.owner.release();
    else void this.idle().then(() => this.owner.release());
  }

  /** Resolves when no import job is running and no preview is being made. */
  async idle(): Promise<void> {
    await Promise.all([...this.jobs.values()].map((j) => j.done));
    await this.resuming;
    await this.previews.idle();
  }

  private summary(datasetId: number): DatasetSummary {
    const d = this.db.prepare('SELECT id, name, source_path, created_at FROM datasets WHERE id = ?').get(datasetId) as { id: number; name: string; source_path: string | null; created_at: number } | undefined;
    if (!d) throw new ApiError('not_found', `datasetId: ${datasetId} not found`, 'datasetId');
    // Excluded images: in itemCount and excludedCount, not in the split counts (./counts.ts).
    const { itemCount, excludedCount, counts } = datasetCounts(this.db, datasetId);
    const classCount = (this.db.prepare('SELECT COUNT(*) AS n FROM classes WHERE dataset_id = ? AND deleted_at IS NULL').get(datasetId) as { n: number }).n;
    const stats = imageStats(this.db, datasetId);
    return {
      id: d.id,
      name: d.name,
      sourcePath: d.source_path,
      createdAt: d.created_at,
      itemCount,
      excludedCount,
      classCount,
      counts,
      typicalShape: typicalShapeOf(stats),
      imageStats: stats,
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
      ...importReport(this.db, j.id, j.skipped, j.conflicts),
      error: j.error,
      startedAt: j.started_at,
      finishedAt: j.finished_at,
      ...this.jobLabels(j),
    };
  }

  /** A finished job's dataset: live classes and labelled images, and the no-classes notice when it has no labelled image. */
  private jobLabels(j: JobRow): Pick<ImportJob, 'labels' | 'notice'> {
    if (j.dataset_id === null || j.status === 'running') return {};
    const r = this.db
      .prepare('SELECT (SELECT COUNT(*) FROM classes WHERE dataset_id = ? AND deleted_at IS NULL) AS classes, COUNT(class_id) AS labeled, COUNT(*) AS items FROM items WHERE dataset_id = ?')
      .get(j.dataset_id, j.dataset_id) as { classes: number; labeled: number; items: number };
    return { labels: { classes: r.classes, labeled: r.labeled }, notice: r.items > 0 && r.labeled === 0 ? noClassesNotice(r.items) : null };
  }

  private assertDataset(datasetId: number): void {
    if (!this.db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(datasetId)) throw new ApiError('not_found', `datasetId: ${datasetId} not found`, 'datasetId');
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('DatasetService: disposed');
  }
}
