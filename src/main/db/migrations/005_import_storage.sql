-- Layerwise schema v5: what an import stored, skipped, found in conflict and doubts (issue 7).
-- Additive only: every v4 row keeps its meaning.

-- Blobs are the source file when browsers and the pack step read it as it is (JPEG, PNG,
-- WebP), else the canonical PNG; `format` says which ('jpeg' | 'png' | 'webp'), width and
-- height are the size as shown (after EXIF orientation). `grey`: 1 when R = G = B at every
-- pixel (or 1 channel), 0 when not, NULL when not known (3-channel blobs stored before v5).
ALTER TABLE blobs ADD COLUMN grey INTEGER CHECK (grey IN (0, 1));
UPDATE blobs SET grey = 1 WHERE channels = 1;

-- An import lists its first 1,000 skipped files with their reasons (import_skips) and counts
-- all of them by kind of reason, so that importing a system folder stores a bounded number of rows.
ALTER TABLE import_jobs ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;
UPDATE import_jobs SET skipped = (SELECT COUNT(*) FROM import_skips s WHERE s.job_id = import_jobs.id);
CREATE TABLE import_skip_counts (
  job_id INTEGER NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
  -- the reason's kind: its text before the first ':' or '('
  reason TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (job_id, reason)
) STRICT, WITHOUT ROWID;

-- A known image found under another class folder: not changed, reported. The first 1,000
-- are listed; all are counted per (class it is in, class folder it was found in; '' = none).
ALTER TABLE import_jobs ADD COLUMN conflicts INTEGER NOT NULL DEFAULT 0;
CREATE TABLE import_conflicts (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
  item_id INTEGER REFERENCES items(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  existing_class TEXT,
  found_class TEXT NOT NULL
) STRICT;
CREATE INDEX import_conflicts_job ON import_conflicts (job_id);
CREATE INDEX import_conflicts_item ON import_conflicts (item_id);
CREATE TABLE import_conflict_counts (
  job_id INTEGER NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
  existing_class TEXT NOT NULL,
  found_class TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (job_id, existing_class, found_class)
) STRICT, WITHOUT ROWID;

-- Items of an import worth a look: another format or a size far from their class's typical one.
CREATE TABLE import_outliers (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
  item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
  reason TEXT NOT NULL
) STRICT;
CREATE INDEX import_outliers_job ON import_outliers (job_id);
CREATE INDEX import_outliers_item ON import_outliers (item_id);
