-- Layerwise schema v2: labeling (the labeling page: classes, per-item labels and their undo history). Additive only: every v1 row keeps its meaning.
-- Times are Unix seconds (REAL).

-- One user action on labels (assign, merge, class delete, accepted suggestion): the unit
-- of undo/redo. The undo stack of a dataset is its groups with undone = 0, newest first;
-- the redo stack is its groups with undone = 1 AND discarded = 0, oldest first. A new
-- group discards the redo stack (as editors do). Survives restarts: it is all in here.
CREATE TABLE label_groups (
  id INTEGER PRIMARY KEY,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  time REAL NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('user', 'import', 'suggestion')),
  -- 'assign' | 'merge' | 'delete-class'
  kind TEXT NOT NULL,
  -- JSON: for 'merge' / 'delete-class' the class soft-deleted by this group {classId, name, idx}
  meta TEXT,
  undone INTEGER NOT NULL DEFAULT 0 CHECK (undone IN (0, 1)),
  discarded INTEGER NOT NULL DEFAULT 0 CHECK (discarded IN (0, 1))
) STRICT;
CREATE INDEX label_groups_dataset ON label_groups (dataset_id, undone, discarded, id);

-- v1 import events keep group_id NULL (not undoable; reported as group 0).
ALTER TABLE label_events ADD COLUMN group_id INTEGER REFERENCES label_groups(id) ON DELETE CASCADE;
ALTER TABLE label_events ADD COLUMN undone INTEGER NOT NULL DEFAULT 0 CHECK (undone IN (0, 1));
CREATE INDEX label_events_item ON label_events (item_id, id);
CREATE INDEX label_events_group ON label_events (group_id);

-- Why an item was excluded (free text; NULL when not excluded or no reason given).
ALTER TABLE items ADD COLUMN exclude_reason TEXT;
CREATE INDEX items_dataset_class ON items (dataset_id, class_id);

-- Soft delete of classes: a deleted class keeps its row (so undo can restore it and old
-- events/predictions keep their meaning) with idx = -id and a placeholder name; live
-- classes (deleted_at IS NULL) always have idx 0 … n−1.
ALTER TABLE classes ADD COLUMN deleted_at REAL;

-- 64-bit difference hash (dHash, 9×8 greyscale) as 16 lowercase hex digits; NULL = not computed yet.
ALTER TABLE blobs ADD COLUMN phash TEXT;

-- The class order a run was trained with: pack label idx → class id (by name at ingest).
CREATE TABLE run_classes (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  class_id INTEGER,
  name TEXT NOT NULL,
  PRIMARY KEY (run_id, idx)
) STRICT;

-- A finished run's softmax output for every item of its version (val/test rows are out of sample).
CREATE TABLE predictions (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
  split TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
  -- the label the run trained / was evaluated with
  given_class_id INTEGER,
  predicted_class_id INTEGER NOT NULL,
  -- p(predicted), p(given), in [0, 1]
  confidence REAL NOT NULL,
  given_probability REAL NOT NULL,
  -- numClasses little-endian float32, in run_classes order
  probs BLOB NOT NULL,
  PRIMARY KEY (run_id, item_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX predictions_cell ON predictions (run_id, split, given_class_id, predicted_class_id);

-- Likely label errors found by confident learning on a run's out-of-sample predictions.
CREATE TABLE suggestions (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
  given_class_id INTEGER NOT NULL,
  suggested_class_id INTEGER NOT NULL,
  -- p(suggested) − p(given)
  score REAL NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected', 'excluded')),
  PRIMARY KEY (run_id, item_id)
) STRICT;
CREATE INDEX suggestions_rank ON suggestions (run_id, status, score);
