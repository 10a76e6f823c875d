/** Sorting of the Pipelines table (src/renderer/views/PipelinesView.vue): by one column, missing values last either way. */
import type { PipelineRow } from '../../shared/pipelines';

export type PipelineSortKey = 'runId' | 'kind' | 'pipeline' | 'accuracy' | 'macroF1' | 'trainingSeconds' | 'inferenceMsPerImage' | 'parameters';

/** `rows` sorted by `key` (ascending when `ascending`), nulls after every value; ties by run id, newest first. */
export function sortPipelineRows(rows: readonly PipelineRow[], key: PipelineSortKey, ascending: boolean): PipelineRow[] {
  const sign = ascending ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === null && y === null) return b.runId - a.runId;
    if (x === null) return 1;
    if (y === null) return -1;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return c !== 0 ? sign * c : b.runId - a.runId;
  });
}
