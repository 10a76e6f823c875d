/** The sweep page's parallel coordinates data (src/renderer/lib/sweepParallel.ts) from a sweep detail, by hand. */
import { describe, expect, it } from 'vitest';
import { sweepParallelData } from '../../src/renderer/lib/sweepParallel';
import type { SweepDetail } from '../../src/shared/sweep-api';

describe('sweepParallelData', () => {
  it('axes from the varied paths (log for a rate over decades, categories named by the grid labels); a line per completed run', () => {
    const none = { l1: 0, l2: 0 };
    const l2 = { l1: 0, l2: 5e-4 };
    const d: Pick<SweepDetail, 'variantList' | 'runList' | 'spec'> = {
      spec: { grid: [{ path: 'training.regularization', values: [none, l2], labels: ['none', 'L2 0.0005'] }] },
      variantList: [
        { index: 0, label: 'a', values: { 'training.regularization': none, 'training.optimizer.learningRate': 1e-4, 'model.dropoutRate': 0 } },
        { index: 1, label: 'b', values: { 'training.regularization': l2, 'training.optimizer.learningRate': 1e-2, 'model.dropoutRate': 0.5 } },
      ],
      runList: [
        { runId: 7, variant: 0, seed: 1, status: 'completed', bestValAccuracy: 0.6, testAccuracy: 0.5 },
        { runId: 8, variant: 1, seed: 1, status: 'completed', bestValAccuracy: 0.8, testAccuracy: null },
        { runId: 9, variant: 1, seed: 2, status: 'running', bestValAccuracy: 0.3, testAccuracy: null },
      ],
    };
    const { axes, lines } = sweepParallelData(d);
    expect(axes).toEqual([
      { path: 'training.regularization', kind: 'category', categories: ['none', 'L2 0.0005'] },
      { path: 'training.optimizer.learningRate', kind: 'log' },
      { path: 'model.dropoutRate', kind: 'value' },
    ]);
    expect(lines).toEqual([
      { runId: 7, variant: 0, values: [0, 1e-4, 0, 0.6, 0.5] },
      { runId: 8, variant: 1, values: [1, 1e-2, 0.5, 0.8, NaN] },
    ]);
  });
});
