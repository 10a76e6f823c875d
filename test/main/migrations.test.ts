/**
 * Schema upgrades in place: a v1 database with data (as the first release wrote it)
 * opened by this build is migrated to the latest version without losing a row.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, openDatabase } from '../../src/main/db/db';
import { createApp } from '../../src/main/services/app';
import { RecordingLauncher } from './runs-helpers';
import { tempDataDir } from '../helpers';

const H = (c: string): string => c.repeat(64);

describe('migrations', () => {
  it('upgrades a v1 database with data to the latest version; every row is still there', async () => {
    const dir = tempDataDir();
    try {
      const v1 = new Database(dir.paths.db);
      v1.exec(MIGRATIONS[0]);
      v1.pragma('user_version = 1');
      v1.exec(`
        INSERT INTO datasets (id, name, source_path, created_at, split_config) VALUES (1, 'old', '/x', 1, '{"mode":"random","train":80,"val":10,"test":10,"valFromTrain":10,"seed":42}');
        INSERT INTO classes (id, dataset_id, idx, name, color) VALUES (1, 1, 0, 'cat', NULL), (2, 1, 1, 'dog', '#ff0000');
        INSERT INTO blobs (hash, size, width, height, channels, format) VALUES ('${H('a')}', 10, 28, 28, 1, 'png'), ('${H('b')}', 10, 28, 28, 1, 'png');
        INSERT INTO items (id, dataset_id, blob_hash, original_name, class_id, split, given_split, excluded, created_at) VALUES
          (1, 1, '${H('a')}', 'a.png', 1, 'train', NULL, 0, 1), (2, 1, '${H('b')}', 'b.png', 2, 'test', NULL, 1, 1);
        INSERT INTO label_events (item_id, old_class_id, new_class_id, time, source) VALUES (1, NULL, 1, 1, 'import'), (2, NULL, 2, 1, 'import');
        INSERT INTO dataset_versions (id, dataset_id, content_hash, item_count, manifest_hash, created_at) VALUES (1, 1, '${H('c')}', 1, '${H('c')}', 2);
        INSERT INTO runs (id, dataset_id, dataset_version_id, name, preset, spec, seed, status, created_at) VALUES (1, 1, 1, 'r', 'mlp', '{}', 0, 'completed', 3);
        INSERT INTO metrics (run_id, name, epoch, step, value, time) VALUES (1, 'loss', 0, 0, 2.3, 3);
      `);
      const before = Object.fromEntries(['datasets', 'classes', 'blobs', 'items', 'label_events', 'dataset_versions', 'runs', 'metrics'].map((t) => [t, v1.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()]));
      v1.close();

      const db = openDatabase(dir.paths.db);
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(MIGRATIONS.length).toBeGreaterThanOrEqual(2);
      for (const [t, rows] of Object.entries(before)) {
        const now = db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all() as Record<string, unknown>[];
        // the old columns keep their values; new columns are added with their defaults
        expect(now.map((r) => Object.fromEntries(Object.keys((rows as Record<string, unknown>[])[0]).map((k) => [k, r[k]]))), t).toEqual(rows);
      }
      expect(db.prepare('SELECT group_id, undone FROM label_events').all()).toEqual([{ group_id: null, undone: 0 }, { group_id: null, undone: 0 }]);
      expect(db.prepare('SELECT exclude_reason FROM items').pluck().all()).toEqual([null, null]);
      expect(db.prepare('SELECT phash FROM blobs').pluck().all()).toEqual([null, null]);
      expect(db.prepare('SELECT deleted_at FROM classes').pluck().all()).toEqual([null, null]);
      for (const t of ['label_groups', 'predictions', 'suggestions', 'run_classes']) expect(db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get()).toBe(0);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);
      db.close();

      // The services work on the upgraded file: import events are history (group 0), not undoable.
      const app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), api: { validateResults: true } });
      try {
        const h = (await app.handle('labels.history', { datasetId: 1 })) as { events: { groupId: number; source: string }[]; canUndo: boolean };
        expect(h.events.map((e) => [e.groupId, e.source])).toEqual([
          [0, 'import'],
          [0, 'import'],
        ]);
        expect(h.canUndo).toBe(false);
        expect(await app.handle('labels.undo', { datasetId: 1 })).toEqual({ groupId: null, changed: 0 });
        expect(await app.handle('labels.assign', { datasetId: 1, itemIds: [1], classId: 2 })).toMatchObject({ changed: 1 });
        expect(await app.handle('labels.undo', { datasetId: 1 })).toMatchObject({ changed: 1 });
        expect(app.db.prepare('SELECT class_id FROM items WHERE id = 1').pluck().get()).toBe(1);
      } finally {
        app.dispose();
      }
      // Opening again is a no-op.
      const again = openDatabase(dir.paths.db);
      expect(again.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      again.close();
    } finally {
      dir.cleanup();
    }
  });

  it('004 on a v3 database with rows: ids, rows, foreign keys and indexes kept; ids of datasets, items and runs never reused', () => {
    const dir = tempDataDir();
    try {
      const v3 = new Database(dir.paths.db);
      for (const sql of MIGRATIONS.slice(0, 3)) v3.exec(sql);
      v3.pragma('user_version = 3');
      v3.exec(`
        INSERT INTO datasets (id, name, source_path, created_at, split_config) VALUES (1, 'a', '/a', 1, '{}'), (5, 'b', NULL, 2, '{}');
        INSERT INTO classes (id, dataset_id, idx, name) VALUES (1, 1, 0, 'cat'), (2, 5, 0, 'dog');
        INSERT INTO blobs (hash, size, width, height, channels, format) VALUES ('${H('a')}', 1, 1, 1, 1, 'png'), ('${H('b')}', 1, 1, 1, 1, 'png');
        INSERT INTO items (id, dataset_id, blob_hash, original_name, class_id, split, given_split, excluded, created_at, exclude_reason) VALUES
          (3, 1, '${H('a')}', 'a.png', 1, 'train', NULL, 0, 1, NULL), (9, 5, '${H('b')}', 'b.png', 2, 'test', 'test', 1, 1, 'blurry');
        INSERT INTO label_events (item_id, old_class_id, new_class_id, time, source) VALUES (3, NULL, 1, 1, 'import'), (9, NULL, 2, 1, 'import');
        INSERT INTO dataset_versions (id, dataset_id, content_hash, item_count, manifest_hash, created_at) VALUES (1, 5, '${H('c')}', 1, '${H('c')}', 2);
        INSERT INTO runs (id, dataset_id, dataset_version_id, name, preset, spec, seed, status, created_at, backend_detail) VALUES
          (42, 5, 1, 'r', 'mlp', '{}', 0, 'completed', 3, 'wasm'), (7, 1, NULL, 's', 'linear', '{}', 1, 'failed', 4, NULL);
        INSERT INTO metrics (run_id, name, epoch, step, value, time) VALUES (42, 'loss', 0, 0, 2.3, 3);
        INSERT INTO run_classes (run_id, idx, class_id, name) VALUES (42, 0, 2, 'dog');
        INSERT INTO predictions (run_id, item_id, split, given_class_id, predicted_class_id, confidence, given_probability, probs) VALUES (42, 9, 'test', 2, 2, 1, 1, x'0000803f');
        INSERT INTO suggestions (run_id, item_id, given_class_id, suggested_class_id, score) VALUES (42, 9, 2, 2, 0.5);
        INSERT INTO import_jobs (id, dataset_id, source_path, status, started_at) VALUES (1, 1, '/a', 'done', 1);
        INSERT INTO import_skips (job_id, path, reason) VALUES (1, '/a/x.txt', 'not an image');
      `);
      const tables = ['datasets', 'classes', 'blobs', 'items', 'label_events', 'dataset_versions', 'runs', 'metrics', 'run_classes', 'predictions', 'suggestions', 'import_jobs', 'import_skips'];
      const rows = (db: Database.Database, t: string): Record<string, unknown>[] => db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all() as Record<string, unknown>[];
      const before = Object.fromEntries(tables.map((t) => [t, rows(v3, t)]));
      const fksBefore = Object.fromEntries(tables.map((t) => [t, v3.pragma(`foreign_key_list(${t})`)]));
      const indexesBefore = v3.prepare("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all() as { name: string; tbl_name: string; sql: string }[];
      v3.close();

      const db = openDatabase(dir.paths.db);
      try {
        expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
        for (const t of tables) {
          const now = rows(db, t);
          const keys = Object.keys(before[t][0]);
          expect(now.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]]))), t).toEqual(before[t]);
          // every foreign key is still there (runs and import_jobs gain owner_id → processes)
          const fk = (list: unknown): unknown[] => (list as { id: number }[]).map(({ id: _id, ...rest }) => rest);
          expect(fk(db.pragma(`foreign_key_list(${t})`)), `${t} foreign keys`).toEqual(expect.arrayContaining(fk(fksBefore[t])));
        }
        const indexesNow = new Map((db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all() as { name: string; sql: string }[]).map((r) => [r.name, r.sql]));
        for (const ix of indexesBefore) expect(indexesNow.get(ix.name), ix.name).toBe(ix.sql);
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(db.pragma('foreign_key_check')).toEqual([]);
        expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
        // The cascades still work on the rebuilt tables: deleting dataset 5 takes its items, runs, predictions.
        db.prepare('DELETE FROM datasets WHERE id = 5').run();
        expect(db.prepare('SELECT COUNT(*) FROM items WHERE id = 9').pluck().get()).toBe(0);
        expect(db.prepare('SELECT COUNT(*) FROM predictions').pluck().get()).toBe(0);
        expect(db.prepare('SELECT COUNT(*) FROM runs WHERE id = 42').pluck().get()).toBe(0);
        // Deleted ids (the largest ones) are not handed out again.
        const newDataset = Number(db.prepare("INSERT INTO datasets (name, created_at, split_config) VALUES ('c', 5, '{}')").run().lastInsertRowid);
        expect(newDataset).toBe(6);
        const newItem = Number(db.prepare(`INSERT INTO items (dataset_id, blob_hash, original_name, created_at) VALUES (1, '${H('b')}', 'c.png', 5)`).run().lastInsertRowid);
        expect(newItem).toBe(10);
        const newRun = Number(db.prepare("INSERT INTO runs (dataset_id, name, preset, spec, seed, status, created_at) VALUES (1, 'n', 'mlp', '{}', 0, 'queued', 5)").run().lastInsertRowid);
        expect(newRun).toBe(43);
      } finally {
        db.close();
      }
    } finally {
      dir.cleanup();
    }
  });

  it('010 on a v9 database: runs failed as interrupted become interrupted, other rows and their children kept, run ids never reused', () => {
    const dir = tempDataDir();
    try {
      const v9 = new Database(dir.paths.db);
      for (const sql of MIGRATIONS.slice(0, 9)) v9.exec(sql);
      v9.pragma('user_version = 9');
      v9.exec(`
        INSERT INTO datasets (id, name, source_path, created_at, split_config) VALUES (1, 'a', '/a', 1, '{}');
        INSERT INTO runs (id, dataset_id, name, preset, spec, seed, status, error, created_at, started_at, finished_at, note, best_epoch, resumed) VALUES
          (3, 1, 'r3', 'mlp', '{}', 0, 'failed', 'interrupted: the app stopped during the run', 1, 2, 5, 'n', NULL, 1),
          (4, 1, 'r4', 'mlp', '{}', 0, 'failed', 'engine exited with code 1', 1, 2, 3, '', NULL, 0),
          (5, 1, 'r5', 'mlp', '{}', 0, 'completed', NULL, 1, 2, 9, '', 2, 0),
          (9, 1, 'r9', 'mlp', '{}', 0, 'cancelled', NULL, 1, 2, 3, '', NULL, 0);
        INSERT INTO metrics (run_id, name, epoch, step, value, time) VALUES (3, 'loss', 0, 0, 2.3, 3), (5, 'val_accuracy', 2, NULL, 0.9, 9);
        INSERT INTO run_tags (run_id, tag) VALUES (5, 'best');
        DELETE FROM runs WHERE id = 9;
      `);
      v9.close();
      const db = openDatabase(dir.paths.db);
      try {
        expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(10);
        const runs = db.prepare('SELECT id, status, error, note, best_epoch, resumed, prior_seconds FROM runs ORDER BY id').all();
        expect(runs).toEqual([
          { id: 3, status: 'interrupted', error: 'interrupted: the app stopped during the run', note: 'n', best_epoch: null, resumed: 1, prior_seconds: 0 },
          { id: 4, status: 'failed', error: 'engine exited with code 1', note: '', best_epoch: null, resumed: 0, prior_seconds: 0 },
          { id: 5, status: 'completed', error: null, note: '', best_epoch: 2, resumed: 0, prior_seconds: 0 },
        ]);
        expect(db.prepare('SELECT run_id, name FROM metrics ORDER BY run_id').all()).toEqual([{ run_id: 3, name: 'loss' }, { run_id: 5, name: 'val_accuracy' }]);
        expect(db.prepare('SELECT run_id, tag FROM run_tags').all()).toEqual([{ run_id: 5, tag: 'best' }]);
        expect(db.pragma('foreign_key_check')).toEqual([]);
        // The deleted run 9 keeps its id: the next run is 10.
        expect(Number(db.prepare("INSERT INTO runs (dataset_id, name, preset, spec, seed, status, created_at) VALUES (1, 'n', 'mlp', '{}', 0, 'interrupted', 5)").run().lastInsertRowid)).toBe(10);
        expect(() => db.prepare("INSERT INTO runs (dataset_id, name, preset, spec, seed, status, created_at) VALUES (1, 'n', 'mlp', '{}', 0, 'stopped', 5)").run()).toThrow(/CHECK/);
      } finally {
        db.close();
      }
    } finally {
      dir.cleanup();
    }
  });

  it('every foreign key of every table has an index whose leading columns are the key', () => {
    const dir = tempDataDir();
    try {
      const db = dir.openDb();
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
      const missing: string[] = [];
      let checked = 0;
      for (const t of tables) {
        const fks = db.pragma(`foreign_key_list(${t})`) as { id: number; seq: number; table: string; from: string }[];
        const byId = new Map<number, string[]>();
        for (const fk of [...fks].sort((a, b) => a.seq - b.seq)) byId.set(fk.id, [...(byId.get(fk.id) ?? []), fk.from]);
        // Indexes (explicit, UNIQUE constraints, the primary key of WITHOUT ROWID tables) by their columns in order.
        const indexes = (db.pragma(`index_list(${t})`) as { name: string }[]).map((ix) => (db.pragma(`index_info(${ix.name})`) as { seqno: number; name: string }[]).sort((a, b) => a.seqno - b.seqno).map((c) => c.name));
        for (const [, cols] of byId) {
          checked++;
          const covered = indexes.some((ix) => cols.every((c, i) => ix[i] === c));
          if (!covered) missing.push(`${t}(${cols.join(', ')})`);
        }
      }
      expect(checked).toBeGreaterThanOrEqual(20);
      expect(missing).toEqual([]);
    } finally {
      dir.cleanup();
    }
  });

  it('refuses a database newer than this build', () => {
    const dir = tempDataDir();
    try {
      const db = new Database(dir.paths.db);
      db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
      db.close();
      expect(() => openDatabase(dir.paths.db)).toThrow(/newer than this Layerwise/);
    } finally {
      dir.cleanup();
    }
  });
});
