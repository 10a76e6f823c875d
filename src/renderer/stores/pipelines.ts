/** The Pipelines table (issue 11): one dataset version's runs of every kind, read through `runs.pipelines`. */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { PipelineRow } from '../../shared/pipelines';
import { useApi } from '../api';
import { errorText } from '../api/errors';

export const usePipelinesStore = defineStore('pipelines', () => {
  const rows = ref<PipelineRow[]>([]);
  const versions = ref<number[]>([]);
  const versionId = ref<number | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);

  /** Read the table of `datasetId` at `datasetVersionId` (default: the newest version any of its runs used). */
  async function fetch(datasetId: number, datasetVersionId?: number): Promise<void> {
    loading.value = true;
    try {
      const r = await useApi().call('runs.pipelines', { datasetId, ...(datasetVersionId ? { datasetVersionId } : {}) });
      rows.value = r.rows;
      versions.value = r.versions;
      versionId.value = r.datasetVersionId;
      error.value = null;
    } catch (e) {
      rows.value = [];
      error.value = errorText(e);
    } finally {
      loading.value = false;
    }
  }

  return { rows, versions, versionId, loading, error, fetch };
});
