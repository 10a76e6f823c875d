/** Runs: the list, details, metric history and live progress, kept current by events. */
import { defineStore } from 'pinia';
import { markRaw, ref } from 'vue';
import type { EventPayload, Metric, RunDetail, RunSummary } from '../../shared/api';
import type { AugmentPreview } from '../../shared/augment-preview';
import type { LrRangeResult } from '../../shared/lr-range';
import type { RunSpecInput } from '../../shared/spec';
import { useApi } from '../api';
import { errorText } from '../api/errors';
import { bestValAccuracy, isStepLoss, metricKey } from '../lib/metrics';

export type RunProgress = EventPayload<'run.progress'>;

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'interrupted']);

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
  /** A features or classic run's latest phase (features n / N, fit, predict), by run id. */
  const baselineProgress = ref<Record<number, { phase: string; done: number; total: number }>>({});
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
      api.on('run.baselineProgress', (p) => {
        baselineProgress.value[p.runId] = { phase: p.phase, done: p.done, total: p.total };
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

  /** A run's detail, loaded if not yet (throws ApiError: not_found). */
  async function fetchDetailOnce(runId: number): Promise<RunDetail> {
    return details.value[runId] ?? (details.value[runId] = await useApi().call('runs.get', { runId }));
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

  /**
   * Resume a cancelled, interrupted or failed run (runs.resume): the server drops its metrics after the
   * checkpoint it continues from, so the run's cached metrics are reloaded.
   * @returns the epoch (0-based) it continues after, null from the start. Throws ApiError (conflict) as the server does.
   */
  async function resume(runId: number): Promise<number | null> {
    const { fromEpoch } = await useApi().call('runs.resume', { runId });
    seen.delete(runId);
    delete metrics.value[runId];
    delete stepLoss.value[runId];
    delete progress.value[runId];
    bump(runId);
    await Promise.all([fetchMetrics(runId), refreshRun(runId)]);
    return fromEpoch;
  }

  /** The learning-rate range test of a spec (runs.lrRange: a short engine job, nothing stored). */
  async function lrRange(spec: RunSpecInput, steps = 100): Promise<LrRangeResult> {
    return useApi().call('runs.lrRange', { spec, params: { steps } });
  }

  /** The first training images of a spec as the engine will train on them (runs.augmentPreview). */
  async function augmentPreview(spec: RunSpecInput, count = 16): Promise<AugmentPreview> {
    return useApi().call('runs.augmentPreview', { spec, count });
  }

  /** A new run with the same spec and seed (runs.rerun); its id. */
  async function rerun(runId: number): Promise<number> {
    const { runId: id } = await useApi().call('runs.rerun', { runId });
    void refreshRun(id, true);
    return id;
  }

  /** Set a run's tags and / or note; the list and detail show the stored result. */
  async function update(runId: number, change: { tags?: string[]; note?: string }): Promise<void> {
    const d = await useApi().call('runs.update', { runId, ...change });
    if (details.value[runId]) details.value[runId] = d;
    const { spec: _spec, ...summary } = d;
    patchSummary(runId, summary);
  }

  /** Delete a finished run (rows and folder); it leaves the list. */
  async function remove(runId: number): Promise<void> {
    await useApi().call('runs.delete', { runId });
    list.value = list.value.filter((r) => r.id !== runId);
    delete details.value[runId];
  }

  return { list, loaded, listError, details, detailErrors, metrics, stepLoss, progress, baselineProgress, metricsVersion, init, dispose, fetchList, fetchDetail, fetchDetailOnce, fetchMetrics, refreshRun, start, cancel, resume, rerun, lrRange, augmentPreview, update, remove, addMetrics };
});
