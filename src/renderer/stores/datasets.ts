/** Datasets, their details, item pages for the grid, and the import job in progress. */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { DatasetDetail, DatasetSummary, EventPayload, ImportJob, ImportPreview, Params, Result, SplitConfig } from '../../shared/api';
import { useApi } from '../api';
import { errorText } from '../api/errors';

export type ImportProgress = EventPayload<'import.progress'>;

/** What deleting a dataset takes with it, counted by the server just before asking. */
export interface DatasetDeletion {
  datasetId: number;
  name: string;
  images: number;
  classes: number;
  versions: number;
  runs: number;
  /** Runs of this dataset still queued or training. */
  activeRuns: number;
}

export const useDatasetsStore = defineStore('datasets', () => {
  const list = ref<DatasetSummary[]>([]);
  const loaded = ref(false);
  const loading = ref(false);
  const listError = ref<string | null>(null);
  const details = ref<Record<number, DatasetDetail>>({});
  const detailErrors = ref<Record<number, string>>({});

  /** The import this window started (or last saw), by job id. */
  const importJobId = ref<number | null>(null);
  const importStarting = ref(false);
  const importError = ref<string | null>(null);
  const importErrorField = ref<string | null>(null);
  const progressByJob = ref<Record<number, ImportProgress>>({});
  const finishedByJob = ref<Record<number, ImportJob>>({});
  const cancelling = ref(false);
  /** The import preview shown in the form (`datasets.previewImport`), for `previewPath` + `previewPattern`. */
  const preview = ref<ImportPreview | null>(null);
  const previewing = ref(false);
  const previewError = ref<string | null>(null);
  const previewErrorField = ref<string | null>(null);
  let previewSeq = 0;
  const systemInfo = ref<Result<'system.info'> | null>(null);

  const importProgress = computed(() => (importJobId.value === null ? null : (progressByJob.value[importJobId.value] ?? null)));
  const importFinished = computed(() => (importJobId.value === null ? null : (finishedByJob.value[importJobId.value] ?? null)));
  const importRunning = computed(() => importJobId.value !== null && !importFinished.value);

  let subscribed: (() => void)[] | null = null;

  /** Subscribe to import events (once). */
  function init(): void {
    if (subscribed) return;
    const api = useApi();
    subscribed = [
      api.on('import.progress', (p) => {
        progressByJob.value = { ...progressByJob.value, [p.jobId]: p };
      }),
      api.on('import.finished', (job) => {
        finishedByJob.value = { ...finishedByJob.value, [job.id]: job };
        if (job.id === importJobId.value) cancelling.value = false;
        void fetchList();
        if (job.datasetId !== null && details.value[job.datasetId]) void fetchDetail(job.datasetId);
      }),
    ];
  }

  function dispose(): void {
    subscribed?.forEach((off) => off());
    subscribed = null;
  }

  async function fetchList(): Promise<void> {
    loading.value = true;
    try {
      list.value = await useApi().call('datasets.list', {});
      listError.value = null;
      loaded.value = true;
    } catch (e) {
      listError.value = errorText(e);
    } finally {
      loading.value = false;
    }
  }

  async function fetchDetail(datasetId: number): Promise<DatasetDetail | null> {
    try {
      const d = await useApi().call('datasets.get', { datasetId });
      details.value = { ...details.value, [datasetId]: d };
      const { [datasetId]: _gone, ...rest } = detailErrors.value;
      detailErrors.value = rest;
      return d;
    } catch (e) {
      detailErrors.value = { ...detailErrors.value, [datasetId]: errorText(e) };
      return null;
    }
  }

  /**
   * Preview importing `path` (with an optional file-name `labelPattern`): what would be
   * stored, nothing stored. A newer call supersedes an older one still running. Errors
   * (path missing, bad pattern) land in `previewError` / `previewErrorField`.
   */
  async function previewImport(path: string, labelPattern?: string): Promise<ImportPreview | null> {
    const seq = ++previewSeq;
    previewing.value = true;
    previewError.value = null;
    previewErrorField.value = null;
    try {
      const params: Params<'datasets.previewImport'> = { path };
      if (labelPattern && labelPattern.trim()) params.labelPattern = labelPattern.trim();
      const p = await useApi().call('datasets.previewImport', params);
      if (seq === previewSeq) preview.value = p;
      return p;
    } catch (e) {
      if (seq === previewSeq) {
        preview.value = null;
        previewError.value = errorText(e);
        previewErrorField.value = (e as { field?: string }).field ?? null;
      }
      return null;
    } finally {
      if (seq === previewSeq) previewing.value = false;
    }
  }

  function clearPreview(): void {
    previewSeq++;
    preview.value = null;
    previewing.value = false;
    previewError.value = null;
    previewErrorField.value = null;
  }

  /** Start an import of `path` (optional dataset `name`, file-name `labelPattern`); false with `importError` set when refused. */
  async function startImport(path: string, name?: string, labelPattern?: string): Promise<boolean> {
    importStarting.value = true;
    importError.value = null;
    importErrorField.value = null;
    try {
      const params: Params<'datasets.import'> = { path };
      if (name && name.trim()) params.name = name.trim();
      if (labelPattern && labelPattern.trim()) params.labelPattern = labelPattern.trim();
      const { jobId } = await useApi().call('datasets.import', params);
      importJobId.value = jobId;
      clearPreview();
      // The job may have finished before we subscribed to its events (tiny folders).
      void useApi()
        .call('imports.get', { jobId })
        .then((job) => {
          if (job.status !== 'running' && !finishedByJob.value[job.id]) finishedByJob.value = { ...finishedByJob.value, [job.id]: job };
        })
        .catch(() => undefined);
      return true;
    } catch (e) {
      importError.value = errorText(e);
      importErrorField.value = (e as { field?: string }).field ?? null;
      return false;
    } finally {
      importStarting.value = false;
    }
  }

  async function cancelImport(): Promise<void> {
    if (importJobId.value === null) return;
    cancelling.value = true;
    try {
      await useApi().call('imports.cancel', { jobId: importJobId.value });
    } catch (e) {
      importError.value = errorText(e);
      cancelling.value = false;
    }
  }

  function clearImport(): void {
    importJobId.value = null;
    importError.value = null;
    importErrorField.value = null;
  }

  /** Apply a split configuration; throws ApiError when refused. */
  /** Re-split a dataset; test images stay in test unless `allowFromTest`. */
  async function setSplit(datasetId: number, split: SplitConfig, allowFromTest = false): Promise<DatasetDetail> {
    const d = await useApi().call('datasets.setSplit', { datasetId, split, allowFromTest });
    details.value = { ...details.value, [datasetId]: d };
    void fetchList();
    return d;
  }

  /**
   * Count what deleting `datasetId` removes: its images and classes (`datasets.get`), its
   * dataset versions (`versions.list`) and its runs (`runs.list`), each with their metrics,
   * checkpoints and predictions. Throws the API's error (e.g. dataset not found).
   */
  async function deletionImpact(datasetId: number): Promise<DatasetDeletion> {
    const api = useApi();
    const [d, runs, versions] = await Promise.all([
      api.call('datasets.get', { datasetId }),
      api.call('runs.list', { datasetId }),
      api.call('versions.list', { datasetId }).catch(() => []),
    ]);
    return {
      datasetId,
      name: d.name,
      images: d.itemCount,
      classes: d.classCount,
      versions: versions.length,
      runs: runs.length,
      activeRuns: runs.filter((r) => r.status === 'queued' || r.status === 'running').length,
    };
  }

  /** Delete a dataset (`datasets.delete`), then drop it from this store and reload the list. Throws the API's error. */
  async function deleteDataset(datasetId: number): Promise<void> {
    await useApi().call('datasets.delete', { datasetId });
    list.value = list.value.filter((d) => d.id !== datasetId);
    const { [datasetId]: _d, ...rest } = details.value;
    details.value = rest;
    await fetchList();
  }

  /** One page of items (for the thumbnail grid). */
  function fetchItems(params: Params<'datasets.items'>): Promise<Result<'datasets.items'>> {
    return useApi().call('datasets.items', params);
  }

  async function fetchSystemInfo(): Promise<void> {
    if (systemInfo.value) return;
    try {
      systemInfo.value = await useApi().call('system.info', {});
    } catch {
      /* optional: only used for the sample-dataset hint */
    }
  }

  function imageUrl(hash: string, kind: 'thumb' | 'full' = 'thumb'): string {
    return useApi().imageUrl(hash, kind);
  }

  return {
    list,
    loaded,
    loading,
    listError,
    details,
    detailErrors,
    importJobId,
    importStarting,
    importError,
    importErrorField,
    importProgress,
    importFinished,
    importRunning,
    cancelling,
    preview,
    previewing,
    previewError,
    previewErrorField,
    previewImport,
    clearPreview,
    systemInfo,
    fetchSystemInfo,
    init,
    dispose,
    fetchList,
    fetchDetail,
    startImport,
    cancelImport,
    clearImport,
    setSplit,
    deletionImpact,
    deleteDataset,
    fetchItems,
    imageUrl,
  };
});
