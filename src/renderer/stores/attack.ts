/**
 * Adversarial examples: attack jobs on a run's checkpoint (start, wait, result); progress and
 * cancel go through the inspect store's job records. The store keeps, per run, the last
 * attack's result, the job still running and how the last one ended, so the Adversarial tab
 * shows them again after the user leaves the page and comes back.
 */
import { defineStore } from 'pinia';
import { markRaw, ref } from 'vue';
import type { Params } from '../../shared/api';
import type { AttackParams, AttackResult } from '../../shared/attack';
import type { EngineJob } from '../../shared/inspect';
import { useApi } from '../api';
import { useInspectStore } from './inspect';

/** How a run's last attack job ended when it gave no result: 'cancelled' by the user. */
export type AttackOutcome = 'completed' | 'cancelled';

export const useAttackStore = defineStore('attack', () => {
  const waiters = new Map<number, (job: EngineJob) => void>();
  let subscribed = false;
  /** Per run id: the last completed attack (not a save job) and its job id. */
  const last = ref<Record<number, { jobId: number; result: AttackResult }>>({});
  /** Per run id: the attack job running now (started from this window). */
  const running = ref<Record<number, number>>({});
  /** Per run id: how its last attack job ended. */
  const outcome = ref<Record<number, AttackOutcome>>({});

  function subscribe(): void {
    if (subscribed) return;
    subscribed = true;
    useApi().on('job.finished', (j) => {
      waiters.get(j.jobId)?.(j);
      waiters.delete(j.jobId);
    });
  }

  /**
   * Start an attack job and wait for its end: the result when it completed, null when cancelled.
   * `onStart` receives the job id at once (its progress is `useInspectStore().jobs[id]`).
   * A completed attack without `params.save` becomes the run's `last`; `outcome` says how it ended.
   * @throws ApiError when the start is refused, Error with the job's error when it failed.
   */
  async function run(runId: number, epoch: number | null, params: Partial<AttackParams>, onStart?: (jobId: number) => void): Promise<AttackResult | null> {
    subscribe();
    const inspect = useInspectStore();
    const api = useApi();
    const req: Params<'attack.start'> = epoch === null ? { runId, params } : { runId, epoch, params };
    const { jobId } = await api.call('attack.start', req);
    const ended = new Promise<EngineJob>((resolve) => waiters.set(jobId, resolve));
    inspect.jobs = { ...inspect.jobs, [jobId]: inspect.jobs[jobId] ?? { jobId, runId, kind: 'attack', what: (params.methods ?? []).join('+'), epoch: epoch ?? -1, status: 'running', phase: 'starting', done: 0, total: 1, error: null } };
    running.value = { ...running.value, [runId]: jobId };
    const { [runId]: _, ...rest } = outcome.value;
    outcome.value = rest;
    onStart?.(jobId);
    try {
      const now = await api.call('jobs.get', { jobId });
      const job = now.status === 'running' ? await ended : now;
      waiters.delete(jobId);
      if (job.status === 'cancelled') {
        outcome.value = { ...outcome.value, [runId]: 'cancelled' };
        return null;
      }
      if (job.status === 'failed') throw new Error(job.error ?? 'the attack job failed');
      const result = markRaw(await api.call('attack.result', { jobId }));
      if (!params.save) last.value = { ...last.value, [runId]: markRaw({ jobId, result }) };
      outcome.value = { ...outcome.value, [runId]: 'completed' };
      return result;
    } finally {
      if (running.value[runId] === jobId) {
        const { [runId]: __, ...others } = running.value;
        running.value = others;
      }
    }
  }

  /** Import the images a completed job kept (params.save) as a new dataset; resolves with the import job id and the dataset name. */
  async function saveDataset(jobId: number, name?: string): Promise<{ importJobId: number; name: string }> {
    return useApi().call('attack.saveDataset', name ? { jobId, name } : { jobId });
  }

  async function cancel(jobId: number): Promise<void> {
    await useInspectStore().cancel(jobId);
  }

  return { last, running, outcome, run, saveDataset, cancel };
});
