import type { DatasetSummary, RunSummary } from '../../src/shared/api';

export const fashion: DatasetSummary = {
  id: 3,
  name: 'Fashion-MNIST',
  sourcePath: '/data/fashion',
  createdAt: 1_760_000_000,
  itemCount: 70000,
  classCount: 10,
  counts: { train: 54000, val: 6000, test: 10000 },
  typicalShape: [28, 28, 1],
};

export function run(over: Partial<RunSummary>): RunSummary {
  return {
    id: 1,
    name: 'run',
    datasetId: 3,
    datasetName: 'Fashion-MNIST',
    datasetVersionId: 1,
    preset: 'mlp',
    status: 'completed',
    backend: 'wasm',
    error: null,
    createdAt: 1_760_000_000,
    startedAt: 1_760_000_001,
    finishedAt: 1_760_000_100,
    durationSeconds: 99,
    bestValAccuracy: null,
    testAccuracy: null,
    testLoss: null,
    samplesPerSec: null,
    ...over,
  };
}
