-- Settings of the data directory that outlive a process (issue 9: the run queue's
-- concurrency; later the executor of issue 12): one JSON value per key, written by any
-- process on the directory, read at service start.
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at REAL NOT NULL
) STRICT;
