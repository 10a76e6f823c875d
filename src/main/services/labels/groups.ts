/**
 * Undo groups (table label_groups, migration 002): one row per user action on a dataset.
 * `kind` says what the action changed and how its undo works:
 *   'assign' | 'merge' | 'delete-class' — label events (label_events rows of the group);
 *     merge / delete-class also soft-deleted a class (meta.deletedClass);
 *   'exclude' | 'move' — exclusions / splits, with the items' previous state in meta (./items.ts).
 * The undo stack is the groups with undone = 0, newest first; the redo stack those with
 * undone = 1 and discarded = 0, oldest first; a new group discards the redo stack.
 */
import { now } from '../../db/db';
import type { LabelContext, LabelSource } from './context';

export type GroupKind = 'assign' | 'merge' | 'delete-class' | 'exclude' | 'move';

export interface GroupRow {
  id: number;
  dataset_id: number;
  kind: GroupKind;
  meta: string | null;
}

/** Start a group; discards the dataset's redo stack. Returns its id. */
export function newGroup(ctx: LabelContext, datasetId: number, source: LabelSource, kind: GroupKind, meta: object | null): number {
  ctx.stmt.discardRedo.run(datasetId);
  return Number(ctx.stmt.insertGroup.run(datasetId, now(), source, kind, meta ? JSON.stringify(meta) : null).lastInsertRowid);
}
