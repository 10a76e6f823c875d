/**
 * LabelService: every change a user makes to a dataset's labels, classes, exclusions and
 * splits by hand (issue 4), and the undo/redo history of label changes.
 *
 * History model (tables label_groups / label_events, migration 002): each user action that
 * changes labels (assign, class merge, class delete, an accepted suggestion) is one
 * *group* of label events (item, old class, new class, time, source). Undo reverts the
 * dataset's newest group that is not undone; redo re-applies the oldest undone group of
 * the redo stack; a new group discards the redo stack, as editors do. All of it is stored,
 * so it survives restarts. Items whose label does not change get no event.
 *
 * Classes are soft-deleted (row kept with idx = −id and a placeholder name) so undoing a
 * merge or a delete restores the very same class; live classes always have idx 0 … n−1
 * (the pack label), renumbered after a delete or merge. Frozen dataset versions are never
 * touched: their manifests carry class names, not ids, so deleting a class that a version
 * (and its runs) used is allowed and loses nothing frozen.
 *
 * Exclusions, split moves, uploads and class add/rename/recolour are not label groups and
 * are not undoable. Every change fires `dataset.changed`.
 *
 * Errors: plain Errors whose message starts with the offending params field
 * (`classId: class 99 not found`), or ApiError 'conflict' naming the field (the API maps both).
 */
import type { ClassInfo, LabelEvent, SkippedFile, Split, SplitConfig } from '../../shared/api';
import type { BlobStore } from '../blobs';
import { now, type Db } from '../db/db';
import { Emitter, type ApiEvent, type Disposable } from '../events';
import { normalizeBuffer, SkipError } from '../import/index';
import { dhashImage } from '../phash';
import { ApiError } from './api-router';
import { applySplits } from './datasets-split';

/** Largest decoded upload per `items.upload` call, bytes (32 MiB). */
export const MAX_UPLOAD_BYTES = 32 * 2 ** 20;
/** The exclusion reason given when a suggestion is resolved by excluding the item. */
export const SUGGESTED_ERROR_REASON = 'suggested label error';

type LabelSource = 'user' | 'import' | 'suggestion';
type ChangeKind = 'labels' | 'classes' | 'items' | 'splits';

interface ClassRow {
  id: number;
  dataset_id: number;
  idx: number;
  name: string;
  color: string | null;
  deleted_at: number | null;
}

interface GroupRow {
  id: number;
  dataset_id: number;
  kind: 'assign' | 'merge' | 'delete-class';
  meta: string | null;
}

/** The class a merge / delete group soft-deleted, to restore it on undo. */
interface DeletedClassMeta {
  classId: number;
  name: string;
  idx: number;
}

export interface LabelServiceOptions {
  db: Db;
  blobs: BlobStore;
  /** For ClassInfo results (with counts). */
  classInfo(datasetId: number, classId: number): ClassInfo;
}

export class LabelService implements Disposable {
  private readonly db: Db;
  private readonly blobs: BlobStore;
  private readonly classInfoOf: (datasetId: number, classId: number) => ClassInfo;
  private readonly emitter = new Emitter<ApiEvent>();
  private readonly stmt: ReturnType<typeof statements>;
  /** `dataset.changed` events. */
  readonly onEvent = this.emitter.event;

  constructor(opts: LabelServiceOptions) {
    this.db = opts.db;
    this.blobs = opts.blobs;
    this.classInfoOf = opts.classInfo;
    this.stmt = statements(this.db);
  }

  // ---- labels ------------------------------------------------------------------

