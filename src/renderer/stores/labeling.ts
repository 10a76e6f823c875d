/**
 * Labeling: labels with server-side undo/redo, exclusions, split moves, uploads, classes,
 * and the label history of each dataset. Every change bumps `changes[datasetId]` (also
 * when another client changed the dataset, via `dataset.changed`) so grids reload.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ClassInfo, ItemFilter, Result, SkippedFile, Split } from '../../shared/api';
import { useApi } from '../api';
import { batchFiles, fileToUpload, imageFiles, MAX_BYTES_PER_CALL, tooLargeToUpload } from '../lib/upload';
import { useDatasetsStore } from './datasets';

/** The newest label events (`limit` = how many were asked for: when that many came back, older ones exist). */
export type LabelHistory = Result<'labels.history'> & { limit: number };

export interface UploadState {
  datasetId: number;
  total: number;
  done: number;
  imported: number;
  duplicates: number;
  skipped: SkippedFile[];
  running: boolean;
  error: string | null;
}

export const useLabelingStore = defineStore('labeling', () => {
  const changes = ref<Record<number, number>>({});
  const history = ref<Record<number, LabelHistory>>({});
  const upload = ref<UploadState | null>(null);
  let subscribed: (() => void) | null = null;
  const pending = new Set<number>();
  let timer: ReturnType<typeof setTimeout> | null = null;

  /** Coalesce refreshes: our own response and the `dataset.changed` event arrive close together. */
  function invalidate(datasetId: number): void {
    pending.add(datasetId);
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      const ids = [...pending];
      pending.clear();
      const datasets = useDatasetsStore();
      for (const id of ids) {
        changes.value = { ...changes.value, [id]: (changes.value[id] ?? 0) + 1 };
        if (datasets.details[id]) void datasets.fetchDetail(id);
        if (history.value[id]) void fetchHistory(id);
      }
      void datasets.fetchList();
    }, 30);
  }

  function init(): void {
    if (subscribed) return;
    subscribed = useApi().on('dataset.changed', (e) => invalidate(e.datasetId));
  }

  function dispose(): void {
    subscribed?.();
    subscribed = null;
    if (timer) clearTimeout(timer);
    timer = null;
  }

  async function fetchHistory(datasetId: number, limit = 100): Promise<LabelHistory> {
    const h = { ...(await useApi().call('labels.history', { datasetId, limit })), limit };
    history.value = { ...history.value, [datasetId]: h };
    return h;
  }

  /** Items changed by one label group (from the newest 1,000 events; a larger group gives the ones among them). */
  async function groupItems(datasetId: number, groupId: number): Promise<number[]> {
    const h = await useApi().call('labels.history', { datasetId, limit: 1000 });
    return [...new Set(h.events.filter((e) => e.groupId === groupId).map((e) => e.itemId))];
  }

  /** Every item id matching a filter (Ctrl+A). */
  async function ids(datasetId: number, filter: ItemFilter): Promise<number[]> {
    return (await useApi().call('items.ids', { datasetId, ...filter })).ids;
  }

  async function assign(datasetId: number, itemIds: number[], classId: number | null): Promise<Result<'labels.assign'>> {
    const r = await useApi().call('labels.assign', { datasetId, itemIds, classId, source: 'user' });
    invalidate(datasetId);
    return r;
  }

  async function undo(datasetId: number): Promise<Result<'labels.undo'>> {
    const r = await useApi().call('labels.undo', { datasetId });
    invalidate(datasetId);
    return r;
  }

  async function redo(datasetId: number): Promise<Result<'labels.redo'>> {
    const r = await useApi().call('labels.redo', { datasetId });
    invalidate(datasetId);
    return r;
  }

  async function exclude(datasetId: number, itemIds: number[], excluded: boolean, reason?: string): Promise<number> {
    const params: { datasetId: number; itemIds: number[]; excluded: boolean; reason?: string } = { datasetId, itemIds, excluded };
    if (excluded && reason && reason.trim()) params.reason = reason.trim().slice(0, 500);
    const r = await useApi().call('items.exclude', params);
    invalidate(datasetId);
    return r.changed;
  }

  /** Move items to a split; throws (ApiError) when refused, e.g. items in test without allowFromTest. */
  async function move(datasetId: number, itemIds: number[], split: Split, allowFromTest = false): Promise<number> {
    const r = await useApi().call('items.move', { datasetId, itemIds, split, allowFromTest });
    invalidate(datasetId);
    return r.changed;
  }

  /** Upload dropped image files as unlabeled items, in batches; progress in `upload`. */
  async function uploadFiles(datasetId: number, list: ArrayLike<File>): Promise<UploadState> {
    const images = imageFiles(list);
    const files = images.filter((f) => !tooLargeToUpload(f));
    const tooLarge = images.filter((f) => tooLargeToUpload(f)).map((f) => ({ path: f.name, reason: `too large to upload (${(f.size / 2 ** 20).toFixed(1)} MiB; at most ${((MAX_BYTES_PER_CALL * 3) / 4 / 2 ** 20).toFixed(1)} MiB a file): import its folder instead` }));
    const state: UploadState = { datasetId, total: images.length, done: tooLarge.length, imported: 0, duplicates: 0, skipped: tooLarge, running: true, error: null };
    upload.value = state;
    const api = useApi();
    try {
      for (const batch of batchFiles(files)) {
        const payload = await Promise.all(batch.map(fileToUpload));
        const r = await api.call('items.upload', { datasetId, files: payload });
        upload.value = { ...upload.value!, done: upload.value!.done + batch.length, imported: upload.value!.imported + r.imported, duplicates: upload.value!.duplicates + r.duplicates, skipped: [...upload.value!.skipped, ...r.skipped] };
      }
    } catch (e) {
      upload.value = { ...upload.value!, error: e instanceof Error ? e.message : String(e) };
    } finally {
      upload.value = { ...upload.value!, running: false };
      invalidate(datasetId);
    }
    return upload.value!;
  }

  function clearUpload(): void {
    upload.value = null;
  }

  async function addClass(datasetId: number, name: string, color?: string): Promise<ClassInfo> {
    const params: { datasetId: number; name: string; color?: string } = { datasetId, name };
    if (color) params.color = color;
    const c = await useApi().call('classes.add', params);
    invalidate(datasetId);
    return c;
  }

  async function updateClass(datasetId: number, classId: number, patch: { name?: string; color?: string }): Promise<ClassInfo> {
    const c = await useApi().call('classes.update', { classId, ...patch });
    invalidate(datasetId);
    return c;
  }

  async function mergeClasses(datasetId: number, sourceClassId: number, targetClassId: number): Promise<number> {
    const r = await useApi().call('classes.merge', { sourceClassId, targetClassId });
    invalidate(datasetId);
    return r.moved;
  }

  /** Delete a class; `confirmCount` is the image count the user confirmed. */
  async function deleteClass(datasetId: number, classId: number, confirmCount: number): Promise<number> {
    const r = await useApi().call('classes.delete', { classId, confirmCount });
    invalidate(datasetId);
    return r.unlabeled;
  }

  return { changes, history, upload, init, dispose, invalidate, fetchHistory, groupItems, ids, assign, undo, redo, exclude, move, uploadFiles, clearUpload, addClass, updateClass, mergeClasses, deleteClass };
});
