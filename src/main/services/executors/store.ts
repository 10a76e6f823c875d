/** The `slurm_jobs` rows (migration 011): one per run trained as a Slurm job, its latest submission. */
import type { SlurmJobInfo } from '../../../shared/executor';
import { now, type Db } from '../../db/db';

/** A stored job row. */
export interface SlurmJobRow {
  run_id: number;
  job_id: string;
  job_dir: string;
  out_dir: string;
  state: string;
  node: string | null;
  reason: string | null;
  resume_after: number;
  submitted_at: number;
  updated_at: number;
}

export class SlurmJobStore {
  constructor(private readonly db: Db) {}

  /** Record a fresh submission of run `runId` (replacing its earlier one). */
  submitted(r: { runId: number; jobId: string; jobDir: string; outDir: string; resumeAfter: number }): void {
    const t = now();
    this.db
      .prepare(
        `INSERT INTO slurm_jobs (run_id, job_id, job_dir, out_dir, state, node, reason, resume_after, submitted_at, updated_at) VALUES (?, ?, ?, ?, 'PENDING', NULL, NULL, ?, ?, ?)
         ON CONFLICT(run_id) DO UPDATE SET job_id = excluded.job_id, job_dir = excluded.job_dir, out_dir = excluded.out_dir, state = 'PENDING', node = NULL, reason = NULL,
           resume_after = excluded.resume_after, submitted_at = excluded.submitted_at, updated_at = excluded.updated_at`,
      )
      .run(r.runId, r.jobId, r.jobDir, r.outDir, r.resumeAfter, t, t);
  }

  /** Store what Slurm said of the job now (only when it changed). */
  update(runId: number, s: { state: string; node: string | null; reason: string | null }): void {
    this.db
      .prepare(`UPDATE slurm_jobs SET state = ?, node = COALESCE(?, node), reason = ?, updated_at = ? WHERE run_id = ? AND (state IS NOT ? OR node IS NOT COALESCE(?, node) OR reason IS NOT ?)`)
      .run(s.state, s.node, s.reason, now(), runId, s.state, s.node, s.reason);
  }

  row(runId: number): SlurmJobRow | undefined {
    return this.db.prepare('SELECT * FROM slurm_jobs WHERE run_id = ?').get(runId) as SlurmJobRow | undefined;
  }

  /** The row as the API shows it, or null. */
  info(runId: number): SlurmJobInfo | null {
    const r = this.row(runId);
    return r ? { runId: r.run_id, jobId: r.job_id, state: r.state, node: r.node, reason: r.reason, jobDir: r.job_dir, submittedAt: r.submitted_at, updatedAt: r.updated_at } : null;
  }
}