  /**
   * Give `classId` (null = unlabeled) to the items `itemIds` of `datasetId`, in one
   * transaction and one undo group (source 'user' or 'suggestion'). Items that already
   * have that label get no event. Returns how many changed and the group id (0 when
   * nothing changed: no group is made and the redo stack is kept).
   * @throws Error `datasetId: N not found`, `classId: …` (not found, of another dataset,
   *   deleted), `itemIds: …` (items not in the dataset).
   */
  assign(p: { datasetId: number; itemIds: readonly number[]; classId: number | null; source?: LabelSource }): { changed: number; groupId: number } {
    this.assertDataset(p.datasetId);
    if (p.classId !== null) this.liveClass(p.classId, 'classId', p.datasetId);
    const result = this.db.transaction(() => {
      const rows = this.itemsOf(p.datasetId, p.itemIds);
      const changed = rows.filter((r) => r.class_id !== p.classId);
      if (changed.length === 0) return { changed: 0, groupId: 0 };
      const groupId = this.newGroup(p.datasetId, p.source ?? 'user', 'assign', null);
      this.writeEvents(groupId, changed, p.classId, p.source ?? 'user');
      return { changed: changed.length, groupId };
    })();
    if (result.changed > 0) this.changed(p.datasetId, 'labels');
    return result;
  }

  /**
   * Revert the dataset's newest label group that is not undone (restoring a class that the
   * group merged or deleted). Returns its id and the number of items changed; groupId null
   * when there is nothing to undo.
   * @throws Error `datasetId: N not found`; ApiError conflict when a class to restore has
   *   a name that a live class now has.
   */
  undo(datasetId: number): { groupId: number | null; changed: number } {
    this.assertDataset(datasetId);
    const result = this.db.transaction(() => {
      const g = this.stmt.lastDone.get(datasetId) as GroupRow | undefined;
      if (!g) return { groupId: null, changed: 0 };
      const meta = g.meta ? (JSON.parse(g.meta) as { deletedClass?: DeletedClassMeta }) : {};
      if (meta.deletedClass) this.restoreClass(meta.deletedClass);
      const events = this.stmt.groupEvents.all(g.id) as { item_id: number; old_class_id: number | null; new_class_id: number | null }[];
      for (let k = events.length - 1; k >= 0; k--) this.stmt.setClass.run(events[k].old_class_id, events[k].item_id);
      this.stmt.markGroup.run(1, g.id);
      this.stmt.markEvents.run(1, g.id);
      return { groupId: g.id, changed: events.length };
    })();
    if (result.groupId !== null) this.changed(datasetId, 'labels');
    return result;
  }

  /**
   * Re-apply the undone group on top of the redo stack (the one undone last). groupId null
   * when there is nothing to redo. @throws Error `datasetId: N not found`.
   */
  redo(datasetId: number): { groupId: number | null; changed: number } {
    this.assertDataset(datasetId);
    const result = this.db.transaction(() => {
      const g = this.stmt.firstRedo.get(datasetId) as GroupRow | undefined;
      if (!g) return { groupId: null, changed: 0 };
      const events = this.stmt.groupEvents.all(g.id) as { item_id: number; old_class_id: number | null; new_class_id: number | null }[];
      for (const e of events) this.stmt.setClass.run(e.new_class_id, e.item_id);
      const meta = g.meta ? (JSON.parse(g.meta) as { deletedClass?: DeletedClassMeta }) : {};
      if (meta.deletedClass) this.softDeleteClass(meta.deletedClass.classId);
      this.stmt.markGroup.run(0, g.id);
      this.stmt.markEvents.run(0, g.id);
      return { groupId: g.id, changed: events.length };
    })();
    if (result.groupId !== null) this.changed(datasetId, 'labels');
    return result;
  }

