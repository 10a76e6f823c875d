/**
 * The SQLite store: one file `layerwise.sqlite` in the data directory, WAL mode,
 * foreign keys on, STRICT tables, schema versioned by `PRAGMA user_version` with the
 * numbered plain-SQL migrations in ./migrations applied in order, each in a transaction.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import m001 from './migrations/001_init.sql?raw';
import m002 from './migrations/002_labeling.sql?raw';
import m003 from './migrations/003_run_detail_item_order.sql?raw';

export type Db = Database.Database;

/** Migrations in order; migration i (1-based) brings user_version from i−1 to i. */
export const MIGRATIONS: readonly string[] = [m001, m002, m003];

/**
 * Open (creating if needed) and migrate the database at `file`.
 * @throws Error when the file's schema is newer than this build knows (user_version > MIGRATIONS.length).
 */
export function openDatabase(file: string): Db {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`${db.name}: database schema version ${current} is newer than this Layerwise (${MIGRATIONS.length}); update the app`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** Unix time in seconds. */
export const now = (): number => Date.now() / 1000;
