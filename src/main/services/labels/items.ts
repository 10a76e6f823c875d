/**
 * Item operations that are not labels: exclusion from training and moving items between
 * splits by hand. Each change is one undoable group in label_groups (kind 'exclude' or
 * 'move'), like a label change: its meta JSON keeps every changed item's previous state,
 * so undo restores exactly that and redo re-applies the new one (./history.ts).
 *   exclude: { excluded: 0 | 1, reason: string | null, items: [itemId, oldExcluded, oldReason][] }
 *   move:    { split, items: [itemId, oldSplit][] }
 */
import type { Split } from '../../../shared/api';
import { ApiError } from '../../../shared/errors';
import type { LabelContext, LabelSource } from './context';
import { newGroup } from './groups';

export interface ExcludeMeta {
  excluded: 0 | 1;
  reason: string | null;
  items: [number, number, string | null][];
}
export interface MoveMeta {
  split: Split;
  items: [number, Split | null][];
}

const CHUNK = 10_000;
const chunks = <T>(xs: readonly T[]): T[][] => Array.from({ length: Math.ceil(xs.length / CHUNK) }, (_, k) => xs.slice(k * CHUNK, (k + 1) * CHUNK));

/**
 * Exclude items from training (kept, shown, never packed) with an optional reason, or
 * include them again (reason cleared), as one undo group (`source` 'user', or
 * 'suggestion' when a suggestion is resolved so). Returns how many changed.
 * @throws ApiError `datasetId: …`, `itemIds: …`.
 */
export function exclude(ctx: LabelContext, p: { datasetId: number; itemIds: readonly number[]; excluded: boolean; reason?: string; source?: LabelSource }): { changed: number } {
  ctx.assertDataset(p.datasetId);
  const reason = p.excluded ? (p.reason?.trim() || null) : null;
  const flag = p.excluded ? 1 : 0;
  const changed = ctx.db.transaction(() => {
    const ids = ctx.itemsOf(p.datasetId, p.itemIds).map((r) => r.id);
    const rows = ctx.db.prepare('SELECT id, excluded, exclude_reason AS reason FROM items WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id').all(JSON.stringify(ids)) as { id: number; excluded: number; reason: string | null }[];
    const change = rows.filter((r) => r.excluded !== flag || r.reason !== reason);
    if (change.length === 0) return 0;
    const meta: ExcludeMeta = { excluded: flag, reason, items: change.map((r) => [r.id, r.excluded, r.reason]) };
    newGroup(ctx, p.datasetId, p.source ?? 'user', 'exclude', meta);
    for (const c of chunks(change)) ctx.stmt.setExcludedMany.run(flag, reason, JSON.stringify(c.map((r) => r.id)));
    return change.length;
  })();
  if (changed > 0) ctx.changed(p.datasetId, 'items');
  return { changed };
}

/**
 * Move items to `split` by hand, as one undo group. Moving an item out of test is refused
 * unless `allowFromTest` (a test image never moves silently: once a model has been
 * evaluated on it, training or selecting on it leaks the test set). Returns how many moved.
 * @throws ApiError `datasetId: …`, `itemIds: …`; conflict (field allowFromTest).
 */
export function move(ctx: LabelContext, p: { datasetId: number; itemIds: readonly number[]; split: Split; allowFromTest?: boolean }): { changed: number } {
  ctx.assertDataset(p.datasetId);
  const changed = ctx.db.transaction(() => {
    const rows = ctx.itemsOf(p.datasetId, p.itemIds);
    const fromTest = rows.filter((r) => r.split === 'test').length;
    if (p.split !== 'test' && fromTest > 0 && !p.allowFromTest) {
      throw new ApiError(
        'conflict',
        `allowFromTest: ${fromTest} of the ${rows.length} items are in the test split; moving test images into ${p.split} would leak the test set into ${p.split === 'train' ? 'training' : 'model selection'}. Nothing was moved; pass allowFromTest: true to move them anyway`,
        'allowFromTest',
      );
    }
    const change = rows.filter((r) => r.split !== p.split).sort((a, b) => a.id - b.id);
    if (change.length === 0) return 0;
    const meta: MoveMeta = { split: p.split, items: change.map((r) => [r.id, r.split]) };
    newGroup(ctx, p.datasetId, 'user', 'move', meta);
    for (const c of chunks(change)) ctx.stmt.setSplitMany.run(p.split, JSON.stringify(c.map((r) => r.id)));
    return change.length;
  })();
  if (changed > 0) ctx.changed(p.datasetId, 'splits');
  return { changed };
}

/** Undo (`undo` true) or redo an exclude group's change. Returns how many items it covers. */
export function revertExclude(ctx: LabelContext, meta: ExcludeMeta, undo: boolean): number {
  if (undo) for (const [id, ex, reason] of meta.items) ctx.stmt.setExcluded.run(ex, reason, id);
  else for (const c of chunks(meta.items)) ctx.stmt.setExcludedMany.run(meta.excluded, meta.reason, JSON.stringify(c.map((r) => r[0])));
  return meta.items.length;
}

/** Undo (`undo` true) or redo a move group's change. Returns how many items it covers. */
export function revertMove(ctx: LabelContext, meta: MoveMeta, undo: boolean): number {
  if (undo) for (const [id, split] of meta.items) ctx.stmt.setSplit.run(split, id);
  else for (const c of chunks(meta.items)) ctx.stmt.setSplitMany.run(meta.split, JSON.stringify(c.map((r) => r[0])));
  return meta.items.length;
}
