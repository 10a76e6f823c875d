/** The run queue's executor (local or Slurm, issue 12): its settings, and what Slurm says of a run's job. */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ExecutorSettings, SlurmJobInfo } from '../../shared/executor';
import { useApi } from '../api';
import { errorText } from '../api/errors';

export const useExecutorStore = defineStore('executor', () => {
  const settings = ref<ExecutorSettings | null>(null);
  const loadError = ref<string | null>(null);
  /** The Slurm job of each run whose page asked (null: the run never was a Slurm job). */
  const jobs = ref<Record<number, SlurmJobInfo | null>>({});

  async function fetchSettings(): Promise<void> {
    try {
      settings.value = await useApi().call('executor.get', {});
      loadError.value = null;
    } catch (e) {
      loadError.value = errorText(e);
    }
  }

  /** Store new settings (they apply to the next run that starts). @throws ApiError naming the field (`slurm.timeLimit`). */
  async function save(next: ExecutorSettings): Promise<ExecutorSettings> {
    settings.value = await useApi().call('executor.set', next);
    return settings.value;
  }

  /** Read what the host last heard from Slurm of run `runId`'s job (it polls squeue / sacct). */
  async function fetchJob(runId: number): Promise<void> {
    try {
      jobs.value[runId] = await useApi().call('executor.job', { runId });
    } catch {
      // an older host without executors: no job line
      jobs.value[runId] = null;
    }
  }

  return { settings, loadError, jobs, fetchSettings, save, fetchJob };
});
