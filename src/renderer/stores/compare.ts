/**
 * Compare: the runs being compared (details and summary figures) and their metrics in
 * columns, fetched by `runs.compare` only for the metrics a chart shows, in batches of about
 * COMPARE_BATCH_SAMPLES samples (a run with more goes alone, up to the host's MAX_COMPARE_SAMPLES).
 */
import { defineStore } from 'pinia';
import { markRaw, ref } from 'vue';
import type { CompareRun } from '../../shared/api';
import { COMPARE_BATCH_SAMPLES, type RunColumns } from '../../shared/compare';
import type { MetricName } from '../../shared/metrics';
import { useApi } from '../api';
import { errorText } from '../api/errors';

export const useCompareStore = defineStore('compare', () => {
  const runs = ref<CompareRun[]>([]);
  /** Ids asked for that are not there (deleted runs): the page names them and shows the others. */
  const missing = ref<number[]>([]);
  const error = ref<string | null>(null);
  const loading = ref(false);
  /** Bumped when columns arrive (the columns themselves are raw: up to millions of samples). */
  const version = ref(0);
  let columns = markRaw(new Map<number, RunColumns>());
  let counts = new Map<string, number>();
  let loadId = 0;

  /** Load the runs `runIds` (details, summary figures, sample counts); columns of other runs are dropped. */
  async function load(runIds: readonly number[]): Promise<void> {
    const id = ++loadId;
    loading.value = true;
    try {
      if (runIds.length === 0) {
        runs.value = [];
        missing.value = [];
        error.value = null;
        return;
      }
      const res = await useApi().call('runs.compare', { runIds: [...runIds], names: [] });
      if (id !== loadId) return;
      runs.value = res.runs;
      missing.value = res.missing;
      counts = new Map(res.sampleCounts.map((c) => [`${c.runId}:${c.name}`, c.count]));
      const keep = new Set(runIds);
      columns = markRaw(new Map([...columns].filter(([rid]) => keep.has(rid))));
      error.value = null;
      version.value++;
    } catch (e) {
      if (id === loadId) error.value = errorText(e);
    } finally {
      if (id === loadId) loading.value = false;
    }
  }

  /** Make sure the columns of `names` are loaded for every run (asked for in batches of about COMPARE_BATCH_SAMPLES samples). */
  async function ensure(names: readonly MetricName[]): Promise<void> {
    const id = loadId;
    for (const name of names) {
      let batch: number[] = [];
      let size = 0;
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        const res = await useApi().call('runs.compare', { runIds: batch, names: [name] });
        if (id !== loadId) return;
        for (const c of res.metrics) {
          const run = columns.get(c.runId) ?? {};
          run[c.name] = { step: c.step, epoch: c.epoch, value: c.value, time: c.time };
          columns.set(c.runId, run);
        }
        // A run without samples of this metric: an empty column, so it is not asked for again.
        for (const rid of batch) if (!columns.get(rid)?.[name]) columns.set(rid, { ...columns.get(rid), [name]: { step: [], epoch: [], value: [], time: [] } });
        batch = [];
        size = 0;
      };
      try {
        for (const r of runs.value) {
          if (columns.get(r.id)?.[name]) continue;
          const n = counts.get(`${r.id}:${name}`) ?? 0;
          if (n > COMPARE_BATCH_SAMPLES) {
            await fetchSlices(r.id, name, n);
            continue;
          }
          if (size + n > COMPARE_BATCH_SAMPLES) await flush();
          batch.push(r.id);
          size += n;
        }
        await flush();
      } catch (e) {
        error.value = errorText(e);
      }
      // One redraw per metric, once all its batches are in (not one per batch: 1,000,000 points).
      if (id === loadId) version.value++;
    }
  }

  /** One long run's column of `name` (`count` samples), asked for in slices of COMPARE_BATCH_SAMPLES and joined. */
  async function fetchSlices(runId: number, name: MetricName, count: number): Promise<void> {
    const id = loadId;
    const col = { step: [] as (number | null)[], epoch: [] as (number | null)[], value: [] as number[], time: [] as number[] };
    for (let offset = 0; offset < count; offset += COMPARE_BATCH_SAMPLES) {
      const res = await useApi().call('runs.compare', { runIds: [runId], names: [name], offset, limit: COMPARE_BATCH_SAMPLES });
      if (id !== loadId) return;
      const part = res.metrics[0];
      if (!part) break;
      for (let i = 0; i < part.value.length; i++) {
        col.step.push(part.step[i]);
        col.epoch.push(part.epoch[i]);
        col.value.push(part.value[i]);
        col.time.push(part.time[i]);
      }
    }
    columns.set(runId, { ...columns.get(runId), [name]: col });
  }

  let subscribed: (() => void)[] | null = null;
  let redraw: ReturnType<typeof setTimeout> | undefined;
  /** Redraw at most twice a second while compared runs train. */
  function bumpSoon(): void {
    redraw ??= setTimeout(() => {
      redraw = undefined;
      version.value++;
    }, 500);
  }

  /**
   * Follow the compared runs while they train (once; the page calls it): new samples are
   * appended to the loaded columns of their metric, and a status change reloads the runs'
   * summary figures.
   */
  function init(): void {
    if (subscribed) return;
    const api = useApi();
    subscribed = [
      api.on('run.metrics', (e) => {
        const run = columns.get(e.runId);
        if (!run) return;
        let changed = false;
        for (const m of e.metrics) {
          const c = run[m.name] as { step: (number | null)[]; epoch: (number | null)[]; value: number[]; time: number[] } | undefined;
          if (!c) continue;
          // Already in the column (fetched while still buffered, then announced at its flush): steps and epochs only grow.
          const n = c.value.length;
          if (n > 0 && (m.step !== null ? c.step[n - 1] !== null && (c.step[n - 1] as number) >= m.step : m.epoch !== null && c.epoch[n - 1] !== null && (c.epoch[n - 1] as number) >= m.epoch)) continue;
          c.step.push(m.step);
          c.epoch.push(m.epoch);
          c.value.push(m.value);
          c.time.push(m.time);
          counts.set(`${e.runId}:${m.name}`, (counts.get(`${e.runId}:${m.name}`) ?? 0) + 1);
          changed = true;
        }
        if (changed) bumpSoon();
      }),
      api.on('run.status', (e) => {
        if (runs.value.some((r) => r.id === e.runId)) void refresh();
      }),
    ];
  }

  /** Stop following (the page leaves). */
  function dispose(): void {
    subscribed?.forEach((off) => off());
    subscribed = null;
    clearTimeout(redraw);
    redraw = undefined;
  }

  /** Reload the runs' details and summary figures, keeping the loaded columns. */
  async function refresh(): Promise<void> {
    const ids = runs.value.map((r) => r.id);
    if (ids.length === 0) return;
    try {
      const res = await useApi().call('runs.compare', { runIds: ids, names: [] });
      if (res.runs.map((r) => r.id).join(',') === runs.value.map((r) => r.id).join(',')) runs.value = res.runs;
    } catch {
      /* the next load shows the error */
    }
  }

  /** A run's loaded columns (empty until ensure()). */
  function columnsOf(runId: number): RunColumns {
    return columns.get(runId) ?? {};
  }

  /** How many samples of `name` a run has (from the last load). */
  function sampleCount(runId: number, name: MetricName): number {
    return counts.get(`${runId}:${name}`) ?? 0;
  }

  return { runs, missing, error, loading, version, init, dispose, load, ensure, columnsOf, sampleCount };
});
