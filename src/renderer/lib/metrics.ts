/**
 * Sorting metric samples into the curves the run page draws, by the contract's metric
 * names (src/shared/metrics.ts).
 */
import type { Metric } from '../../shared/api';
import { METRIC, type MetricName } from '../../shared/metrics';

export type EpochKey = 'trainLoss' | 'valLoss' | 'trainAccuracy' | 'valAccuracy' | 'learningRate';

const EPOCH_KEYS: Partial<Record<MetricName, EpochKey>> = {
  [METRIC.trainLoss]: 'trainLoss',
  [METRIC.valLoss]: 'valLoss',
  [METRIC.trainAccuracy]: 'trainAccuracy',
  [METRIC.valAccuracy]: 'valAccuracy',
  [METRIC.learningRate]: 'learningRate',
};

/** The epoch curve a metric belongs to, or null (step metrics, test metrics, timings). */
export function epochKey(name: MetricName): EpochKey | null {
  return EPOCH_KEYS[name] ?? null;
}

/** A per-step training loss sample. */
export function isStepLoss(m: Metric): boolean {
  return m.step !== null && m.step !== undefined && m.name === METRIC.loss;
}

export function metricKey(m: Metric): string {
  return `${m.name}|${m.epoch ?? ''}|${m.step ?? ''}`;
}

export interface EpochCurves {
  epochs: number[];
  trainLoss: (number | null)[];
  valLoss: (number | null)[];
  trainAccuracy: (number | null)[];
  valAccuracy: (number | null)[];
}

/** Epoch curves from metric samples (epoch metrics only: step null). Epochs shown 1-based. */
export function epochCurves(metrics: readonly Metric[]): EpochCurves {
  const byEpoch = new Map<number, Partial<Record<EpochKey, number>>>();
  for (const m of metrics) {
    if (m.epoch === null || m.epoch === undefined || (m.step !== null && m.step !== undefined)) continue;
    const k = epochKey(m.name);
    if (!k) continue;
    let row = byEpoch.get(m.epoch);
    if (!row) byEpoch.set(m.epoch, (row = {}));
    row[k] = m.value;
  }
  const epochs = [...byEpoch.keys()].sort((a, b) => a - b);
  const pick = (k: EpochKey) => epochs.map((e) => byEpoch.get(e)?.[k] ?? null);
  return { epochs: epochs.map((e) => e + 1), trainLoss: pick('trainLoss'), valLoss: pick('valLoss'), trainAccuracy: pick('trainAccuracy'), valAccuracy: pick('valAccuracy') };
}

/** Best validation accuracy in a list of metrics, or null. */
export function bestValAccuracy(metrics: readonly Metric[]): number | null {
  let best: number | null = null;
  for (const m of metrics) if (m.step === null && epochKey(m.name) === 'valAccuracy' && (best === null || m.value > best)) best = m.value;
  return best;
}

/**
 * Where a run stopped, from its stored metrics: the epoch in progress (1-based; step metrics
 * carry their epoch, else the one after the last finished epoch) and the global step count.
 * Null without any metrics.
 */
export function stoppedAt(metrics: readonly Metric[], stepLosses: ReadonlyMap<number, number> | undefined, epochs: number): { epoch: number; step: number } | null {
  let lastStep = -1;
  let stepEpoch = -1;
  let finished = -1;
  for (const m of metrics) {
    if (m.step !== null && m.step !== undefined) {
      lastStep = Math.max(lastStep, m.step);
      if (m.epoch !== null && m.epoch !== undefined) stepEpoch = Math.max(stepEpoch, m.epoch);
    } else if (m.epoch !== null && m.epoch !== undefined) finished = Math.max(finished, m.epoch);
  }
  for (const s of stepLosses?.keys() ?? []) lastStep = Math.max(lastStep, s);
  if (lastStep < 0 && finished < 0) return null;
  const epoch = stepEpoch >= 0 ? stepEpoch + 1 : Math.min(epochs, finished + 2);
  return { epoch: Math.max(1, Math.min(epochs, epoch)), step: lastStep + 1 };
}
