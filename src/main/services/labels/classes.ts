/**
 * Classes of a dataset: add, rename / recolour, and the soft delete and restore that
 * class merges and deletes (./history.ts) and their undo use. A soft-deleted class keeps
 * its row with idx = −id and a placeholder name, so undo restores the very same class;
 * live classes always have idx 0 … n−1 (the pack label), renumbered after a change.
 */
import { ApiError } from '../../../shared/errors';
import { now } from '../../db/db';
import { Ingest } from '../../import/ingest';
import type { LabelContext } from './context';

export interface ClassRow {
  id: number;
  dataset_id: number;
  idx: number;
  name: string;
  color: string | null;
  deleted_at: number | null;
}

/** The class a merge / delete group soft-deleted, to restore it on undo. */
export interface DeletedClassMeta {
  classId: number;
  name: string;
  idx: number;
}

/**
 * A live class; with `datasetId`, also of that dataset.
 * @throws ApiError `<field>: …`: not_found when there is no such class, invalid_params when
 *   it belongs to another dataset or was deleted.
 */
export function liveClass(ctx: LabelContext, classId: number, field: string, datasetId?: number): ClassRow {
  const c = ctx.stmt.classRow.get(classId) as ClassRow | undefined;
  if (!c) throw new ApiError('not_found', `${field}: class ${classId} not found`, field);
  if (datasetId !== undefined && c.dataset_id !== datasetId) throw new ApiError('invalid_params', `${field}: class ${classId} belongs to dataset ${c.dataset_id}, not to dataset ${datasetId}`, field);
  if (c.deleted_at !== null) throw new ApiError('invalid_params', `${field}: class ${classId} was deleted`, field);
  return c;
}

/** @throws ApiError conflict (field name) when a live class other than `exceptId` has `name`. */
function assertNameFree(ctx: LabelContext, datasetId: number, name: string, exceptId: number | null): void {
  const other = ctx.stmt.liveClassNamed.get(datasetId, name) as { id: number } | undefined;
  if (other && other.id !== exceptId) throw new ApiError('conflict', `name: dataset ${datasetId} already has a class named "${name}"`, 'name');
}

/**
 * Add a class at the end of the class order (idx = number of classes). Returns its id.
 * @throws ApiError `datasetId: …` not_found; conflict (field name) when the name is taken.
 */
export function addClass(ctx: LabelContext, p: { datasetId: number; name: string; color?: string }): number {
  ctx.assertDataset(p.datasetId);
  const name = p.name.trim();
  const id = ctx.db.transaction(() => {
    assertNameFree(ctx, p.datasetId, name, null);
    return new Ingest(ctx.db, p.datasetId).addClass(name, p.color ?? null);
  })();
  ctx.changed(p.datasetId, 'classes');
  return id;
}

/**
 * Rename and/or recolour a class (labels are ids, so no label changes; frozen versions
 * keep the old name). Returns the class row as it was before.
 * @throws ApiError `classId: …` (see liveClass); conflict (field name).
 */
export function updateClass(ctx: LabelContext, p: { classId: number; name?: string; color?: string }): ClassRow {
  const c = liveClass(ctx, p.classId, 'classId');
  ctx.db.transaction(() => {
    if (p.name !== undefined && p.name.trim() !== c.name) {
      assertNameFree(ctx, c.dataset_id, p.name.trim(), c.id);
      ctx.db.prepare('UPDATE classes SET name = ? WHERE id = ?').run(p.name.trim(), c.id);
    }
    if (p.color !== undefined) ctx.db.prepare('UPDATE classes SET color = ? WHERE id = ?').run(p.color, c.id);
  })();
  ctx.changed(c.dataset_id, 'classes');
  return c;
}

/** Soft-delete a class (idx −id, placeholder name) and renumber the rest 0 … n−1. */
export function softDeleteClass(ctx: LabelContext, classId: number): void {
  const c = ctx.stmt.classRow.get(classId) as ClassRow;
  ctx.db.prepare('UPDATE classes SET deleted_at = ?, idx = ?, name = ? WHERE id = ?').run(now(), -c.id, `\u0000deleted-${c.id}`, c.id);
  renumber(ctx, c.dataset_id, null);
}

/**
 * Undo of a soft delete: the class comes back under its name at its former position.
 * @throws ApiError conflict (field datasetId) when a live class has that name now.
 */
export function restoreClass(ctx: LabelContext, m: DeletedClassMeta): void {
  const c = ctx.stmt.classRow.get(m.classId) as ClassRow | undefined;
  if (!c || c.deleted_at === null) return;
  const other = ctx.stmt.liveClassNamed.get(c.dataset_id, m.name) as { id: number } | undefined;
  if (other) throw new ApiError('conflict', `datasetId: cannot undo: it restores class "${m.name}", but class ${other.id} has that name now; rename that class first`, 'datasetId');
  ctx.db.prepare('UPDATE classes SET deleted_at = NULL, name = ? WHERE id = ?').run(m.name, c.id);
  renumber(ctx, c.dataset_id, { id: c.id, at: m.idx });
}

/** Make the live classes' idx dense 0 … n−1 in their current order (optionally inserting one at position `at`). */
function renumber(ctx: LabelContext, datasetId: number, insert: { id: number; at: number } | null): void {
  const ids = (ctx.stmt.liveClassIds.all(datasetId) as number[]).filter((id) => id !== insert?.id);
  if (insert) ids.splice(Math.min(insert.at, ids.length), 0, insert.id);
  ids.forEach((id, k) => ctx.stmt.setClassIdx.run(-1e12 - k, id)); // out of the way first: UNIQUE (dataset_id, idx)
  ids.forEach((id, k) => ctx.stmt.setClassIdx.run(k, id));
}
