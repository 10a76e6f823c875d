/**
 * The item grid's order (src/main/services/item-query.ts): item id, whatever the labels
 * and splits, so relabelling an image in the labeling view leaves it (and the image after
 * it) where they were; and a page anywhere in 70,000 items is read through an index, in id
 * order, without scanning or sorting the dataset's items (SQLite's EXPLAIN QUERY PLAN of
 * the statements it ran). How long a page takes is `npm run bench labels`'s (item pages).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/main/db/db';
import { queryItemIds, queryItems } from '../../src/main/services/item-query';
import type { VersionStore } from '../../src/main/services/versions';

const N = 70_000;

describe('item order (70,000 items, 10 classes, 3 splits, plus a second dataset)', () => {
  let dir: string;
  let db: Db;
  const versions = {} as VersionStore; // not used without changedSinceVersionId
  const classIds: number[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'layerwise-order-'));
    db = openDatabase(join(dir, 'db.sqlite'));
    const t = Date.now() / 1000;
    for (const id of [1, 2]) db.prepare(`INSERT INTO datasets (id, name, created_at, split_config) VALUES (?, ?, ?, '{}')`).run(id, `d${id}`, t);
    for (let c = 0; c < 10; c++) classIds.push(Number(db.prepare(`INSERT INTO classes (dataset_id, idx, name) VALUES (1, ?, ?)`).run(c, `c${c}`).lastInsertRowid));
    const blob = db.prepare(`INSERT INTO blobs (hash, size, width, height, channels, format) VALUES (?, 100, 28, 28, 1, 'png')`);
    const item = db.prepare(`INSERT INTO items (dataset_id, blob_hash, original_name, class_id, split, created_at) VALUES (?, ?, ?, ?, ?, ?)`);
    db.transaction(() => {
      for (let i = 0; i < N; i++) {
        // Two datasets interleaved, so one dataset's ids are not one contiguous range.
        for (const ds of [1, 2]) {
          const h = `${ds}-${i}-`.padEnd(64, 'x');
          blob.run(h);
          item.run(ds, h, `img${i}.png`, ds === 1 && i % 7 ? classIds[(i * 3) % 10] : null, (['train', 'val', 'test'] as const)[i % 3], t);
        }
      }
    })();
    db.exec('ANALYZE');
  }, 120_000);
  afterAll(() => {
    db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('orders by id, and relabelling or moving an item keeps every position', () => {
    const before = queryItems(db, versions, { datasetId: 1, offset: 0, limit: 50 }).items.map((i) => i.id);
    expect(before).toEqual([...before].sort((a, b) => a - b));
    db.prepare('UPDATE items SET class_id = ?, split = ? WHERE id = ?').run(classIds[9], 'test', before[3]);
    const after = queryItems(db, versions, { datasetId: 1, offset: 0, limit: 50 }).items.map((i) => i.id);
    expect(after).toEqual(before);
    const page = queryItems(db, versions, { datasetId: 1, offset: 20_000, limit: 256, split: 'val' });
    expect(page.items.map((i) => i.id)).toEqual(queryItemIds(db, versions, { datasetId: 1, split: 'val' }).slice(20_000, 20_256));
  });

  it('reads a page anywhere in the dataset through an index, with no scan of the items and no sort', () => {
    // A second connection that logs every statement it runs, with its bound values
    // (better-sqlite3's `verbose`: SQLite's expanded SQL), so the plans are those of the
    // statements queryItems really ran, values included.
    let ran: string[] | null = null;
    const traced = new Database(join(dir, 'db.sqlite'), { readonly: true, verbose: (sql) => ran?.push(String(sql)) });
    try {
      const cases: Record<string, Parameters<typeof queryItems>[2]> = {
        first: { datasetId: 1, offset: 0, limit: 256 },
        middle: { datasetId: 1, offset: 35_000, limit: 256 },
        last: { datasetId: 1, offset: N - 256, limit: 256 },
        'last, 2nd dataset': { datasetId: 2, offset: N - 256, limit: 256 },
        'unlabeled, last': { datasetId: 1, unlabeled: true, offset: 9_000, limit: 256 },
        'val, last': { datasetId: 1, split: 'val', offset: 23_000, limit: 256 },
      };
      for (const [name, q] of Object.entries(cases)) {
        ran = [];
        const page = queryItems(traced, versions, q);
        const statements = ran;
        ran = null;
        expect(page.items.map((i) => i.id), name).toEqual(queryItemIds(db, versions, q).slice(q.offset, q.offset + q.limit));
        expect(page.items.length, name).toBeGreaterThan(0);
        expect(statements.length, name).toBeGreaterThan(0);
        for (const sql of statements) {
          const plan = (traced.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail);
          const where = `${name}: ${sql.replace(/\s+/g, ' ')}\n${plan.join('\n')}`;
          // Every table is searched by a key or an index: a SCAN (of the table or of a whole
          // index) would read every item, and a TEMP B-TREE would sort them.
          expect(plan.filter((d) => /^SCAN /.test(d)), where).toEqual([]);
          expect(plan.filter((d) => /TEMP B-TREE/.test(d)), where).toEqual([]);
          // items: by one of its per-dataset indexes (dataset_id first) or by id.
          const onItems = plan.filter((d) => /^SEARCH i /.test(d));
          expect(onItems.length, where).toBeGreaterThan(0);
          for (const d of onItems) expect(d, where).toMatch(/^SEARCH i USING (COVERING )?INDEX items_dataset_\w+ \(dataset_id=|^SEARCH i USING INTEGER PRIMARY KEY \(rowid=/);
        }
      }
    } finally {
      traced.close();
    }
  });
});
