/**
 * The SQLite store: one file `layerwise.sqlite` in the data directory, WAL mode,
 * foreign keys on, STRICT tables, schema versioned by `PRAGMA user_version` with the
 * numbered plain-SQL migrations in ./migrations applied in order, each in a transaction.
 */
import Database from 'better-sqlite3';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Db = Database.Database;

/**
 * Every `migrations/NNN_*.sql`, as { file name: SQL }. Where Vite compiled this module
 * (electron-vite build, Vitest) `import.meta.env` exists and `import.meta.glob` has been
 * replaced by the folder's files inlined at build time; where it runs from source (tsx:
 * benchmarks, scripts) the folder is listed on disk.
 */
function migrationFiles(): Record<string, string> {
  if (import.meta.env) {
    const inlined = import.meta.glob<string>('./migrations/*.sql', { query: '?raw', import: 'default', eager: true });
    return Object.fromEntries(Object.entries(inlined).map(([path, sql]) => [basename(path), sql]));
  }
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
  const names = readdirSync(dir).filter((f) => f.endsWith('.sql'));
  return Object.fromEntries(names.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

/**
 * Order migration files by their number: `001_…` first, no gaps, no repeats.
 * @throws Error naming the file whose name is not `NNN_name.sql` or whose number is out of sequence.
 */
export function orderMigrations(files: Record<string, string>): string[] {
  const numbered = Object.keys(files).map((name) => {
    const m = /^(\d{3})_[\w-]+\.sql$/.exec(name);
    if (!m) throw new Error(`src/main/db/migrations/${name}: a migration file is named NNN_name.sql`);
    return { name, n: Number(m[1]) };
  });
  numbered.sort((a, b) => a.n - b.n);
  numbered.forEach(({ name, n }, i) => {
    if (n !== i + 1) throw new Error(`src/main/db/migrations/${name}: expected migration number ${String(i + 1).padStart(3, '0')} here (numbers run 001, 002, … without gaps or repeats)`);
  });
  return numbered.map(({ name }) => files[name]);
}

/** Migrations in order; migration i (1-based) brings user_version from i−1 to i. */
export const MIGRATIONS: readonly string[] = orderMigrations(migrationFiles());

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

/**
 * Bring the schema to the latest version, one migration per transaction. Foreign keys are
 * off while migrations run (so a table rebuild — create, copy, drop, rename — does not
 * cascade into its children, as SQLite's ALTER TABLE documentation prescribes) and
 * `PRAGMA foreign_key_check` must be empty before each migration commits.
 * @throws Error when the file's schema is newer than this build, or naming the migration
 *   and the first row whose foreign key it broke.
 */
export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`${db.name}: database schema version ${current} is newer than this Layerwise (${MIGRATIONS.length}); update the app`);
  }
  if (current === MIGRATIONS.length) return;
  const fk = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF');
  try {
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[v]);
        const broken = db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[];
        if (broken.length > 0) {
          const b = broken[0];
          throw new Error(`${db.name}: migration ${v + 1} left ${broken.length} rows with a broken foreign key (first: ${b.table} rowid ${b.rowid} → ${b.parent})`);
        }
        db.pragma(`user_version = ${v + 1}`);
      })();
    }
  } finally {
    db.pragma(`foreign_keys = ${fk ? 'ON' : 'OFF'}`);
  }
}

/** Unix time in seconds. */
export const now = (): number => Date.now() / 1000;
