/**
 * History and undo/redo of every labeling action (tables label_groups / label_events,
 * migration 002; see ./groups.ts): each user action — assign, class merge, class delete,
 * an accepted suggestion, an exclusion, a split move — is one *group*. Label changes are
 * stored as label events (item, old class, new class, time, source); exclusions and moves
 * keep the items' previous state in the group (./items.ts). Undo reverts the dataset's
 * newest group that is not undone; redo re-applies the oldest undone group of the redo
 * stack; a new group discards the redo stack, as editors do. All of it is stored, so it
 * survives restarts. Items whose label does not change get no event.
 */
import type { LabelEvent, LabelGroup, Split } from '../../../shared/api';
import { ApiError } from '../../../shared/errors';
import { now } from '../../db/db';
import { liveClass, restoreClass, softDeleteClass, type DeletedClassMeta } from './classes';
import type { ChangeKind, LabelContext, LabelSource } from './context';
import { newGroup, type GroupRow } from './groups';
import { describeGroups } from './history-text';
import { revertExclude, revertMove, type ExcludeMeta, type MoveMeta } from './items';

type EventRow = { item_id: number; old_class_id: number | null; new_class_id: number | null };

/** What an undo / redo of a group of `kind` announces. */
const changeKinds = (kind: GroupRow['kind']): ChangeKind[] => (kind === 'exclude' ? ['items'] : kind === 'move' ? ['splits'] : kind === 'assign' ? ['labels'] : ['labels', 'classes']);

/** Record one event per row (old → `classId`) and set the items' class. */
function writeEvents(ctx: LabelContext, groupId: number, rows: readonly { id: number; class_id: number | null }[], classId: number | null, source: LabelSource): void {
  const t = now();
  for (const r of rows) ctx.stmt.insertEvent.run(r.id, r.class_id, classId, t, source, groupId);
  for (let k = 0; k < rows.length; k += 10_000) {
    ctx.stmt.setClassMany.run(classId, JSON.stringify(rows.slice(k, k + 10_000).map((r) => r.id)));
  }
}

/**
 * Give `classId` (null = unlabeled) to the items `itemIds` of `datasetId`, in one
 * transaction and one undo group (source 'user' or 'suggestion'). Items that already
 * have that label get no event. Returns how many changed and the group id (0 when
 * nothing changed: no group is made and the redo stack is kept).
 * @throws ApiError `datasetId: N not found`, `classId: …` (not found, of another dataset,
 *   deleted), `itemIds: …` (items not in the dataset).
 */
export function assign(ctx: LabelContext, p: { datasetId: number; itemIds: readonly number[]; classId: number | null; source?: LabelSource }): { changed: number; groupId: number } {
  ctx.assertDataset(p.datasetId);
  if (p.classId !== null) liveClass(ctx, p.classId, 'classId', p.datasetId);
  const result = ctx.db.transaction(() => {
    const rows = ctx.itemsOf(p.datasetId, p.itemIds);
    const changed = rows.filter((r) => r.class_id !== p.classId);
    if (changed.length === 0) return { changed: 0, groupId: 0 };
    const groupId = newGroup(ctx, p.datasetId, p.source ?? 'user', 'assign', null);
    writeEvents(ctx, groupId, changed, p.classId, p.source ?? 'user');
    return { changed: changed.length, groupId };
  })();
  if (result.changed > 0) ctx.changed(p.datasetId, 'labels');
  return result;
}

