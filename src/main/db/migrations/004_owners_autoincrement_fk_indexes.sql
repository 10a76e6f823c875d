-- Layerwise schema v4: storage integrity across processes (issue 7). Every v3 row keeps its
-- meaning and its id. Runs with foreign keys OFF (db.ts migrate() turns them off around
-- every migration and runs PRAGMA foreign_key_check before committing), so that the table
-- rebuilds below do not cascade.

-- Processes (host, CLI, Electron) that have the database open: the owners of import jobs,
-- runs and pending blob references. `id` is a random instance id; `proc_start` is the
-- process's start time as the OS reports it (Linux: /proc/<pid>/stat field 22, clock ticks
-- since boot), so a reused pid is not mistaken for the owner. `heartbeat_at` is refreshed
-- every few seconds (src/main/db/owners.ts); an owner is gone when its pid is not alive on
-- this host, or, on another host, when its heartbeat is older than 3 intervals.
CREATE TABLE processes (
  id TEXT PRIMARY KEY,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  proc_start TEXT,
  started_at REAL NOT NULL,
  heartbeat_at REAL NOT NULL,
  heartbeat_ms INTEGER NOT NULL
) STRICT;

-- Blobs a process has written (or found on disk) and is about to reference from an item or
-- a dataset version; garbage collection never deletes these (src/main/blobs.ts).
CREATE TABLE blob_refs_pending (
  hash TEXT NOT NULL,
  owner_id TEXT NOT NULL REFERENCES processes(id) ON DELETE CASCADE,
  at REAL NOT NULL,
  PRIMARY KEY (hash, owner_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX blob_refs_pending_owner ON blob_refs_pending (owner_id);

ALTER TABLE import_jobs ADD COLUMN owner_id TEXT REFERENCES processes(id) ON DELETE SET NULL;
-- Set by another process to ask the owner to stop; the owner reads it with its heartbeat.
ALTER TABLE import_jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1));

-- AUTOINCREMENT: ids are never reused (runs/<id>/ folders, caches and clients key on them).
-- datasets, items and runs are rebuilt with the same columns in the same order.
CREATE TABLE datasets_v4 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  source_path TEXT,
  created_at REAL NOT NULL,
  -- SplitConfig JSON (see src/shared/api.ts)
  split_config TEXT NOT NULL
) STRICT;
INSERT INTO datasets_v4 (id, name, source_path, created_at, split_config) SELECT id, name, source_path, created_at, split_config FROM datasets;
DROP TABLE datasets;
ALTER TABLE datasets_v4 RENAME TO datasets;

CREATE TABLE items_v4 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  blob_hash TEXT NOT NULL REFERENCES blobs(hash),
  original_name TEXT NOT NULL,
  class_id INTEGER REFERENCES classes(id) ON DELETE SET NULL,
  split TEXT CHECK (split IN ('train', 'val', 'test')),
  given_split TEXT CHECK (given_split IN ('train', 'val', 'test')),
  excluded INTEGER NOT NULL DEFAULT 0,
  created_at REAL NOT NULL,
  exclude_reason TEXT,
  UNIQUE (dataset_id, blob_hash)
) STRICT;
INSERT INTO items_v4 (id, dataset_id, blob_hash, original_name, class_id, split, given_split, excluded, created_at, exclude_reason)
  SELECT id, dataset_id, blob_hash, original_name, class_id, split, given_split, excluded, created_at, exclude_reason FROM items;
DROP TABLE items;
ALTER TABLE items_v4 RENAME TO items;
CREATE INDEX items_dataset_split ON items (dataset_id, split, class_id);
CREATE INDEX items_dataset_class ON items (dataset_id, class_id);
CREATE INDEX items_dataset_id ON items (dataset_id, id);

CREATE TABLE runs_v4 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  dataset_version_id INTEGER REFERENCES dataset_versions(id),
  name TEXT NOT NULL,
  preset TEXT NOT NULL,
  spec TEXT NOT NULL,
  seed INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
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
  cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1))
) STRICT;
INSERT INTO runs_v4 (id, dataset_id, dataset_version_id, name, preset, spec, seed, status, backend, error, created_at, started_at, finished_at,
                     best_val_accuracy, test_accuracy, test_loss, samples_per_sec, backend_detail)
  SELECT id, dataset_id, dataset_version_id, name, preset, spec, seed, status, backend, error, created_at, started_at, finished_at,
         best_val_accuracy, test_accuracy, test_loss, samples_per_sec, backend_detail FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v4 RENAME TO runs;

-- Every foreign key has an index whose leading columns are the key (test/main/migrations.test.ts
-- checks all of them): deletes of a parent row find its children without a table scan.
CREATE INDEX items_blob_hash ON items (blob_hash);
CREATE INDEX items_class ON items (class_id);
CREATE INDEX import_jobs_dataset ON import_jobs (dataset_id);
CREATE INDEX import_jobs_owner ON import_jobs (owner_id);
CREATE INDEX import_skips_job ON import_skips (job_id);
CREATE INDEX runs_dataset ON runs (dataset_id);
CREATE INDEX runs_dataset_version ON runs (dataset_version_id);
CREATE INDEX runs_owner ON runs (owner_id);
CREATE INDEX checkpoints_run ON checkpoints (run_id);
CREATE INDEX predictions_item ON predictions (item_id);
CREATE INDEX suggestions_item ON suggestions (item_id);
-- garbage collection looks blobs up by manifest
CREATE INDEX dataset_versions_manifest ON dataset_versions (manifest_hash);
