/**
 * The runs' rows in SQLite: statements prepared once, the row → RunSummary mapping, and
 * every write a run's lifecycle makes (insert, version, running, finished, best val
 * accuracy, checkpoints, metric batches).
 */
import { existsSync, readdirSync } from 'node:fs';
import type { Metric, RunStatus, RunSummary } from '../../../shared/api';
import { now, type Db } from '../../db/db';

/** A run row with its dataset's name and val_robust_accuracy (at the tested epoch, else the last measured) and robust ε from the metrics and spec (issue 10). */
const RUN_SELECT = `SELECT r.*, d.name AS dataset_name, (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.name = 'val_robust_accuracy' AND m.step IS NULL ORDER BY m.epoch = r.best_epoch DESC, m.epoch DESC LIMIT 1) AS val_robust_accuracy, json_extract(r.spec, '$.training.adversarial.robustEpsilon') AS robust_epsilon, json_extract(r.spec, '$.pretrained.backbone') AS backbone FROM runs r JOIN datasets d ON d.id = r.dataset_id`;

export interface RunRow {
  id: number;
  dataset_id: number;
  dataset_version_id: number | null;
  dataset_name: string;
  name: string;
  preset: string;
  spec: string;
  status: RunStatus;
  backend: string | null;
  backend_detail: string | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  best_val_accuracy: number | null;
  test_accuracy: number | null;
  test_loss: number | null;
  samples_per_sec: number | null;
  /** Migration 006. */
  note?: string;
  /** Migration 008: the tested epoch, early stop, times resumed. */
  best_epoch?: number | null;
  stopped_early?: number;
  resumed?: number;
  /** Migration 010: training seconds of the segments before the last runs.resume. */
  prior_seconds?: number;
  /** From the metrics: val_robust_accuracy at the tested epoch (else the last measured); the spec's robust ε (/255). */
  val_robust_accuracy?: number | null;
  robust_epsilon?: number | null;
  /** The spec's pretrained.backbone (a fine-tune), else null. */
  backbone?: string | null;
}

/** A metric sample of one run. */
export interface RunMetric extends Metric {
  runId: number;
}

/** An unfinished run's status, owner (a `processes` id, or null) and cancel request. */
export interface UnfinishedRun {
  id: number;
  status: RunStatus;
  owner_id: string | null;
  cancel_requested: number;
}

/** Results a finished run may record (null/undefined keeps what is stored). */
export interface RunResults {
  testAccuracy?: number | null;
  testLoss?: number | null;
  samplesPerSec?: number;
  /** The 0-based epoch whose weights gave the test metrics; whether early stopping ended the run. */
  testedEpoch?: number | null;
  stoppedEarly?: boolean;
}

function prepareStatements(db: Db) {
  return {
    insertRun: db.prepare(
      `INSERT INTO runs (dataset_id, name, preset, spec, seed, status, created_at, owner_id) VALUES (@datasetId, @name, @preset, @spec, @seed, 'queued', @createdAt, @ownerId)`,
    ),
    setVersion: db.prepare(`UPDATE runs SET dataset_version_id = ? WHERE id = ?`),
    setRunning: db.prepare(`UPDATE runs SET status = 'running', backend = ?, backend_detail = ?, started_at = ? WHERE id = ?`),
    setFinished: db.prepare(
      `UPDATE runs SET status = @status, error = @error, finished_at = @finishedAt,
         test_accuracy = COALESCE(@testAccuracy, test_accuracy), test_loss = COALESCE(@testLoss, test_loss),
         samples_per_sec = COALESCE(@samplesPerSec, samples_per_sec),
         best_epoch = COALESCE(@testedEpoch, best_epoch), stopped_early = COALESCE(@stoppedEarly, stopped_early) WHERE id = @id`,
    ),
    setBestVal: db.prepare(`UPDATE runs SET best_val_accuracy = MAX(COALESCE(best_val_accuracy, -1), ?) WHERE id = ?`),
    insertMetric: db.prepare(`INSERT INTO metrics (run_id, name, epoch, step, value, time) VALUES (?, ?, ?, ?, ?, ?)`),
    insertCheckpoint: db.prepare(`INSERT INTO checkpoints (run_id, epoch, path, created_at) VALUES (?, ?, ?, ?)`),
    getRun: db.prepare(`${RUN_SELECT} WHERE r.id = ?`),
    status: db.prepare(`SELECT status FROM runs WHERE id = ?`),
    listAll: db.prepare(`${RUN_SELECT} ORDER BY r.id DESC`),
    listByDataset: db.prepare(`${RUN_SELECT} WHERE r.dataset_id = ? ORDER BY r.id DESC`),
    unfinished: db.prepare(`SELECT id, status, owner_id, cancel_requested FROM runs WHERE status IN ('queued', 'running')`),
    owner: db.prepare(`SELECT owner_id FROM runs WHERE id = ?`),
    requestCancel: db.prepare(`UPDATE runs SET cancel_requested = 1 WHERE id = ? AND status IN ('queued', 'running')`),
    claimQueued: db.prepare(`UPDATE runs SET owner_id = @to WHERE id = @id AND status = 'queued' AND owner_id IS @from`),
    releaseQueued: db.prepare(`UPDATE runs SET owner_id = NULL WHERE id = ? AND status = 'queued'`),
    metrics: db.prepare(`SELECT name, epoch, step, value, time FROM metrics WHERE run_id = ? ORDER BY rowid`),
    dropMetricsAfter: db.prepare(`DELETE FROM metrics WHERE run_id = ? AND epoch > ?`),
    dropCheckpointsAfter: db.prepare(`DELETE FROM checkpoints WHERE run_id = ? AND epoch > ?`),
    requeue: db.prepare(
      `UPDATE runs SET status = 'queued', error = NULL, prior_seconds = prior_seconds + COALESCE(MAX(0, finished_at - started_at), 0), finished_at = NULL, cancel_requested = 0, owner_id = @ownerId, resumed = resumed + 1,
         test_accuracy = NULL, test_loss = NULL, best_epoch = NULL, stopped_early = 0,
         best_val_accuracy = (SELECT MAX(value) FROM metrics WHERE run_id = @id AND name = 'val_accuracy' AND step IS NULL) WHERE id = @id`,
    ),
    datasetExists: db.prepare(`SELECT id FROM datasets WHERE id = ?`),
    claim: db.prepare(`UPDATE runs SET owner_id = ? WHERE id = ?`),
  };
}

