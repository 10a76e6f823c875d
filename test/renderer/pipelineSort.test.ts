/** The Pipelines table's sort: by a column either way, rows without a value (a running run) last both ways. */
import { describe, expect, it } from 'vitest';
import type { PipelineRow } from '../../src/shared/pipelines';
import { sortPipelineRows } from '../../src/renderer/lib/pipelineSort';

const row = (runId: number, accuracy: number | null, pipeline: string): PipelineRow => ({
  runId, name: `r${runId}`, kind: 'network', pipeline, status: 'completed', datasetVersionId: 1, split: 'val',
  accuracy, macroF1: accuracy, valAccuracy: accuracy, testAccuracy: null, trainingSeconds: 1, inferenceMsPerImage: 1, parameters: 10,
});

describe('sortPipelineRows', () => {
  const rows = [row(1, 0.5, 'b'), row(2, null, 'a'), row(3, 0.9, 'c'), row(4, 0.5, 'd')];
  it('sorts by accuracy both ways, nulls last, ties newest first', () => {
    expect(sortPipelineRows(rows, 'accuracy', false).map((r) => r.runId)).toEqual([3, 4, 1, 2]);
    expect(sortPipelineRows(rows, 'accuracy', true).map((r) => r.runId)).toEqual([4, 1, 3, 2]);
  });
  it('sorts text columns alphabetically and leaves its input alone', () => {
    expect(sortPipelineRows(rows, 'pipeline', true).map((r) => r.pipeline)).toEqual(['a', 'b', 'c', 'd']);
    expect(rows.map((r) => r.runId)).toEqual([1, 2, 3, 4]);
  });
});
