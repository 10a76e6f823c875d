/** Datasets, their details, item pages for the grid, and the import job in progress. */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { DatasetDetail, DatasetSummary, EventPayload, ImportJob, Params, Result, SplitConfig } from '../../shared/api';
import { useApi } from '../api';
import { errorText } from '../api/errors';

export type ImportProgress = EventPayload<'import.progress'>;

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

  async function startImport(path: string, name?: string): Promise<boolean> {
    importStarting.value = true;
    importError.value = null;
    importErrorField.value = null;
    try {
      const params: Params<'datasets.import'> = { path };
      if (name && name.trim()) params.name = name.trim();
      const { jobId } = await useApi().call('datasets.import', params);
      importJobId.value = jobId;
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
    fetchItems,
    imageUrl,
  };
});
