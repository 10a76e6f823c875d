/** `layerwise sweep`'s parsers and table (src/main/host/cli-sweep.ts), without a data directory. */
import { describe, expect, it } from 'vitest';
import { ablationLines, parseGrid, parseRange } from '../../src/main/host/cli-sweep';
import { ablationTable } from '../../src/shared/sweep-table';

describe('layerwise sweep parsers', () => {
  it('--grid PATH=V1,V2: JSON values, strings, objects with commas inside', () => {
    expect(parseGrid('training.optimizer.learningRate=0.01,0.001')).toEqual({ path: 'training.optimizer.learningRate', values: [0.01, 0.001] });
    expect(parseGrid('training.regularization={"l1":0,"l2":0},{"l1":0,"l2":1e-4}')).toEqual({ path: 'training.regularization', values: [{ l1: 0, l2: 0 }, { l1: 0, l2: 1e-4 }] });
    expect(parseGrid('model.batchNormalization=false,true').values).toEqual([false, true]);
    expect(() => parseGrid('training.batchSize')).toThrow(/--grid: "training.batchSize" is not PATH=V1,V2/);
    expect(() => parseGrid('=1,2')).toThrow(/--grid/);
  });

  it('--range PATH=LO:HI[:log][:int]', () => {
    expect(parseRange('training.optimizer.learningRate=1e-4:1e-1:log')).toEqual({ path: 'training.optimizer.learningRate', low: 1e-4, high: 0.1, log: true, integer: false });
    expect(parseRange('training.batchSize=8:128:int')).toEqual({ path: 'training.batchSize', low: 8, high: 128, log: false, integer: true });
    expect(parseRange('x=1:2')).toEqual({ path: 'x', low: 1, high: 2, log: false, integer: false });
    expect(() => parseRange('x=a:2')).toThrow(/--range: "x=a:2" is not PATH=LO:HI/);
    expect(() => parseRange('x=1:2:cubic')).toThrow(/--range/);
  });

  it('the table: percentages, Δ with its standard error, baseline and best marked', () => {
    const rows = ablationTable(
      [
        { index: 0, label: 'a=0', values: {} },
        { index: 1, label: 'a=1', values: {} },
      ],
      [
        { runId: 1, variant: 0, seed: 1, status: 'completed', bestValAccuracy: 0.5, testAccuracy: 0.4 },
        { runId: 2, variant: 0, seed: 2, status: 'completed', bestValAccuracy: 0.7, testAccuracy: 0.6 },
        { runId: 3, variant: 1, seed: 1, status: 'completed', bestValAccuracy: 0.9, testAccuracy: 0.8 },
        { runId: 4, variant: 1, seed: 2, status: 'failed', bestValAccuracy: null, testAccuracy: null },
      ],
    );
    const lines = ablationLines(rows);
    expect(lines[0]).toMatch(/^#\s+variant\s+done\s+val acc %\s+Δ val\s+test acc %\s+Δ test$/);
    // Baseline: val 60.0 ± 14.1 (sd of 0.5, 0.7); variant 1: one run, so its value and "n = 1", no "± 0.0"
    // (a single seed has no spread), and Δ val = 90 − 60 = +30.0 without a spread either.
    expect(lines[2]).toMatch(/^ 0\s+a=0\s+2\/2\s+60\.0 ± 14\.1\s+baseline\s+50\.0 ± 14\.1\s+baseline$/);
    expect(lines[3]).toMatch(/^\*1\s+a=1\s+1\/2\s+90\.0 \(n = 1\)\s+\+30\.0 \(n = 1\)\s+80\.0 \(n = 1\)\s+\+30\.0 \(n = 1\)$/);
    expect(lines.join('\n')).not.toContain('± 0.0');
  });
});
