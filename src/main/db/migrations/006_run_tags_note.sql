-- Runs carry tags and a note (issue 9). A tag is 1–50 characters, no two alike on one run;
-- the primary key (run_id, tag) is the index of the foreign key, `run_tags_tag` finds a
-- tag's runs. Both go with their run (ON DELETE CASCADE).
ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT '';

CREATE TABLE run_tags (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
) STRICT, WITHOUT ROWID;
CREATE INDEX run_tags_tag ON run_tags (tag);
