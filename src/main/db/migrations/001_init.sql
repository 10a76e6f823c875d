-- Layerwise schema v1. Times are Unix seconds (REAL). Splits: 'train' | 'val' | 'test'.
CREATE TABLE datasets (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  source_path TEXT,
  created_at REAL NOT NULL,
  -- SplitConfig JSON (see src/shared/api.ts)
  split_config TEXT NOT NULL
) STRICT;

CREATE TABLE classes (
  id INTEGER PRIMARY KEY,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  name TEXT NOT NULL,
  color TEXT,
  UNIQUE (dataset_id, name),
  UNIQUE (dataset_id, idx)
) STRICT;

-- Content-addressed image files under blobs/<hash[0:2]>/<hash>; sha-256 of the stored bytes.
CREATE TABLE blobs (
  hash TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  channels INTEGER NOT NULL,
  format TEXT NOT NULL
) STRICT;

CREATE TABLE items (
  id INTEGER PRIMARY KEY,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  blob_hash TEXT NOT NULL REFERENCES blobs(hash),
  original_name TEXT NOT NULL,
  class_id INTEGER REFERENCES classes(id) ON DELETE SET NULL,
  split TEXT CHECK (split IN ('train', 'val', 'test')),
  given_split TEXT CHECK (given_split IN ('train', 'val', 'test')),
  excluded INTEGER NOT NULL DEFAULT 0,
  created_at REAL NOT NULL,
  UNIQUE (dataset_id, blob_hash)
) STRICT;
CREATE INDEX items_dataset_split ON items (dataset_id, split, class_id);

CREATE TABLE import_jobs (
  id INTEGER PRIMARY KEY,
  dataset_id INTEGER REFERENCES datasets(id) ON DELETE CASCADE,
  source_path TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
  imported INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  started_at REAL NOT NULL,
  finished_at REAL
) STRICT;

CREATE TABLE import_skips (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  reason TEXT NOT NULL
) STRICT;

-- The frozen (item hash, label, split) list a run trained on; manifest stored as a blob (JSON).
CREATE TABLE dataset_versions (
  id INTEGER PRIMARY KEY,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  content_hash TEXT NOT NULL,
  item_count INTEGER NOT NULL,
  manifest_hash TEXT NOT NULL,
  created_at REAL NOT NULL,
  UNIQUE (dataset_id, content_hash)
) STRICT;

CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
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
  samples_per_sec REAL
) STRICT;

CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  epoch INTEGER,
  step INTEGER,
  value REAL NOT NULL,
  time REAL NOT NULL
) STRICT;
CREATE INDEX metrics_run ON metrics (run_id, name, step);

CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  path TEXT NOT NULL,
  created_at REAL NOT NULL
) STRICT;

CREATE TABLE label_events (
  id INTEGER PRIMARY KEY,
  item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
  old_class_id INTEGER,
  new_class_id INTEGER,
  time REAL NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('user', 'import', 'suggestion'))
) STRICT;