/** Apply (`undo` false) or revert (`undo` true) one group's change; returns how many items it covers. */
function applyGroup(ctx: LabelContext, g: GroupRow, undo: boolean): number {
  if (g.kind === 'exclude') return revertExclude(ctx, JSON.parse(g.meta!) as ExcludeMeta, undo);
  if (g.kind === 'move') return revertMove(ctx, JSON.parse(g.meta!) as MoveMeta, undo);
  const meta = g.meta ? (JSON.parse(g.meta) as { deletedClass?: DeletedClassMeta }) : {};
  const events = ctx.stmt.groupEvents.all(g.id) as EventRow[];
  if (undo) {
    if (meta.deletedClass) restoreClass(ctx, meta.deletedClass);
    for (let k = events.length - 1; k >= 0; k--) ctx.stmt.setClass.run(events[k].old_class_id, events[k].item_id);
  } else {
    for (const e of events) ctx.stmt.setClass.run(e.new_class_id, e.item_id);
    if (meta.deletedClass) softDeleteClass(ctx, meta.deletedClass.classId);
  }
  return events.length;
}

/**
 * Revert the dataset's newest group that is not undone, whatever it changed: labels
 * (restoring a class that the group merged or deleted), exclusions or splits. Returns its
 * id and the number of items changed; groupId null when there is nothing to undo.
 * @throws ApiError `datasetId: N not found`; conflict when a class to restore has a name
 *   that a live class now has.
 */
export function undo(ctx: LabelContext, datasetId: number): { groupId: number | null; changed: number } {
  return step(ctx, datasetId, 'undo');
}

/**
 * Re-apply the undone group on top of the redo stack (the one undone last). groupId null
 * when there is nothing to redo. @throws ApiError `datasetId: N not found`.
 */
export function redo(ctx: LabelContext, datasetId: number): { groupId: number | null; changed: number } {
  return step(ctx, datasetId, 'redo');
}

/** One undo or redo step: pick the group, apply it in that direction, flag it and its events, then fire the changes. */
function step(ctx: LabelContext, datasetId: number, direction: 'undo' | 'redo'): { groupId: number | null; changed: number } {
  ctx.assertDataset(datasetId);
  const undoing = direction === 'undo';
  const result = ctx.db.transaction(() => {
    const g = (undoing ? ctx.stmt.lastDone : ctx.stmt.firstRedo).get(datasetId) as GroupRow | undefined;
    if (!g) return { groupId: null, changed: 0, kind: null };
    const changed = applyGroup(ctx, g, undoing);
    const undone = undoing ? 1 : 0;
    ctx.stmt.markGroup.run(undone, g.id);
    ctx.stmt.markEvents.run(undone, g.id);
    return { groupId: g.id, changed, kind: g.kind };
  })();
  if (result.kind) for (const k of changeKinds(result.kind)) ctx.changed(datasetId, k);
  return { groupId: result.groupId, changed: result.changed };
}

/**
 * The newest `limit` (default 100) label events of a dataset (or of one item), newest
 * first, with whether undo / redo are possible (import events have groupId 0); and, for
 * the dataset, its newest `limit` actions in words (`groups`: every undo group, undone
 * ones too, and each import; see ./history-text.ts).
 * @throws ApiError `datasetId: N not found`.
 */
export function history(ctx: LabelContext, p: { datasetId: number; itemId?: number; limit?: number }): { events: LabelEvent[]; groups: LabelGroup[]; canUndo: boolean; canRedo: boolean } {
  ctx.assertDataset(p.datasetId);
  const limit = p.limit ?? 100;
  const rows = (
    p.itemId !== undefined
      ? ctx.db
          .prepare('SELECT e.* FROM label_events e JOIN items i ON i.id = e.item_id WHERE e.item_id = ? AND i.dataset_id = ? ORDER BY e.id DESC LIMIT ?')
          .all(p.itemId, p.datasetId, limit)
      : ctx.db.prepare('SELECT e.* FROM label_events e JOIN items i ON i.id = e.item_id WHERE i.dataset_id = ? ORDER BY e.id DESC LIMIT ?').all(p.datasetId, limit)
  ) as { id: number; item_id: number; old_class_id: number | null; new_class_id: number | null; time: number; source: LabelSource; group_id: number | null; undone: number }[];
  return {
    events: rows.map((r) => ({ id: r.id, groupId: r.group_id ?? 0, itemId: r.item_id, oldClassId: r.old_class_id, newClassId: r.new_class_id, time: r.time, source: r.source, undone: r.undone === 1 })),
    groups: describeGroups(ctx, p.datasetId, limit),
    canUndo: ctx.stmt.lastDone.get(p.datasetId) !== undefined,
    canRedo: ctx.stmt.firstRedo.get(p.datasetId) !== undefined,
  };
}

