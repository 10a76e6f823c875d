/**
 * The metric names of the contract: what the run service stores (`metrics.name`), what
 * `runs.metrics` and `run.metrics` carry, and what the renderer and the CLI read. Per step
 * (`step` set): `loss` (the mini-batch cross-entropy, nats) and `samples_per_sec`. Per
 * epoch (`step` null, `epoch` 0-based): the rest; `test_*` once, at the end, under the
 * epoch whose weights were tested. Accuracies are fractions in [0, 1], losses mean
 * cross-entropy in nats, `epoch_seconds` wall seconds. Zod only.
 */
import { z } from 'zod';

export const METRIC_NAMES = [
  'loss',
  'samples_per_sec',
  'train_loss',
  'train_accuracy',
  'val_loss',
  'val_accuracy',
  /** Accuracy under PGD at training.adversarial.robustEpsilon on validation images (issue 10). */
  'val_robust_accuracy',
  'learning_rate',
  'epoch_seconds',
  'test_loss',
  'test_accuracy',
] as const;

export const MetricNameSchema = z.enum(METRIC_NAMES);
/** One of METRIC_NAMES. */
export type MetricName = z.infer<typeof MetricNameSchema>;

/** The names as constants: `METRIC.valAccuracy === 'val_accuracy'`. */
export const METRIC = {
  loss: 'loss',
  samplesPerSec: 'samples_per_sec',
  trainLoss: 'train_loss',
  trainAccuracy: 'train_accuracy',
  valLoss: 'val_loss',
  valAccuracy: 'val_accuracy',
  valRobustAccuracy: 'val_robust_accuracy',
  learningRate: 'learning_rate',
  epochSeconds: 'epoch_seconds',
  testLoss: 'test_loss',
  testAccuracy: 'test_accuracy',
} as const satisfies Record<string, MetricName>;

/** Metrics that an epoch may be judged by (early stopping, best epoch, reduce-on-plateau). */
export const MONITOR_METRICS = ['val_loss', 'val_accuracy', 'train_loss', 'train_accuracy'] as const satisfies readonly MetricName[];
export type MonitorMetric = (typeof MONITOR_METRICS)[number];

/** Whether larger is better for a metric (accuracies) or smaller (losses); Keras' `mode: 'auto'`. */
export function higherIsBetter(name: MetricName): boolean {
  return name.endsWith('accuracy') || name === 'samples_per_sec';
}
