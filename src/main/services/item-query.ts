/**
 * The item grid's filters (ItemFilter in src/shared/api.ts) as indexed SQL, shared by
 * `datasets.items` (a page) and `items.ids` (every matching id).
 *
 * Order: item id (import order). The order must not depend on anything a user edits
 * (label, split, exclusion): in the labeling view a relabelled image stays where it was, so
 * the cursor's "next image" is the one after it (an order by (split, class, id) moved the
 * tile to its new class's section and the next image slid into the gap, skipped).
 * A page is fetched as ids first, read in id order from a per-dataset index (no sort of
 * the matching items: a few ms for a page deep into 70,000 items), then joined with blobs
 * and predictions for just those ids, as an `IN` list that SQLite walks in order (so the
 * page needs no sort either). test/main/item-query.test.ts checks the query plans;
 * `npm run bench labels` times the pages.
 *
 * With `runId`: the run's prediction is attached to each item (null when it has none). With
 * `predictedClassId`, `trueClassId` or `misclassified` only items the run predicted are
 * kept, `trueClassId` is the label the run was trained / evaluated with, and `split` is the
 * split the item had in that run (so a confusion-matrix cell lists exactly its items).
 */
import type { Item, ItemFilter, Split } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import type { Db } from '../db/db';
import type { VersionStore } from './versions';

/** Most ids `items.ids` returns. */
export const MAX_IDS = 200_000;

export interface ItemQuery extends ItemFilter {
  datasetId: number;
}

interface Built {
  from: string;
  where: string;
  args: (string | number)[];
  cell: boolean;
}

/**
 * Build the FROM / WHERE of a filter.
 * @throws Error `runId: …` (unknown run / other dataset), `changedSinceVersionId: …`.
 */
function build(db: Db, versions: VersionStore, q: ItemQuery): Built {
  const cell = q.runId !== undefined && (q.predictedClassId !== undefined || q.trueClassId !== undefined || q.misclassified !== undefined);
  const where: string[] = ['i.dataset_id = ?'];
  const args: (string | number)[] = [q.datasetId];
  let from = 'items i';
  if (q.runId !== undefined) {
    const run = db.prepare('SELECT dataset_id FROM runs WHERE id = ?').get(q.runId) as { dataset_id: number } | undefined;
    if (!run) throw new ApiError('not_found', `runId: run ${q.runId} not found`, 'runId');
    if (run.dataset_id !== q.datasetId) throw new ApiError('invalid_params', `runId: run ${q.runId} is of dataset ${run.dataset_id}, not ${q.datasetId}`, 'runId');
  }
  if (cell) {
    from = 'predictions p JOIN items i ON i.id = p.item_id';
    where.unshift('p.run_id = ?');
    args.unshift(q.runId!);
    if (q.split !== undefined) {
      where.push('p.split = ?');
      args.push(q.split);
    }
    if (q.predictedClassId !== undefined) {
      where.push('p.predicted_class_id = ?');
      args.push(q.predictedClassId);
    }
    if (q.trueClassId !== undefined) {
      where.push('p.given_class_id = ?');
      args.push(q.trueClassId);
    }
    if (q.misclassified !== undefined) where.push(q.misclassified ? 'p.predicted_class_id IS NOT p.given_class_id' : 'p.predicted_class_id IS p.given_class_id');
  } else if (q.split !== undefined) {
    where.push('i.split = ?');
    args.push(q.split);
  }
  if (q.classId !== undefined) {
    where.push('i.class_id = ?');
    args.push(q.classId);
  }
  if (q.unlabeled) where.push('i.class_id IS NULL');
  else if (q.unlabeled === false) where.push('i.class_id IS NOT NULL');
  if (q.excluded !== undefined) {
    where.push('i.excluded = ?');
    args.push(q.excluded ? 1 : 0);
  }
  if (q.changedSinceVersionId !== undefined) {
    where.push('i.id IN (SELECT value FROM json_each(?))');
    args.push(JSON.stringify(versions.changedItemIds(q.datasetId, q.changedSinceVersionId)));
  }
  return { from, where: where.join(' AND '), args, cell };
}

