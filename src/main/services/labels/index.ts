/**
 * LabelService: every change a user makes to a dataset's labels, classes, exclusions and
 * splits by hand, and the undo/redo history of label changes. This file is the public
 * class; each idea lives beside it:
 * - ./groups.ts, ./history.ts — undo groups and their undo/redo (assign, class merge and
 *   delete, exclusions, split moves); ./history-text.ts — the history in words;
 * - ./classes.ts — classes: add, rename/recolour, soft delete and restore, dense idx;
 * - ./items.ts — exclusions and split moves (undoable groups);
 * - ./upload.ts — uploads through the one ingest path (import/ingest.ts);
 * - ./context.ts — the statements and checks they share.
 * Frozen dataset versions are never touched: their manifests carry class names, not ids.
 * Every change fires `dataset.changed`.
 *
 * Errors: ApiError (src/shared/errors.ts) with the code and the offending params field
 * set, the message starting with that field (`classId: class 99 not found`).
 */
import type { ClassInfo, LabelEvent, LabelGroup, SkippedFile, Split } from '../../../shared/api';
import { ApiError } from '../../../shared/errors';
import type { BlobStore } from '../../blobs';
import type { Db } from '../../db/db';
import { Emitter, type ApiEvent, type Disposable } from '../../events';
import * as classes from './classes';
import { LabelContext, type LabelSource } from './context';
import * as labelHistory from './history';
import * as items from './items';
import { upload } from './upload';

export { MAX_UPLOAD_BYTES } from './upload';
/** The exclusion reason given when a suggestion is resolved by excluding the item. */
export const SUGGESTED_ERROR_REASON = 'suggested label error';

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
  private readonly ctx: LabelContext;
  /** `dataset.changed` events. */
  readonly onEvent = this.emitter.event;

  constructor(opts: LabelServiceOptions) {
    this.db = opts.db;
    this.blobs = opts.blobs;
    this.classInfoOf = opts.classInfo;
    this.ctx = new LabelContext(this.db, (datasetId, what) => this.emitter.fire({ event: 'dataset.changed', payload: { datasetId, what } }));
  }

  // ---- labels (./history.ts) -----------------------------------------------------

  /** Give `classId` (null = unlabeled) to items, as one undo group; see history.assign. */
  assign(p: { datasetId: number; itemIds: readonly number[]; classId: number | null; source?: LabelSource }): { changed: number; groupId: number } {
    return labelHistory.assign(this.ctx, p);
  }

  /** Revert the dataset's newest label group; see history.undo. */
  undo(datasetId: number): { groupId: number | null; changed: number } {
    return labelHistory.undo(this.ctx, datasetId);
  }

  /** Re-apply the last undone label group; see history.redo. */
  redo(datasetId: number): { groupId: number | null; changed: number } {
    return labelHistory.redo(this.ctx, datasetId);
  }

  /** The newest label events and actions in words, with canUndo / canRedo; see history.history. */
  history(p: { datasetId: number; itemId?: number; limit?: number }): { events: LabelEvent[]; groups: LabelGroup[]; canUndo: boolean; canRedo: boolean } {
    return labelHistory.history(this.ctx, p);
  }

  // ---- items (./items.ts, ./upload.ts) ---------------------------------------------

  /** Exclude items from training, or include them again (one undo group); see items.exclude. */
  exclude(p: { datasetId: number; itemIds: readonly number[]; excluded: boolean; reason?: string; source?: LabelSource }): { changed: number } {
    return items.exclude(this.ctx, p);
  }

  /** Move items to a split (out of test only with allowFromTest; one undo group); see items.move. */
  move(p: { datasetId: number; itemIds: readonly number[]; split: Split; allowFromTest?: boolean }): { changed: number } {
    return items.move(this.ctx, p);
  }

  /** Add uploaded files as unlabeled items; see upload.upload. */
  upload(p: { datasetId: number; files: readonly { name: string; dataBase64: string }[] }): Promise<{ imported: number; duplicates: number; skipped: SkippedFile[] }> {
    return upload(this.ctx, this.blobs, p);
  }

  // ---- classes (./classes.ts, ./history.ts) ----------------------------------------

  /** Add a class at the end of the class order; see classes.addClass. */
  addClass(p: { datasetId: number; name: string; color?: string }): ClassInfo {
    return this.classInfoOf(p.datasetId, classes.addClass(this.ctx, p));
  }

  /** Rename and/or recolour a class; see classes.updateClass. */
  updateClass(p: { classId: number; name?: string; color?: string }): ClassInfo {
    const c = classes.updateClass(this.ctx, p);
    return this.classInfoOf(c.dataset_id, c.id);
  }

  /** Relabel a class's images to another and delete it (one undo group); see history.mergeClasses. */
  mergeClasses(p: { sourceClassId: number; targetClassId: number }): { moved: number } {
    return labelHistory.mergeClasses(this.ctx, p);
  }

  /** Unlabel a class's images and delete it (one undo group); see history.deleteClass. */
  deleteClass(p: { classId: number; confirmCount: number }): { unlabeled: number } {
    return labelHistory.deleteClass(this.ctx, p);
  }

  // ---- suggestions -------------------------------------------------------------

  /**
   * Resolve a label-error suggestion of a run: 'accept' relabels the item to the
   * suggested class (source 'suggestion', its own undo group); 'exclude' excludes the
   * item with reason "suggested label error"; 'reject' only records the decision.
   * @throws ApiError `itemId: suggestion … not found`, and as assign / exclude.
   */
  resolveSuggestion(p: { runId: number; itemId: number; action: 'accept' | 'reject' | 'exclude' }): { ok: true } {
    const s = this.db
      .prepare('SELECT s.suggested_class_id AS suggested, i.dataset_id AS datasetId FROM suggestions s JOIN items i ON i.id = s.item_id WHERE s.run_id = ? AND s.item_id = ?')
      .get(p.runId, p.itemId) as { suggested: number; datasetId: number } | undefined;
    if (!s) throw new ApiError('not_found', `itemId: suggestion for item ${p.itemId} in run ${p.runId} not found`, 'itemId');
    if (p.action === 'accept') this.assign({ datasetId: s.datasetId, itemIds: [p.itemId], classId: s.suggested, source: 'suggestion' });
    else if (p.action === 'exclude') this.exclude({ datasetId: s.datasetId, itemIds: [p.itemId], excluded: true, reason: SUGGESTED_ERROR_REASON, source: 'suggestion' });
    const status = p.action === 'accept' ? 'accepted' : p.action === 'exclude' ? 'excluded' : 'rejected';
    this.db.prepare('UPDATE suggestions SET status = ? WHERE run_id = ? AND item_id = ?').run(status, p.runId, p.itemId);
    return { ok: true };
  }

  /** Drop listeners. Safe to call twice. */
  dispose(): void {
    this.emitter.dispose();
  }
}