export class RunStore {
  private readonly stmt: ReturnType<typeof prepareStatements>;

  constructor(private readonly db: Db) {
    this.stmt = prepareStatements(db);
  }

  datasetExists(datasetId: number): boolean {
    return this.stmt.datasetExists.get(datasetId) !== undefined;
  }

  /** Insert a run 'queued' with its whole parsed spec (JSON), owned by process `ownerId`. Returns its id (never one used before: AUTOINCREMENT). */
  insert(run: { datasetId: number; name: string; preset: string; spec: string; seed: number; ownerId: string }): number {
    return Number(this.stmt.insertRun.run({ ...run, createdAt: now() }).lastInsertRowid);
  }

  /** The run's row (with its dataset's name), or undefined. */
  row(runId: number): RunRow | undefined {
    return this.stmt.getRun.get(runId) as RunRow | undefined;
  }

  /** The run's status, or undefined when there is no such run (deleted with its dataset). */
  status(runId: number): RunStatus | undefined {
    return (this.stmt.status.get(runId) as { status: RunStatus } | undefined)?.status;
  }

  /** Rows newest first, optionally of one dataset. */
  list(datasetId?: number): RunRow[] {
    return (datasetId === undefined ? this.stmt.listAll.all() : this.stmt.listByDataset.all(datasetId)) as RunRow[];
  }

  /** The runs stored as 'queued' or 'running', with their owners. */
  unfinished(): UnfinishedRun[] {
    return this.stmt.unfinished.all() as UnfinishedRun[];
  }

  /** The process id (`processes.id`) owning the run, null when none; undefined when there is no such run. */
  owner(runId: number): string | null | undefined {
    return (this.stmt.owner.get(runId) as { owner_id: string | null } | undefined)?.owner_id;
  }

  /** Ask the run's owner to cancel it (it reads the request with its heartbeat). */
  requestCancel(runId: number): void {
    this.stmt.requestCancel.run(runId);
  }

  /**
   * Take over a queued run whose owner (`from`, null: none) is gone: it becomes `to`'s.
   * @returns false when another process claimed it first, or it is no longer queued.
   */
  claimQueued(runId: number, from: string | null, to: string): boolean {
    return this.stmt.claimQueued.run({ id: runId, from, to }).changes === 1;
  }

  /** Leave queued runs to whichever process takes over queues next (owner NULL); other statuses are untouched. */
  releaseQueued(runIds: readonly number[]): void {
    this.db.transaction(() => {
      for (const id of runIds) this.stmt.releaseQueued.run(id);
    })();
  }

  /** reserveIdsThrough the largest numbered folder in `runsDir` (`runs/<id>/`), if any. */
  reserveIdsPastFolders(runsDir: string): void {
    const folders = existsSync(runsDir) ? readdirSync(runsDir).filter((n) => /^\d+$/.test(n)).map(Number) : [];
    if (folders.length > 0) this.reserveIdsThrough(Math.max(...folders));
  }