  /**
   * The newest `limit` (default 100) label events of a dataset (or of one item), newest
   * first, with whether undo / redo are possible. Import events have groupId 0.
   * @throws Error `datasetId: N not found`.
   */
  history(p: { datasetId: number; itemId?: number; limit?: number }): { events: LabelEvent[]; canUndo: boolean; canRedo: boolean } {
    this.assertDataset(p.datasetId);
    const limit = p.limit ?? 100;
    const rows = (
      p.itemId !== undefined
        ? this.db
            .prepare(
              'SELECT e.* FROM label_events e JOIN items i ON i.id = e.item_id WHERE e.item_id = ? AND i.dataset_id = ? ORDER BY e.id DESC LIMIT ?',
            )
            .all(p.itemId, p.datasetId, limit)
        : this.db.prepare('SELECT e.* FROM label_events e JOIN items i ON i.id = e.item_id WHERE i.dataset_id = ? ORDER BY e.id DESC LIMIT ?').all(p.datasetId, limit)
    ) as { id: number; item_id: number; old_class_id: number | null; new_class_id: number | null; time: number; source: LabelSource; group_id: number | null; undone: number }[];
    return {
      events: rows.map((r) => ({ id: r.id, groupId: r.group_id ?? 0, itemId: r.item_id, oldClassId: r.old_class_id, newClassId: r.new_class_id, time: r.time, source: r.source, undone: r.undone === 1 })),
      canUndo: this.stmt.lastDone.get(p.datasetId) !== undefined,
      canRedo: this.stmt.firstRedo.get(p.datasetId) !== undefined,
    };
  }

  // ---- items -------------------------------------------------------------------

  /**
   * Exclude items from training (kept, shown, never packed) with an optional reason, or
   * include them again (reason cleared). Not undoable. Returns how many changed.
   * @throws Error `datasetId: …`, `itemIds: …`.
   */
  exclude(p: { datasetId: number; itemIds: readonly number[]; excluded: boolean; reason?: string }): { changed: number } {
    this.assertDataset(p.datasetId);
    const reason = p.excluded ? (p.reason?.trim() || null) : null;
    const changed = this.db.transaction(() => {
      const rows = this.itemsOf(p.datasetId, p.itemIds);
      return this.db
        .prepare('UPDATE items SET excluded = ?, exclude_reason = ? WHERE id IN (SELECT value FROM json_each(?)) AND (excluded IS NOT ? OR exclude_reason IS NOT ?)')
        .run(p.excluded ? 1 : 0, reason, JSON.stringify(rows.map((r) => r.id)), p.excluded ? 1 : 0, reason).changes;
    })();
    if (changed > 0) this.changed(p.datasetId, 'items');
    return { changed };
  }

  /**
   * Move items to `split` by hand. Moving an item out of test is refused unless
   * `allowFromTest` (a test image never moves silently: once a model has been evaluated
   * on it, training or selecting on it leaks the test set). Returns how many moved.
   * @throws Error `datasetId: …`, `itemIds: …`; ApiError conflict (field allowFromTest).
   */
  move(p: { datasetId: number; itemIds: readonly number[]; split: Split; allowFromTest?: boolean }): { changed: number } {
    this.assertDataset(p.datasetId);
    const changed = this.db.transaction(() => {
      const rows = this.itemsOf(p.datasetId, p.itemIds);
      const fromTest = rows.filter((r) => r.split === 'test').length;
      if (p.split !== 'test' && fromTest > 0 && !p.allowFromTest) {
        throw new ApiError(
          'conflict',
          `allowFromTest: ${fromTest} of the ${rows.length} items are in the test split; moving test images into ${p.split} would leak the test set into ${p.split === 'train' ? 'training' : 'model selection'}. Nothing was moved; pass allowFromTest: true to move them anyway`,
          'allowFromTest',
        );
      }
      return this.db.prepare('UPDATE items SET split = ? WHERE id IN (SELECT value FROM json_each(?)) AND split IS NOT ?').run(p.split, JSON.stringify(rows.map((r) => r.id)), p.split).changes;
    })();
    if (changed > 0) this.changed(p.datasetId, 'splits');
    return { changed };
  }

