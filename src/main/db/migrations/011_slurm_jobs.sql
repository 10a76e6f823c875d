-- Issue 12: a run trained as a Slurm batch job. One row per run (its latest submission): the
-- job id, the job folder on the staging filesystem, and what squeue / sacct last said of it
-- (state word, node, reason). `resume_after`: the epoch the job's engine continues after (-1:
-- from the start), so a host that re-attaches knows which metrics the job's messages replace.
CREATE TABLE slurm_jobs (
  -- UNIQUE (not INTEGER PRIMARY KEY, the rowid): the foreign key gets an index of its own
  run_id INTEGER NOT NULL UNIQUE REFERENCES runs(id) ON DELETE CASCADE,
  job_id TEXT NOT NULL,
  job_dir TEXT NOT NULL,
  out_dir TEXT NOT NULL,
  state TEXT NOT NULL,
  node TEXT,
  reason TEXT,
  resume_after INTEGER NOT NULL DEFAULT -1,
  submitted_at REAL NOT NULL,
  updated_at REAL NOT NULL
) STRICT;
