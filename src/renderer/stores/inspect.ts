/** Inside a trained model: a run's checkpoints, and inspect jobs (start, progress, cancel, result) kept current by `job.*` events. */
import { defineStore } from 'pinia';
import { markRaw, ref } from 'vue';
import type { Item, Params } from '../../shared/api';
import type { EngineJob, InspectOpInput, InspectResult, RunCheckpoints } from '../../shared/inspect';
import { useApi } from '../api';

export const useInspectStore = defineStore('inspect', () => {
  const checkpoints = ref<Record<number, RunCheckpoints>>({});
  /** Every job this window started or heard of, by id. */
  const jobs = ref<Record<number, EngineJob>>({});
  const waiters = new Map<number, (job: EngineJob) => void>();
  let subscribed = false;

  function subscribe(): void {
    if (subscribed) return;
    subscribed = true;
    const api = useApi();
    api.on('job.progress', (j) => {
      if (jobs.value[j.jobId]?.status === 'running' || !jobs.value[j.jobId]) jobs.value = { ...jobs.value, [j.jobId]: j };
    });
    api.on('job.finished', (j) => {
      jobs.value = { ...jobs.value, [j.jobId]: j };
      waiters.get(j.jobId)?.(j);
      waiters.delete(j.jobId);
    });
  }

  async function fetchCheckpoints(runId: number): Promise<RunCheckpoints> {
    const c = await useApi().call('inspect.checkpoints', { runId });
    checkpoints.value = { ...checkpoints.value, [runId]: c };
    return c;
  }

  /**
   * Start an inspect job and wait for its end: the result when it completed, null when it was
   * cancelled. `onStart` receives the job id at once (for a cancel button).
   * @throws ApiError when the start is refused or the job failed (its error).
   */
  async function runJob(runId: number, epoch: number | null, op: InspectOpInput, onStart?: (jobId: number) => void): Promise<InspectResult | null> {
    subscribe();
    const api = useApi();
    const params: Params<'inspect.start'> = epoch === null ? { runId, op } : { runId, epoch, op };
    const { jobId } = await api.call('inspect.start', params);
    const ended = new Promise<EngineJob>((resolve) => waiters.set(jobId, resolve));
    jobs.value = { ...jobs.value, [jobId]: jobs.value[jobId] ?? { jobId, runId, kind: 'inspect', what: op.op, epoch: epoch ?? -1, status: 'running', phase: 'starting', done: 0, total: 1, error: null } };
    onStart?.(jobId);
    // The end may have been announced before the waiter existed: ask once.
    const now = await api.call('jobs.get', { jobId });
    const job = now.status === 'running' ? await ended : now;
    waiters.delete(jobId);
    jobs.value = { ...jobs.value, [jobId]: job };
    if (job.status === 'cancelled') return null;
    if (job.status === 'failed') throw new Error(job.error ?? 'the inspect job failed');
    return markRaw(await api.call('inspect.result', { jobId }));
  }

  async function cancel(jobId: number): Promise<void> {
    await useApi().call('jobs.cancel', { jobId });
  }

  /** Images of the run's dataset to pick from: a split's items, or one confusion cell / the mistakes (with runId). */
  async function items(params: Params<'datasets.items'>): Promise<Item[]> {
    return (await useApi().call('datasets.items', params)).items;
  }

  /** The names of a dataset's classes by class id (for an item's label and a run's prediction). */
  async function classNames(datasetId: number): Promise<Map<number, string>> {
    const d = await useApi().call('datasets.get', { datasetId });
    return new Map(d.classes.map((c) => [c.id, c.name]));
  }

  function imageUrl(hash: string): string {
    return useApi().imageUrl(hash, 'thumb');
  }

  return { checkpoints, jobs, fetchCheckpoints, runJob, cancel, items, classNames, imageUrl };
});
