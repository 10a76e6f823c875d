/** Sweeps: the list, one sweep's detail (runs, ablation table) kept current by run events, the run queue's concurrency. */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { RunSpecSchema, type RunSpec } from '../../shared/spec';
import type { SweepSpecInput } from '../../shared/sweep';
import type { QueueInfo, SweepDetail, SweepSummary } from '../../shared/sweep-api';
import { useApi } from '../api';
import { errorText } from '../api/errors';

/** sessionStorage key of the spec a sweep starts from when it comes from the New-run page (no stored run yet); kept per tab, so a reload keeps it. */
const DRAFT_KEY = 'layerwise.sweepBase';

/** Milliseconds a burst of run events is gathered before a sweep is read again. */
const REFRESH_MS = 300;

export const useSweepsStore = defineStore('sweeps', () => {
  const list = ref<SweepSummary[]>([]);
  const listError = ref<string | null>(null);
  const details = ref<Record<number, SweepDetail>>({});
  const detailErrors = ref<Record<number, string>>({});
  const queue = ref<QueueInfo | null>(null);
  const timers = new Map<number, ReturnType<typeof setTimeout>>();
  let unsubscribe: (() => void) | null = null;

  /** Follow run events: a sweep whose detail is loaded is read again when one of its runs changes status (or a run appears). */
  function init(): void {
    if (unsubscribe) return;
    unsubscribe = useApi().on('run.status', (e) => {
      for (const d of Object.values(details.value)) {
        const known = d.runList.some((r) => r.runId === e.runId);
        if (known || (e.status === 'queued' && d.runList.length < d.runs)) schedule(d.id);
      }
    });
  }

  function dispose(): void {
    unsubscribe?.();
    unsubscribe = null;
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
  }

  function schedule(sweepId: number): void {
    if (timers.has(sweepId)) return;
    timers.set(
      sweepId,
      setTimeout(() => {
        timers.delete(sweepId);
        void fetchDetail(sweepId);
      }, REFRESH_MS),
    );
  }

  async function fetchList(): Promise<void> {
    try {
      list.value = await useApi().call('sweeps.list', {});
      listError.value = null;
    } catch (e) {
      listError.value = errorText(e);
    }
  }

  async function fetchDetail(sweepId: number): Promise<void> {
    try {
      details.value[sweepId] = await useApi().call('sweeps.get', { sweepId });
      delete detailErrors.value[sweepId];
    } catch (e) {
      detailErrors.value[sweepId] = errorText(e);
    }
  }

  /** Create a sweep; its runs are queued. @returns the new sweep's id. @throws ApiError (the field of an invalid spec). */
  async function create(spec: SweepSpecInput, name?: string): Promise<number> {
    const { sweepId } = await useApi().call('sweeps.create', { spec, ...(name ? { name } : {}) });
    void fetchList();
    return sweepId;
  }

  async function cancel(sweepId: number): Promise<number> {
    const { cancelled } = await useApi().call('sweeps.cancel', { sweepId });
    await fetchDetail(sweepId);
    return cancelled;
  }

  /** Resume runs of a sweep (runs.resume: each continues from its last checkpoint, under its id); the sweep is read again. @returns how many were queued. */
  async function resumeRuns(sweepId: number, runIds: readonly number[]): Promise<number> {
    let n = 0;
    for (const runId of runIds) {
      await useApi().call('runs.resume', { runId });
      n++;
    }
    await fetchDetail(sweepId);
    return n;
  }

  async function fetchQueue(): Promise<void> {
    queue.value = await useApi().call('queue.get', {});
  }

  async function setConcurrency(concurrency: number): Promise<void> {
    queue.value = await useApi().call('queue.setConcurrency', { concurrency });
  }

  /** Keep `spec` (the New-run page's valid spec) as the base of the sweep about to be set up at `/sweeps/new?draft=1`. */
  function setDraftBase(spec: RunSpec): void {
    sessionStorage.setItem(DRAFT_KEY, JSON.stringify(spec));
  }

  /** The base kept by setDraftBase, or null when there is none or it no longer parses as a RunSpec. */
  function draftBase(): RunSpec | null {
    const raw = sessionStorage.getItem(DRAFT_KEY);
    if (!raw) return null;
    try {
      const parsed = RunSpecSchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  return { list, listError, details, detailErrors, queue, init, dispose, fetchList, fetchDetail, create, cancel, resumeRuns, fetchQueue, setConcurrency, setDraftBase, draftBase };
});
