-- Training controls (issue 9): the 0-based epoch whose weights gave a run's test metrics
-- and predictions (`best_epoch`: the best by its early-stopping monitor, else the last),
-- whether early stopping ended it, and how many times it was resumed.
ALTER TABLE runs ADD COLUMN best_epoch INTEGER;
ALTER TABLE runs ADD COLUMN stopped_early INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN resumed INTEGER NOT NULL DEFAULT 0;
