/**
 * What every part of the LabelService shares: the database with its statements prepared
 * once, the `dataset.changed` announcer, and the checks on datasets and item ids.
 */
import { ApiError } from '../../../shared/errors';
import type { Split } from '../../../shared/api';
import type { Db } from '../../db/db';

export type LabelSource = 'user' | 'import' | 'suggestion';
export type ChangeKind = 'labels' | 'classes' | 'items' | 'splits';

/** An item as the label operations read it. */
export interface ItemRow {
  id: number;
  class_id: number | null;
  split: Split | null;
}

function statements(db: Db) {
  return {
    datasetExists: db.prepare('SELECT 1 FROM datasets WHERE id = ?'),
    classRow: db.prepare('SELECT id, dataset_id, idx, name, color, deleted_at FROM classes WHERE id = ?'),
    liveClassNamed: db.prepare('SELECT id FROM classes WHERE dataset_id = ? AND name = ? AND deleted_at IS NULL'),
    liveClassIds: db.prepare('SELECT id FROM classes WHERE dataset_id = ? AND deleted_at IS NULL ORDER BY idx').pluck(),
    setClassIdx: db.prepare('UPDATE classes SET idx = ? WHERE id = ?'),
    itemsOf: db.prepare('SELECT id, class_id, split FROM items WHERE dataset_id = ? AND id IN (SELECT value FROM json_each(?))'),
    insertGroup: db.prepare('INSERT INTO label_groups (dataset_id, time, source, kind, meta) VALUES (?, ?, ?, ?, ?)'),
    discardRedo: db.prepare('UPDATE label_groups SET discarded = 1 WHERE dataset_id = ? AND undone = 1 AND discarded = 0'),
    insertEvent: db.prepare('INSERT INTO label_events (item_id, old_class_id, new_class_id, time, source, group_id, undone) VALUES (?, ?, ?, ?, ?, ?, 0)'),
    setClass: db.prepare('UPDATE items SET class_id = ? WHERE id = ?'),
    setClassMany: db.prepare('UPDATE items SET class_id = ? WHERE id IN (SELECT value FROM json_each(?))'),
    setExcluded: db.prepare('UPDATE items SET excluded = ?, exclude_reason = ? WHERE id = ?'),
    setExcludedMany: db.prepare('UPDATE items SET excluded = ?, exclude_reason = ? WHERE id IN (SELECT value FROM json_each(?))'),
    setSplit: db.prepare('UPDATE items SET split = ? WHERE id = ?'),
    setSplitMany: db.prepare('UPDATE items SET split = ? WHERE id IN (SELECT value FROM json_each(?))'),
    lastDone: db.prepare('SELECT id, dataset_id, kind, meta FROM label_groups WHERE dataset_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1'),
    firstRedo: db.prepare('SELECT id, dataset_id, kind, meta FROM label_groups WHERE dataset_id = ? AND undone = 1 AND discarded = 0 ORDER BY id ASC LIMIT 1'),
    groupEvents: db.prepare('SELECT item_id, old_class_id, new_class_id FROM label_events WHERE group_id = ? ORDER BY id'),
    markGroup: db.prepare('UPDATE label_groups SET undone = ? WHERE id = ?'),
    markEvents: db.prepare('UPDATE label_events SET undone = ? WHERE group_id = ?'),
  };
}

export class LabelContext {
  readonly stmt: ReturnType<typeof statements>;

  constructor(
    readonly db: Db,
    /** Announce a change (fires `dataset.changed`). */
    readonly changed: (datasetId: number, what: ChangeKind) => void,
  ) {
    this.stmt = statements(db);
  }

  /** @throws ApiError not_found `datasetId: N not found`. */
  assertDataset(datasetId: number): void {
    if (!this.stmt.datasetExists.get(datasetId)) throw new ApiError('not_found', `datasetId: ${datasetId} not found`, 'datasetId');
  }

  /** The rows of `itemIds` (deduplicated). @throws ApiError invalid_params `itemIds: …` when some are not items of the dataset. */
  itemsOf(datasetId: number, itemIds: readonly number[]): ItemRow[] {
    const unique = [...new Set(itemIds)];
    const rows = this.stmt.itemsOf.all(datasetId, JSON.stringify(unique)) as ItemRow[];
    if (rows.length !== unique.length) {
      const found = new Set(rows.map((r) => r.id));
      const missing = unique.filter((id) => !found.has(id));
      throw new ApiError('invalid_params', `itemIds: ${missing.length} of the ${unique.length} items are not in dataset ${datasetId} (e.g. ${missing.slice(0, 3).join(', ')})`, 'itemIds');
    }
    return rows;
  }
}