  /**
   * Add uploaded files (base64) as unlabeled items: each is decoded and normalized like
   * an imported file, stored once (exact duplicates of an item of the dataset are counted,
   * not added) and given a split by the dataset's rule. Files that are not usable images
   * are skipped with the reason.
   * @throws Error `datasetId: …`; `files: …` when the decoded total exceeds 32 MiB.
   */
  async upload(p: { datasetId: number; files: readonly { name: string; dataBase64: string }[] }): Promise<{ imported: number; duplicates: number; skipped: SkippedFile[] }> {
    this.assertDataset(p.datasetId);
    const approx = p.files.reduce((s, f) => s + Math.floor((f.dataBase64.length * 3) / 4), 0);
    if (approx > MAX_UPLOAD_BYTES + 4 * p.files.length) throw new Error(`files: ${(approx / 2 ** 20).toFixed(1)} MiB in one upload; the limit is ${MAX_UPLOAD_BYTES / 2 ** 20} MiB per call`);
    const skipped: SkippedFile[] = [];
    const stored: { name: string; hash: string; size: number; width: number; height: number; channels: number; phash: string | null }[] = [];
    for (const f of p.files) {
      const bytes = Buffer.from(f.dataBase64, 'base64');
      try {
        const img = await normalizeBuffer(bytes, /\.[^.]+$/.exec(f.name)?.[0] ?? '');
        const { hash } = await this.blobs.put(img.png);
        if (img.thumb) await this.blobs.putThumb(hash, img.thumb);
        stored.push({ name: f.name, hash, size: img.png.length, width: img.width, height: img.height, channels: img.channels, phash: await dhashImage(img.png).catch(() => null) });
      } catch (err) {
        if (!(err instanceof SkipError)) throw err;
        skipped.push({ path: f.name, reason: err.message });
      }
    }
    this.assertDataset(p.datasetId);
    const insertBlob = this.db.prepare(
      "INSERT INTO blobs (hash, size, width, height, channels, format, phash) VALUES (?, ?, ?, ?, ?, 'png', ?) ON CONFLICT (hash) DO UPDATE SET phash = COALESCE(blobs.phash, excluded.phash)",
    );
    const insertItem = this.db.prepare('INSERT OR IGNORE INTO items (dataset_id, blob_hash, original_name, class_id, split, given_split, excluded, created_at) VALUES (?, ?, ?, NULL, NULL, NULL, 0, ?)');
    const { imported, duplicates } = this.db.transaction(() => {
      let imported = 0, duplicates = 0;
      const t = now();
      for (const s of stored) {
        insertBlob.run(s.hash, s.size, s.width, s.height, s.channels, s.phash);
        if (insertItem.run(p.datasetId, s.hash, s.name, t).changes === 1) imported++;
        else duplicates++;
      }
      const cfg = this.db.prepare('SELECT split_config FROM datasets WHERE id = ?').get(p.datasetId) as { split_config: string };
      applySplits(this.db, p.datasetId, JSON.parse(cfg.split_config) as SplitConfig, 'new-items');
      return { imported, duplicates };
    })();
    if (imported > 0) this.changed(p.datasetId, 'items');
    return { imported, duplicates, skipped };
  }

  // ---- classes -----------------------------------------------------------------

  /**
   * Add a class at the end of the class order (idx = number of classes).
   * @throws Error `datasetId: …`; ApiError conflict (field name) when the name is taken.
   */
  addClass(p: { datasetId: number; name: string; color?: string }): ClassInfo {
    this.assertDataset(p.datasetId);
    const name = p.name.trim();
    const id = this.db.transaction(() => {
      this.assertNameFree(p.datasetId, name, null);
      const n = (this.db.prepare('SELECT COUNT(*) AS n FROM classes WHERE dataset_id = ? AND deleted_at IS NULL').get(p.datasetId) as { n: number }).n;
      return Number(this.db.prepare('INSERT INTO classes (dataset_id, idx, name, color) VALUES (?, ?, ?, ?)').run(p.datasetId, n, name, p.color ?? null).lastInsertRowid);
    })();
    this.changed(p.datasetId, 'classes');
    return this.classInfoOf(p.datasetId, id);
  }