/**
 * Relabel every image of `sourceClassId` to `targetClassId` (label events, one undo
 * group) and delete the source class (soft; the undo restores it). Returns how many
 * images moved.
 * @throws ApiError `sourceClassId: …` / `targetClassId: …` (not found, deleted, other
 *   dataset, the same class).
 */
export function mergeClasses(ctx: LabelContext, p: { sourceClassId: number; targetClassId: number }): { moved: number } {
  const src = liveClass(ctx, p.sourceClassId, 'sourceClassId');
  if (p.targetClassId === p.sourceClassId) throw new ApiError('invalid_params', `targetClassId: cannot merge class "${src.name}" (${src.id}) into itself; choose another target class`, 'targetClassId');
  const dst = liveClass(ctx, p.targetClassId, 'targetClassId', src.dataset_id);
  const moved = ctx.db.transaction(() => {
    const rows = ctx.db.prepare('SELECT id, class_id, split FROM items WHERE class_id = ?').all(src.id) as { id: number; class_id: number | null; split: Split | null }[];
    const groupId = newGroup(ctx, src.dataset_id, 'user', 'merge', { deletedClass: { classId: src.id, name: src.name, idx: src.idx } });
    writeEvents(ctx, groupId, rows, dst.id, 'user');
    softDeleteClass(ctx, src.id);
    return rows.length;
  })();
  ctx.changed(src.dataset_id, 'labels');
  ctx.changed(src.dataset_id, 'classes');
  return { moved };
}

/**
 * Delete a class: its images (excluded ones too) become unlabeled, as label events in
 * one undo group; the class is soft-deleted (undo restores it) and the remaining
 * classes are renumbered 0 … n−1. `confirmCount` must equal the class's image count as
 * ClassInfo.counts.total shows it (its non-excluded images).
 *
 * A class used by frozen dataset versions (and their runs) may be deleted: a version's
 * manifest stores class names and is never modified, so its runs, packs and diffs keep
 * the class; `versions.diff` from such a version lists the images as relabeled to null.
 * @throws ApiError `classId: …` (not found, deleted); conflict (field confirmCount) when
 *   the count differs — nothing is deleted then.
 */
export function deleteClass(ctx: LabelContext, p: { classId: number; confirmCount: number }): { unlabeled: number } {
  const c = liveClass(ctx, p.classId, 'classId');
  const unlabeled = ctx.db.transaction(() => {
    const rows = ctx.db.prepare('SELECT id, class_id, split, excluded FROM items WHERE class_id = ?').all(c.id) as { id: number; class_id: number | null; split: Split | null; excluded: number }[];
    const visible = rows.filter((r) => r.excluded === 0).length;
    if (p.confirmCount !== visible) {
      throw new ApiError(
        'conflict',
        `confirmCount: class "${c.name}" has ${visible} image${visible === 1 ? '' : 's'}${rows.length > visible ? ` (plus ${rows.length - visible} excluded)` : ''}, but confirmCount is ${p.confirmCount}; nothing was deleted`,
        'confirmCount',
      );
    }
    const groupId = newGroup(ctx, c.dataset_id, 'user', 'delete-class', { deletedClass: { classId: c.id, name: c.name, idx: c.idx } });
    writeEvents(ctx, groupId, rows, null, 'user');
    softDeleteClass(ctx, c.id);
    return rows.length;
  })();
  ctx.changed(c.dataset_id, 'labels');
  ctx.changed(c.dataset_id, 'classes');
  return { unlabeled };
}
