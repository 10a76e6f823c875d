-- Sweeps and ablations (issue 9): a sweep is the SweepSpec it was made from (parsed JSON,
-- src/shared/sweep.ts) and its variants (JSON: index, values by spec path, label); its runs
-- name it (runs.sweep_id) and their variant (runs.sweep_variant, 0 = the baseline).
-- Deleting a sweep keeps its runs (sweep_id set NULL); deleting a dataset deletes the runs
-- and leaves the sweep empty. `runs_sweep_id` is the foreign key's index.
CREATE TABLE sweeps (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  variants TEXT NOT NULL,
  created_at REAL NOT NULL,
  cancelled_at REAL
) STRICT;
ALTER TABLE runs ADD COLUMN sweep_id INTEGER REFERENCES sweeps(id) ON DELETE SET NULL;
ALTER TABLE runs ADD COLUMN sweep_variant INTEGER;
CREATE INDEX runs_sweep_id ON runs (sweep_id);
