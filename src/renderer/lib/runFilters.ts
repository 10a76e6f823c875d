/**
 * The run list's filters (dataset, preset, tag, status, started on or after a date) and the
 * Compare link of a selection. Pure: the Runs page and its test use them.
 */
import type { RunStatus, RunSummary } from '../../shared/api';
import { toMs } from './format';

export interface RunFilters {
  datasetId: number | null;
  preset: string | null;
  tag: string | null;
  status: RunStatus | null;
  /** 'YYYY-MM-DD' (local time): runs created on or after that day; '' none. */
  since: string;
}

export const NO_FILTERS: RunFilters = { datasetId: null, preset: null, tag: null, status: null, since: '' };

/** The runs that pass every filter set, in the order given. */
export function filterRuns(runs: readonly RunSummary[], f: RunFilters): RunSummary[] {
  const since = f.since ? new Date(`${f.since}T00:00:00`).getTime() : null;
  return runs.filter(
    (r) =>
      (f.datasetId === null || r.datasetId === f.datasetId) &&
      (f.preset === null || r.preset === f.preset) &&
      (f.tag === null || (r.tags ?? []).includes(f.tag)) &&
      (f.status === null || r.status === f.status) &&
      (since === null || Number.isNaN(since) || toMs(r.createdAt) >= since),
  );
}

/** The choices each filter offers, from the runs at hand (sorted). */
export function filterChoices(runs: readonly RunSummary[]): { datasets: { id: number; name: string }[]; presets: string[]; tags: string[]; statuses: RunStatus[] } {
  const datasets = new Map<number, string>();
  const presets = new Set<string>();
  const tags = new Set<string>();
  const statuses = new Set<RunStatus>();
  for (const r of runs) {
    datasets.set(r.datasetId, r.datasetName);
    presets.add(r.preset);
    for (const t of r.tags ?? []) tags.add(t);
    statuses.add(r.status);
  }
  return {
    datasets: [...datasets].map(([id, name]) => ({ id, name })).sort((a, b) => a.id - b.id),
    presets: [...presets].sort(),
    tags: [...tags].sort(),
    statuses: [...statuses].sort(),
  };
}

/** The Compare page of a selection: `/compare?runs=3,1,2` keeps the order given. */
export function compareLocation(runIds: readonly number[]): { path: string; query: { runs: string } } {
  return { path: '/compare', query: { runs: runIds.join(',') } };
}

/** Run ids from the `runs` query value ('1,2,3'; anything else ignored, duplicates once). */
export function parseRunIds(q: unknown): number[] {
  const s = Array.isArray(q) ? q.join(',') : typeof q === 'string' ? q : '';
  const ids = s.split(',').map((x) => Number(x.trim())).filter((n) => Number.isInteger(n) && n > 0);
  return [...new Set(ids)];
}
