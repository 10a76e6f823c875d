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
