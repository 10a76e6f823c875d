/** Data quality: dataset versions and their diffs, near-duplicates, a run's confusion matrix and suggested label errors. */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ConfusionMatrix, DatasetVersion, LabelSuggestion, Result, Split, SuggestionGate, VersionDiff } from '../../shared/api';
import { useApi } from '../api';
import { useLabelingStore } from './labeling';

export type NearDuplicates = Result<'duplicates.near'>;
export type SuggestionAction = 'accept' | 'reject' | 'exclude';

export const useQualityStore = defineStore('quality', () => {
  const versions = ref<Record<number, DatasetVersion[]>>({});
  const confusion = ref<Record<string, ConfusionMatrix>>({});
  /** Open suggestions per run, with the gate that decided whether the run has any. */
  const suggestions = ref<Record<number, { suggestions: LabelSuggestion[]; total: number; gate?: SuggestionGate }>>({});

  async function fetchVersions(datasetId: number): Promise<DatasetVersion[]> {
    const v = await useApi().call('versions.list', { datasetId });
    versions.value = { ...versions.value, [datasetId]: v };
    return v;
  }

  /** Diff two versions, or a version and the current state (`toVersionId` null). */
  function diff(fromVersionId: number, toVersionId: number | null): Promise<VersionDiff> {
    return useApi().call('versions.diff', toVersionId === null ? { fromVersionId } : { fromVersionId, toVersionId });
  }

  function nearDuplicates(datasetId: number, maxDistance: number, limit = 500): Promise<NearDuplicates> {
    return useApi().call('duplicates.near', { datasetId, maxDistance, limit });
  }

  /** A run's confusion matrix on `split`; null: the split the server picks (test, else val, else train: the first with images), kept under `${runId}:auto`. */
  async function fetchConfusion(runId: number, split: Split | null): Promise<ConfusionMatrix> {
    const m = await useApi().call('runs.confusion', split === null ? { runId } : { runId, split });
    confusion.value = { ...confusion.value, [`${runId}:${split ?? 'auto'}`]: m };
    return m;
  }

  async function fetchSuggestions(runId: number, limit = 200): Promise<void> {
    const r = await useApi().call('suggestions.list', { runId, status: 'open', limit });
    suggestions.value = { ...suggestions.value, [runId]: r };
  }

  /** Resolve a suggestion; it leaves the open list. */
  async function resolveSuggestion(runId: number, datasetId: number, itemId: number, action: SuggestionAction): Promise<void> {
    await useApi().call('suggestions.resolve', { runId, itemId, action });
    const cur = suggestions.value[runId];
    if (cur) suggestions.value = { ...suggestions.value, [runId]: { ...cur, suggestions: cur.suggestions.filter((s) => s.item.id !== itemId), total: Math.max(0, cur.total - 1) } };
    if (action !== 'reject') useLabelingStore().invalidate(datasetId);
  }

  return { versions, confusion, suggestions, fetchVersions, diff, nearDuplicates, fetchConfusion, fetchSuggestions, resolveSuggestion };
});
