/** Runs: the list, details, metric history and live progress, kept current by events. */
import { defineStore } from 'pinia';
import { markRaw, ref } from 'vue';
import type { EventPayload, Metric, RunDetail, RunSummary } from '../../shared/api';
import type { RunSpecInput } from '../../shared/spec';
import { useApi } from '../api';
import { errorText } from '../api/errors';
import { bestValAccuracy, isStepLoss, metricKey } from '../lib/metrics';

export type RunProgress = EventPayload<'run.progress'>;

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

export const useRunsStore = defineStore('runs', () => {
  const list = ref<RunSummary[]>([]);
  const loaded = ref(false);
  const listError = ref<string | null>(null);
  const details = ref<Record<number, RunDetail>>({});
  const detailErrors = ref<Record<number, string>>({});
  /** Metric history per run (only for runs whose page loaded it). */
  const metrics = ref<Record<number, Metric[]>>({});
  /** Per-step losses per run, by step (from step metrics and progress events). */
  const stepLoss = ref<Record<number, Map<number, number>>>({});
  const progress = ref<Record<number, RunProgress>>({});
  /** Bumped whenever a run's metrics change, so charts can redraw cheaply. */
  const metricsVersion = ref<Record<number, number>>({});

  const seen = new Map<number, Set<string>>();
  let subscribed: (() => void)[] | null = null;

  function patchSummary(runId: number, patch: Partial<RunSummary>): void {
    const i = list.value.findIndex((r) => r.id === runId);
    if (i >= 0) list.value[i] = { ...list.value[i], ...patch };
    const d = details.value[runId];
    if (d) details.value[runId] = { ...d, ...patch };
  }

  function bump(runId: number): void {
    metricsVersion.value[runId] = (metricsVersion.value[runId] ?? 0) + 1;
  }

  function addMetrics(runId: number, ms: readonly Metric[]): void {
    let keys = seen.get(runId);
    if (!keys) seen.set(runId, (keys = new Set()));
    // Raw (non-reactive) containers: long runs hold tens of thousands of samples; readers watch metricsVersion.
    const arr = metrics.value[runId] ?? (metrics.value[runId] = markRaw([]));
    let steps = stepLoss.value[runId];
    if (!steps) stepLoss.value[runId] = steps = markRaw(new Map());
    const fresh: Metric[] = [];
    for (const m of ms) {
      const k = metricKey(m);
      if (keys.has(k)) continue;
      keys.add(k);
      fresh.push(m);
      if (isStepLoss(m)) steps.set(m.step as number, m.value);
    }
    if (fresh.length) {
      arr.push(...fresh);
      bump(runId);
    }
  }

  /** Subscribe to run events (once). */
  function init(): void {
    if (subscribed) return;
    const api = useApi();
    subscribed = [
      api.on('run.status', (e) => {
        const known = list.value.some((r) => r.id === e.runId) || !!details.value[e.runId];
        patchSummary(e.runId, { status: e.status, backend: e.backend, error: e.error });
        if (!known || TERMINAL.has(e.status) || e.status === 'running') void refreshRun(e.runId, !known);
      }),
      api.on('run.metrics', (e) => {
        addMetrics(e.runId, e.metrics);
        const best = bestValAccuracy(e.metrics);
        const cur = list.value.find((r) => r.id === e.runId)?.bestValAccuracy ?? details.value[e.runId]?.bestValAccuracy ?? null;
        if (best !== null && (cur === null || best > cur)) patchSummary(e.runId, { bestValAccuracy: best });
      }),
      api.on('run.progress', (p) => {
        progress.value[p.runId] = p;
        const steps = stepLoss.value[p.runId] ?? (stepLoss.value[p.runId] = markRaw(new Map()));
        if (!steps.has(p.step)) {
          steps.set(p.step, p.loss);
          bump(p.runId);
        }
        patchSummary(p.runId, { samplesPerSec: p.samplesPerSec });
      }),
    ];
  }

  function dispose(): void {
    subscribed?.forEach((off) => off());
    subscribed = null;
  }

  async function fetchList(): Promise<void> {
    try {
      list.value = await useApi().call('runs.list', {});
      listError.value = null;
      loaded.value = true;
    } catch (e) {
      listError.value = errorText(e);
    }
  }

  /** Refresh one run's summary (and detail when loaded); add it to the list when new. */
  async function refreshRun(runId: number, addToList = false): Promise<void> {
    try {
      const d = await useApi().call('runs.get', { runId });
      if (details.value[runId] || addToList) details.value[runId] = d;
      const { spec: _spec, ...summary } = d;
      const i = list.value.findIndex((r) => r.id === runId);
      if (i >= 0) list.value[i] = summary;
      else if (addToList) list.value = [summary, ...list.value];
    } catch {
      /* the list refresh will show it */
    }
  }

  async function fetchDetail(runId: number): Promise<void> {
    try {
      details.value[runId] = await useApi().call('runs.get', { runId });
      delete detailErrors.value[runId];
    } catch (e) {
      detailErrors.value[runId] = errorText(e);
    }
  }

  /** Load the metric history of a run; events arriving meanwhile are merged without duplicates. */
  async function fetchMetrics(runId: number): Promise<void> {
    try {
      const ms = await useApi().call('runs.metrics', { runId });
      addMetrics(runId, ms);
      if (!metrics.value[runId]) metrics.value[runId] = markRaw([]);
    } catch (e) {
      detailErrors.value[runId] = errorText(e);
    }
  }

  /** Start a run; throws ApiError (with `.field`) when the server refuses the spec. */
  async function start(spec: RunSpecInput, name?: string): Promise<number> {
    const params: { spec: unknown; name?: string } = { spec };
    if (name && name.trim()) params.name = name.trim();
    const { runId } = await useApi().call('runs.start', params);
    void refreshRun(runId, true);
    return runId;
  }

  async function cancel(runId: number): Promise<void> {
    await useApi().call('runs.cancel', { runId });
  }

  return { list, loaded, listError, details, detailErrors, metrics, stepLoss, progress, metricsVersion, init, dispose, fetchList, fetchDetail, fetchMetrics, refreshRun, start, cancel, addMetrics };
});
