-- Runs whose process stopped (host restart, crash) get their own status 'interrupted'
-- (resumable), not 'failed'; the runs table is rebuilt for the CHECK constraint (migrations run
-- with foreign keys off, so the rows that reference runs stay). Runs marked failed as
-- interrupted before (error 'interrupted: …') become 'interrupted'.
-- prior_seconds: training seconds of the run's earlier segments (before each runs.resume), so a
-- resumed run's duration counts all its training time.
CREATE TABLE runs_v10 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  dataset_version_id INTEGER REFERENCES dataset_versions(id),
  name TEXT NOT NULL,
  preset TEXT NOT NULL,
  spec TEXT NOT NULL,
  seed INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted')),
  backend TEXT,
  error TEXT,
  created_at REAL NOT NULL,
  started_at REAL,
  finished_at REAL,
  best_val_accuracy REAL,
  test_accuracy REAL,
  test_loss REAL,
  samples_per_sec REAL,
  backend_detail TEXT,
  -- the process driving the run (queued, preparing or training); see processes
  owner_id TEXT REFERENCES processes(id) ON DELETE SET NULL,
  -- set by another process to ask the owner to cancel; the owner reads it with its heartbeat
  cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
  note TEXT NOT NULL DEFAULT '',
  sweep_id INTEGER REFERENCES sweeps(id) ON DELETE SET NULL,
  sweep_variant INTEGER,
  best_epoch INTEGER,
  stopped_early INTEGER NOT NULL DEFAULT 0,
  resumed INTEGER NOT NULL DEFAULT 0,
  prior_seconds REAL NOT NULL DEFAULT 0
) STRICT;
-- Keep the AUTOINCREMENT counter: ids of deleted runs are not handed out again.
INSERT INTO sqlite_sequence (name, seq) SELECT 'runs_v10', seq FROM sqlite_sequence WHERE name = 'runs';
INSERT INTO runs_v10 (id, dataset_id, dataset_version_id, name, preset, spec, seed, status, backend, error, created_at, started_at, finished_at,
                      best_val_accuracy, test_accuracy, test_loss, samples_per_sec, backend_detail, owner_id, cancel_requested,
                      note, sweep_id, sweep_variant, best_epoch, stopped_early, resumed)
  SELECT id, dataset_id, dataset_version_id, name, preset, spec, seed,
         CASE WHEN status = 'failed' AND error LIKE 'interrupted%' THEN 'interrupted' ELSE status END,
         backend, error, created_at, started_at, finished_at,
         best_val_accuracy, test_accuracy, test_loss, samples_per_sec, backend_detail, owner_id, cancel_requested,
         note, sweep_id, sweep_variant, best_epoch, stopped_early, resumed FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v10 RENAME TO runs;
CREATE INDEX runs_dataset ON runs (dataset_id);
CREATE INDEX runs_dataset_version ON runs (dataset_version_id);
CREATE INDEX runs_owner ON runs (owner_id);
CREATE INDEX runs_sweep_id ON runs (sweep_id);
