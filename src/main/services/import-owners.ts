/**
 * Import jobs across processes: each job row names its owner (src/main/db/owners.ts).
 * `sweepImports` (run by every DatasetService at start and every heartbeat) marks the
 * running jobs of gone owners failed ("interrupted") — never a live process's job — and
 * removes the dataset such a job was creating when it holds nothing (no item, no run, no
 * other import: a crash leaves no empty dataset the user did not ask for), and hands cancel requests for this process's jobs to them; `cancelForeignImport` cancels a
 * job this process does not run: at once when its owner is gone or stuck, else by a
 * request its owner reads with its heartbeat.
 */
import type { ImportJob } from '../../shared/api';
import type { Db } from '../db/db';
import { now } from '../db/db';
import type { Owner } from '../db/owners';
import { discardEmptyNewDataset } from './datasets-import';

/** A final job status that could not be written (disk full), kept to be written by a later sweep. */
export interface UnrecordedJob {
  status: ImportJob['status'];
  error: string | null;
  finishedAt: number;
}

/**
 * One recovery pass over the import jobs: write `unrecorded` final statuses (removing those
 * written); mark running jobs of gone owners failed ("interrupted"); set `cancelled` on this
 * process's `jobs` that another process asked to cancel. Returns how many jobs it marked interrupted.
 * @throws the SQLite error of a failed write (the caller logs it; the next sweep retries).
 */
export function sweepImports(db: Db, owner: Owner, jobs: ReadonlyMap<number, { cancelled: boolean }>, unrecorded: Map<number, UnrecordedJob>): number {
  for (const [id, f] of unrecorded) {
    db.prepare('UPDATE import_jobs SET status = ?, error = ?, finished_at = ? WHERE id = ?').run(f.status, f.error, f.finishedAt, id);
    unrecorded.delete(id);
  }
  const rows = db.prepare("SELECT id, owner_id, cancel_requested FROM import_jobs WHERE status = 'running'").all() as { id: number; owner_id: string | null; cancel_requested: number }[];
  if (rows.length === 0) return 0;
  let interrupted = 0;
  const procs = owner.processes();
  const fail = db.prepare("UPDATE import_jobs SET status = 'failed', error = 'interrupted', finished_at = ? WHERE id = ? AND status = 'running'");
  // The job's dataset was made by it when no other import job and no run ever used that dataset.
  const onlyThisJob = db.prepare(
    'SELECT j.dataset_id AS datasetId FROM import_jobs j WHERE j.id = ? AND j.dataset_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM import_jobs o WHERE o.dataset_id = j.dataset_id AND o.id <> j.id) AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.dataset_id = j.dataset_id)',
  );
  for (const r of rows) {
    if (r.owner_id === owner.id) {
      const job = jobs.get(r.id);
      if (job && r.cancel_requested) job.cancelled = true;
    } else if (owner.ownerGone(r.owner_id, procs)) {
      interrupted += fail.run(now(), r.id).changes;
      const made = onlyThisJob.get(r.id) as { datasetId: number } | undefined;
      if (made) discardEmptyNewDataset(db, made.datasetId);
    }
  }
  return interrupted;
}

/**
 * Cancel running job `jobId` that this process does not run: marked 'cancelled' at once
 * when its owner is gone or stuck (stale heartbeat), else `cancel_requested` is set for
 * its owner. Returns false when the job is not running.
 */
export function cancelForeignImport(db: Db, owner: Owner, jobId: number): boolean {
  const row = db.prepare("SELECT owner_id FROM import_jobs WHERE id = ? AND status = 'running'").get(jobId) as { owner_id: string | null } | undefined;
  if (!row) return false;
  if (owner.ownerUnresponsive(row.owner_id)) {
    db.prepare("UPDATE import_jobs SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'running'").run(now(), jobId);
  } else {
    db.prepare('UPDATE import_jobs SET cancel_requested = 1 WHERE id = ?').run(jobId);
  }
  return true;
}
