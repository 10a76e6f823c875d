/**
 * The migrations are found by listing `src/main/db/migrations/` both where Vite compiled
 * db.ts (Vitest, the electron-vite bundle) and where it runs from source under tsx (the
 * benchmarks): a new `NNN_*.sql` file is picked up without editing db.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, orderMigrations } from '../../src/main/db/db';

const root = join(__dirname, '..', '..');
const sqlFiles = readdirSync(join(root, 'src/main/db/migrations')).filter((f) => f.endsWith('.sql'));

describe('migrations loader', () => {
  it('under Vite: one migration per .sql file in the folder', () => {
    expect(sqlFiles.length).toBeGreaterThanOrEqual(3);
    expect(MIGRATIONS.length).toBe(sqlFiles.length);
  });

  it('under tsx (from source, as `npm run bench` runs): opens and migrates a database to the folder\'s last version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'layerwise-mig-tsx-'));
    try {
      const script = `const { openDatabase } = require('./src/main/db/db.ts');
        const db = openDatabase(${JSON.stringify(join(dir, 'layerwise.sqlite'))});
        console.log(JSON.stringify({ v: db.pragma('user_version', { simple: true }), tables: db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get().n }));`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout.trim()) as { v: number; tables: number };
      expect(out.v).toBe(sqlFiles.length);
      expect(out.tables).toBeGreaterThan(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('orders by number and names the file that breaks the sequence', () => {
    expect(orderMigrations({ '002_b.sql': 'B', '001_a.sql': 'A', '003_c.sql': 'C' })).toEqual(['A', 'B', 'C']);
    expect(() => orderMigrations({ '001_a.sql': 'A', '003_c.sql': 'C' })).toThrow(/003_c\.sql.*expected migration number 002/);
    expect(() => orderMigrations({ '001_a.sql': 'A', '001_b.sql': 'B' })).toThrow(/001_b\.sql|001_a\.sql/);
    expect(() => orderMigrations({ 'init.sql': 'A' })).toThrow(/init\.sql: a migration file is named NNN_name\.sql/);
  });
});
