/** One inspect job at a time for a view of the Inspect section: start it, follow its progress, cancel it, keep its error. */
import { computed, ref, type ComputedRef, type Ref } from 'vue';
import type { EngineJob, InspectOpInput, InspectResult } from '../../shared/inspect';
import { errorText } from '../api/errors';
import { useInspectStore } from '../stores/inspect';

export interface InspectJobHandle {
  job: ComputedRef<EngineJob | null>;
  busy: Ref<boolean>;
  error: Ref<string | null>;
  /** Run `op` on the run's checkpoint `epoch()` (null: the best); null when cancelled or failed (then `error` says why). */
  run(op: InspectOpInput): Promise<InspectResult | null>;
  cancel(): Promise<void>;
}

export function useInspectJob(runId: () => number, epoch: () => number | null): InspectJobHandle {
  const store = useInspectStore();
  const jobId = ref<number | null>(null);
  const busy = ref(false);
  const error = ref<string | null>(null);
  const job = computed(() => (jobId.value === null ? null : (store.jobs[jobId.value] ?? null)));
  async function run(op: InspectOpInput): Promise<InspectResult | null> {
    busy.value = true;
    error.value = null;
    try {
      return await store.runJob(runId(), epoch(), op, (id) => (jobId.value = id));
    } catch (e) {
      error.value = errorText(e);
      return null;
    } finally {
      busy.value = false;
    }
  }
  async function cancel(): Promise<void> {
    if (jobId.value === null) return;
    try {
      await store.cancel(jobId.value);
    } catch (e) {
      error.value = errorText(e);
    }
  }
  return { job, busy, error, run, cancel };
}