interface PageRow {
  id: number;
  hash: string;
  name: string;
  classId: number | null;
  split: Split | null;
  width: number;
  height: number;
  excluded: number;
  excludeReason: string | null;
  pClass: number | null;
  pConf: number | null;
  pGiven: number | null;
}

/**
 * One page of items matching `q`, `offset` ≥ 0, 1 ≤ `limit` ≤ 5000, and the total count.
 * @throws Error as build.
 */
export function queryItems(db: Db, versions: VersionStore, q: ItemQuery & { offset: number; limit: number }): { total: number; items: Item[] } {
  const b = build(db, versions, q);
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM ${b.from} WHERE ${b.where}`).get(...b.args) as { n: number }).n;
  const withRun = q.runId !== undefined;
  const rows = db
    .prepare(
      `SELECT i.id, i.blob_hash AS hash, i.original_name AS name, i.class_id AS classId, i.split, bl.width, bl.height, i.excluded, i.exclude_reason AS excludeReason,
         ${withRun ? 'pp.predicted_class_id AS pClass, pp.confidence AS pConf, pp.given_probability AS pGiven' : 'NULL AS pClass, NULL AS pConf, NULL AS pGiven'}
       FROM items i JOIN blobs bl ON bl.hash = i.blob_hash
       ${withRun ? 'LEFT JOIN predictions pp ON pp.run_id = ? AND pp.item_id = i.id' : ''}
       WHERE i.id IN (SELECT i.id FROM ${b.from} WHERE ${b.where} ORDER BY i.id LIMIT ? OFFSET ?)
       ORDER BY i.id`,
    )
    .all(...(withRun ? [q.runId!] : []), ...b.args, q.limit, q.offset) as PageRow[];
  const items: Item[] = rows.map((r) => {
    const item: Item = { id: r.id, hash: r.hash, name: r.name, classId: r.classId, split: r.split, width: r.width, height: r.height, excluded: r.excluded === 1, excludeReason: r.excludeReason };
    if (withRun) item.prediction = r.pClass === null ? null : { classId: r.pClass, confidence: r.pConf!, givenProbability: r.pGiven! };
    return item;
  });
  return { total, items };
}

/**
 * Every id matching `q`, in grid order.
 * @throws Error `datasetId: more than 200,000 items match …` and as build.
 */
export function queryItemIds(db: Db, versions: VersionStore, q: ItemQuery): number[] {
  const b = build(db, versions, q);
  const ids = (db.prepare(`SELECT i.id FROM ${b.from} WHERE ${b.where} ORDER BY i.id LIMIT ?`).pluck().all(...b.args, MAX_IDS + 1) as number[]);
  if (ids.length > MAX_IDS) throw new ApiError('invalid_params', `datasetId: more than ${MAX_IDS.toLocaleString('en-US')} items match; narrow the filter`, 'datasetId');
  return ids;
}

/** Items by id (any dataset), without predictions; ids that do not exist are absent from the map. */
export function itemsByIds(db: Db, ids: readonly number[]): Map<number, Item> {
  const rows = db
    .prepare(
      `SELECT i.id, i.blob_hash AS hash, i.original_name AS name, i.class_id AS classId, i.split, bl.width, bl.height, i.excluded, i.exclude_reason AS excludeReason
       FROM items i JOIN blobs bl ON bl.hash = i.blob_hash WHERE i.id IN (SELECT value FROM json_each(?))`,
    )
    .all(JSON.stringify(ids)) as Omit<PageRow, 'pClass' | 'pConf' | 'pGiven'>[];
  return new Map(rows.map((r) => [r.id, { id: r.id, hash: r.hash, name: r.name, classId: r.classId, split: r.split, width: r.width, height: r.height, excluded: r.excluded === 1, excludeReason: r.excludeReason }]));
}