  /**
   * Rename and/or recolour a class (labels are ids, so no label changes; frozen versions
   * keep the old name). @throws Error `classId: …`; ApiError conflict (field name).
   */
  updateClass(p: { classId: number; name?: string; color?: string }): ClassInfo {
    const c = this.liveClass(p.classId, 'classId');
    this.db.transaction(() => {
      if (p.name !== undefined && p.name.trim() !== c.name) {
        this.assertNameFree(c.dataset_id, p.name.trim(), c.id);
        this.db.prepare('UPDATE classes SET name = ? WHERE id = ?').run(p.name.trim(), c.id);
      }
      if (p.color !== undefined) this.db.prepare('UPDATE classes SET color = ? WHERE id = ?').run(p.color, c.id);
    })();
    this.changed(c.dataset_id, 'classes');
    return this.classInfoOf(c.dataset_id, c.id);
  }

  /**
   * Relabel every image of `sourceClassId` to `targetClassId` (label events, one undo
   * group) and delete the source class (soft; the undo restores it). Returns how many
   * images moved.
   * @throws Error `sourceClassId: …` / `targetClassId: …` (not found, deleted, other
   *   dataset, the same class).
   */
  mergeClasses(p: { sourceClassId: number; targetClassId: number }): { moved: number } {
    const src = this.liveClass(p.sourceClassId, 'sourceClassId');
    if (p.targetClassId === p.sourceClassId) throw new Error(`targetClassId: cannot merge class "${src.name}" (${src.id}) into itself; choose another target class`);
    const dst = this.liveClass(p.targetClassId, 'targetClassId', src.dataset_id);
    const moved = this.db.transaction(() => {
      const rows = this.db.prepare('SELECT id, class_id, split FROM items WHERE class_id = ?').all(src.id) as { id: number; class_id: number | null; split: Split | null }[];
      const groupId = this.newGroup(src.dataset_id, 'user', 'merge', { deletedClass: { classId: src.id, name: src.name, idx: src.idx } });
      this.writeEvents(groupId, rows, dst.id, 'user');
      this.softDeleteClass(src.id);
      return rows.length;
    })();
    this.changed(src.dataset_id, 'labels');
    this.changed(src.dataset_id, 'classes');
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
   * @throws Error `classId: …` (not found, deleted); ApiError conflict (field
   *   confirmCount) when the count differs — nothing is deleted then.
   */
  deleteClass(p: { classId: number; confirmCount: number }): { unlabeled: number } {
    const c = this.liveClass(p.classId, 'classId');
    const unlabeled = this.db.transaction(() => {
      const rows = this.db.prepare('SELECT id, class_id, split, excluded FROM items WHERE class_id = ?').all(c.id) as { id: number; class_id: number | null; split: Split | null; excluded: number }[];
      const visible = rows.filter((r) => r.excluded === 0).length;
      if (p.confirmCount !== visible) {
        throw new ApiError(
          'conflict',
          `confirmCount: class "${c.name}" has ${visible} image${visible === 1 ? '' : 's'}${rows.length > visible ? ` (plus ${rows.length - visible} excluded)` : ''}, but confirmCount is ${p.confirmCount}; nothing was deleted`,
          'confirmCount',
        );
      }
      const groupId = this.newGroup(c.dataset_id, 'user', 'delete-class', { deletedClass: { classId: c.id, name: c.name, idx: c.idx } });
      this.writeEvents(groupId, rows, null, 'user');
      this.softDeleteClass(c.id);
      return rows.length;
    })();
    this.changed(c.dataset_id, 'labels');
    this.changed(c.dataset_id, 'classes');
    return { unlabeled };
  }

  // ---- suggestions -------------------------------------------------------------

  /**
   * Resolve a label-error suggestion of a run: 'accept' relabels the item to the
   * suggested class (source 'suggestion', its own undo group); 'exclude' excludes the
   * item with reason "suggested label error"; 'reject' only records the decision.
   * @throws Error `itemId: suggestion … not found`, and as assign / exclude.
   */
  resolveSuggestion(p: { runId: number; itemId: number; action: 'accept' | 'reject' | 'exclude' }): { ok: true } {
    const s = this.db
      .prepare('SELECT s.suggested_class_id AS suggested, i.dataset_id AS datasetId FROM suggestions s JOIN items i ON i.id = s.item_id WHERE s.run_id = ? AND s.item_id = ?')
      .get(p.runId, p.itemId) as { suggested: number; datasetId: number } | undefined;
    if (!s) throw new Error(`itemId: suggestion for item ${p.itemId} in run ${p.runId} not found`);
    if (p.action === 'accept') this.assign({ datasetId: s.datasetId, itemIds: [p.itemId], classId: s.suggested, source: 'suggestion' });
    else if (p.action === 'exclude') this.exclude({ datasetId: s.datasetId, itemIds: [p.itemId], excluded: true, reason: SUGGESTED_ERROR_REASON });
    const status = p.action === 'accept' ? 'accepted' : p.action === 'exclude' ? 'excluded' : 'rejected';
    this.db.prepare('UPDATE suggestions SET status = ? WHERE run_id = ? AND item_id = ?').run(status, p.runId, p.itemId);
    return { ok: true };
  }

  /** Drop listeners. Safe to call twice. */
  dispose(): void {
    this.emitter.dispose();
  }

  // ---------------------------------------------------------------------------------

  private changed(datasetId: number, what: ChangeKind): void {
    this.emitter.fire({ event: 'dataset.changed', payload: { datasetId, what } });
  }

  private assertDataset(datasetId: number): void {
    if (!this.stmt.datasetExists.get(datasetId)) throw new Error(`datasetId: ${datasetId} not found`);
  }

  /** A live class; with `datasetId`, also of that dataset. @throws Error `<field>: …`. */
  private liveClass(classId: number, field: string, datasetId?: number): ClassRow {
    const c = this.stmt.classRow.get(classId) as ClassRow | undefined;
    if (!c) throw new Error(`${field}: class ${classId} not found`);
    if (datasetId !== undefined && c.dataset_id !== datasetId) throw new Error(`${field}: class ${classId} belongs to dataset ${c.dataset_id}, not to dataset ${datasetId}`);
    if (c.deleted_at !== null) throw new Error(`${field}: class ${classId} was deleted`);
    return c;
  }

  private assertNameFree(datasetId: number, name: string, exceptId: number | null): void {
    const other = this.db.prepare('SELECT id FROM classes WHERE dataset_id = ? AND name = ? AND deleted_at IS NULL').get(datasetId, name) as { id: number } | undefined;
    if (other && other.id !== exceptId) throw new ApiError('conflict', `name: dataset ${datasetId} already has a class named "${name}"`, 'name');
  }

  /** The rows of `itemIds` (deduplicated). @throws Error `itemIds: …` when some are not items of the dataset. */
  private itemsOf(datasetId: number, itemIds: readonly number[]): { id: number; class_id: number | null; split: Split | null }[] {
    const unique = [...new Set(itemIds)];
    const rows = this.stmt.itemsOf.all(datasetId, JSON.stringify(unique)) as { id: number; class_id: number | null; split: Split | null }[];
    if (rows.length !== unique.length) {
      const found = new Set(rows.map((r) => r.id));
      const missing = unique.filter((id) => !found.has(id));
      throw new Error(`itemIds: ${missing.length} of the ${unique.length} items are not in dataset ${datasetId} (e.g. ${missing.slice(0, 3).join(', ')})`);
    }
    return rows;
  }

  /** Start a label group; discards the dataset's redo stack. */
  private newGroup(datasetId: number, source: LabelSource, kind: GroupRow['kind'], meta: object | null): number {
    this.stmt.discardRedo.run(datasetId);
    return Number(this.stmt.insertGroup.run(datasetId, now(), source, kind, meta ? JSON.stringify(meta) : null).lastInsertRowid);
  }

  /** Record one event per row (old → `classId`) and set the items' class. */
  private writeEvents(groupId: number, rows: readonly { id: number; class_id: number | null }[], classId: number | null, source: LabelSource): void {
    const t = now();
    for (const r of rows) this.stmt.insertEvent.run(r.id, r.class_id, classId, t, source, groupId);
    for (let k = 0; k < rows.length; k += 10_000) {
      this.stmt.setClassMany.run(classId, JSON.stringify(rows.slice(k, k + 10_000).map((r) => r.id)));
    }
  }

  /** Soft-delete a class (idx −id, placeholder name) and renumber the rest 0 … n−1. */
  private softDeleteClass(classId: number): void {
    const c = this.stmt.classRow.get(classId) as ClassRow;
    this.db.prepare('UPDATE classes SET deleted_at = ?, idx = ?, name = ? WHERE id = ?').run(now(), -c.id, `\u0000deleted-${c.id}`, c.id);
    this.renumber(c.dataset_id, null);
  }

  /** Undo of a soft delete: the class comes back under its name at its former position. */
  private restoreClass(m: DeletedClassMeta): void {
    const c = this.stmt.classRow.get(m.classId) as ClassRow | undefined;
    if (!c || c.deleted_at === null) return;
    const other = this.db.prepare('SELECT id FROM classes WHERE dataset_id = ? AND name = ? AND deleted_at IS NULL').get(c.dataset_id, m.name) as { id: number } | undefined;
    if (other) throw new ApiError('conflict', `datasetId: cannot undo: it restores class "${m.name}", but class ${other.id} has that name now; rename that class first`, 'datasetId');
    this.db.prepare('UPDATE classes SET deleted_at = NULL, name = ? WHERE id = ?').run(m.name, c.id);
    this.renumber(c.dataset_id, { id: c.id, at: m.idx });
  }

  /** Make the live classes' idx dense 0 … n−1 in their current order (optionally inserting one at position `at`). */
  private renumber(datasetId: number, insert: { id: number; at: number } | null): void {
    const ids = (this.db.prepare('SELECT id FROM classes WHERE dataset_id = ? AND deleted_at IS NULL ORDER BY idx').pluck().all(datasetId) as number[]).filter((id) => id !== insert?.id);
    if (insert) ids.splice(Math.min(insert.at, ids.length), 0, insert.id);
    const set = this.db.prepare('UPDATE classes SET idx = ? WHERE id = ?');
    ids.forEach((id, k) => set.run(-1e12 - k, id)); // out of the way first: UNIQUE (dataset_id, idx)
    ids.forEach((id, k) => set.run(k, id));
  }
}

function statements(db: Db) {
  return {
    datasetExists: db.prepare('SELECT 1 FROM datasets WHERE id = ?'),
    classRow: db.prepare('SELECT id, dataset_id, idx, name, color, deleted_at FROM classes WHERE id = ?'),
    itemsOf: db.prepare('SELECT id, class_id, split FROM items WHERE dataset_id = ? AND id IN (SELECT value FROM json_each(?))'),
    insertGroup: db.prepare('INSERT INTO label_groups (dataset_id, time, source, kind, meta) VALUES (?, ?, ?, ?, ?)'),
    discardRedo: db.prepare('UPDATE label_groups SET discarded = 1 WHERE dataset_id = ? AND undone = 1 AND discarded = 0'),
    insertEvent: db.prepare('INSERT INTO label_events (item_id, old_class_id, new_class_id, time, source, group_id, undone) VALUES (?, ?, ?, ?, ?, ?, 0)'),
    setClass: db.prepare('UPDATE items SET class_id = ? WHERE id = ?'),
    setClassMany: db.prepare('UPDATE items SET class_id = ? WHERE id IN (SELECT value FROM json_each(?))'),
    lastDone: db.prepare('SELECT id, dataset_id, kind, meta FROM label_groups WHERE dataset_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1'),
    firstRedo: db.prepare('SELECT id, dataset_id, kind, meta FROM label_groups WHERE dataset_id = ? AND undone = 1 AND discarded = 0 ORDER BY id ASC LIMIT 1'),
    groupEvents: db.prepare('SELECT item_id, old_class_id, new_class_id FROM label_events WHERE group_id = ? ORDER BY id'),
    markGroup: db.prepare('UPDATE label_groups SET undone = ? WHERE id = ?'),
    markEvents: db.prepare('UPDATE label_events SET undone = ? WHERE group_id = ?'),
  };
}