  /**
   * Make the next run id larger than `n` (e.g. the largest `runs/<n>/` folder left by a
   * run deleted before ids were AUTOINCREMENT), so no new run shares a folder with an old one.
   */
  reserveIdsThrough(n: number): void {
    this.db.transaction(() => {
      const seq = this.db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'runs'`).pluck().get() as number | undefined;
      if (seq === undefined) this.db.prepare(`INSERT INTO sqlite_sequence (name, seq) VALUES ('runs', ?)`).run(n);
      else if (seq < n) this.db.prepare(`UPDATE sqlite_sequence SET seq = ? WHERE name = 'runs'`).run(n);
    })();
  }

  /** Every metric sample of a run in the order written. */
  metrics(runId: number): Metric[] {
    return this.stmt.metrics.all(runId) as Metric[];
  }

  setVersion(runId: number, versionId: number): void {
    this.stmt.setVersion.run(versionId, runId);
  }

  /** 'running' on `backend` (with its detail), started now. */
  setRunning(runId: number, backend: string, detail: string | null, time: number): void {
    this.stmt.setRunning.run(backend, detail, time, runId);
  }

  /** Write a terminal (or 'cancelled') status with its error and results. Returns the run's backend (null when none). */
  setFinished(runId: number, status: RunStatus, error: string | null, results: RunResults): string | null {
    this.stmt.setFinished.run({
      id: runId,
      status,
      error,
      finishedAt: now(),
      testAccuracy: results.testAccuracy ?? null,
      testLoss: results.testLoss ?? null,
      samplesPerSec: results.samplesPerSec ?? null,
      testedEpoch: results.testedEpoch ?? null,
      stoppedEarly: results.stoppedEarly === undefined ? null : Number(results.stoppedEarly),
    });
    return this.row(runId)?.backend ?? null;
  }

  /** Keep the best validation accuracy seen. */
  recordValAccuracy(runId: number, value: number): void {
    this.stmt.setBestVal.run(value, runId);
  }

  /**
   * Queue a cancelled, interrupted or failed run again to resume after epoch `keepThrough` (-1: from the
   * start), owned by `ownerId`, in one transaction: the metrics and checkpoint rows of later
   * epochs (and every step sample after the kept epochs) go, the results are cleared, the
   * best validation accuracy is that of the kept epochs, `resumed` counts up.
   */
  requeueForResume(runId: number, keepThrough: number, ownerId: string): void {
    this.db.transaction(() => {
      this.stmt.dropMetricsAfter.run(runId, keepThrough);
      this.stmt.dropCheckpointsAfter.run(runId, keepThrough);
      this.stmt.requeue.run({ id: runId, ownerId });
    })();
  }

  /** Leave an unfinished run to no owner (its job trains on elsewhere; the next host follows it). */
  releaseOwner(runId: number): void {
    this.stmt.claim.run(null, runId);
  }

  /** Take over a run whose job is followed again: owner `ownerId`, metrics and checkpoints after `keepThrough` dropped (its messages write them again). */
  reattach(runId: number, keepThrough: number, ownerId: string): void {
    this.db.transaction(() => {
      this.stmt.dropMetricsAfter.run(runId, keepThrough);
      this.stmt.dropCheckpointsAfter.run(runId, keepThrough);
      this.stmt.claim.run(ownerId, runId);
    })();
  }

  insertCheckpoint(runId: number, epoch: number, path: string, time: number): void {
    this.stmt.insertCheckpoint.run(runId, epoch, path, time);
  }

  /** Insert metric samples in one transaction. */
  insertMetrics(batch: readonly RunMetric[]): void {
    this.db.transaction(() => {
      for (const m of batch) this.stmt.insertMetric.run(m.runId, m.name, m.epoch, m.step, m.value, m.time);
    })();
  }
}

/** A run row as the API shows it (duration up to now while running). */
export function runSummary(r: RunRow): RunSummary {
  const end = r.finished_at ?? (r.status === 'running' ? now() : null);
  return {
    id: r.id,
    name: r.name,
    datasetId: r.dataset_id,
    datasetName: r.dataset_name,
    datasetVersionId: r.dataset_version_id,
    preset: r.preset,
    status: r.status,
    backend: r.backend,
    backendDetail: r.backend_detail,
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationSeconds: r.started_at !== null && end !== null ? (r.prior_seconds ?? 0) + Math.max(0, end - r.started_at) : null,
    bestValAccuracy: r.best_val_accuracy,
    testAccuracy: r.test_accuracy,
    testLoss: r.test_loss,
    samplesPerSec: r.samples_per_sec,
    note: r.note ?? '',
    bestEpoch: r.best_epoch ?? null,
    stoppedEarly: r.stopped_early === 1,
    resumed: r.resumed ?? 0,
    valRobustAccuracy: r.val_robust_accuracy ?? null,
    robustEpsilon: r.robust_epsilon ? r.robust_epsilon : null,
    backbone: r.backbone ?? null,
  };
}
