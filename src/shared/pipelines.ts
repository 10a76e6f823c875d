/**
 * The Pipelines table (issue 11): one row per run of a dataset version, any kind — networks,
 * off-the-shelf features, classic descriptors — with what the lecture compares them by.
 * Accuracy and macro-F1 are of the held-out split the confusion matrix counts (test, else val);
 * macro-F1 = the mean over classes of 2·P·R / (P + R) (a class never predicted nor present: left out).
 */
import { z } from 'zod';

export const PipelineRowSchema = z.object({
  runId: z.number().int().positive(),
  name: z.string(),
  kind: z.enum(['network', 'features', 'classic']),
  /** The pipeline in words: the preset, or descriptors / backbone node → PCA → classifier. */
  pipeline: z.string(),
  status: z.string(),
  datasetVersionId: z.number().int().nullable(),
  /** The split accuracy and macro-F1 are of; null before predictions exist. */
  split: z.enum(['train', 'val', 'test']).nullable(),
  accuracy: z.number().nullable(),
  macroF1: z.number().nullable(),
  valAccuracy: z.number().nullable(),
  testAccuracy: z.number().nullable(),
  /** Seconds from start to finish (a network: training; a baseline: features, fit and predictions). */
  trainingSeconds: z.number().nullable(),
  /** Milliseconds to classify one image: a baseline's measured pipeline (feature extraction, as measured when the features were computed, plus the classifier); a network's pass over every item after training (InferenceTiming); null when not recorded. */
  inferenceMsPerImage: z.number().nullable(),
  /** Numbers the model keeps: a network's parameters (frozen ones included); a baseline's backbone up to its node, standardizer, PCA and classifier (BaselineReport.parameters). */
  parameters: z.number().int().nullable(),
});
export type PipelineRow = z.infer<typeof PipelineRowSchema>;

/** Macro-F1 of a confusion matrix counts[true][predicted]; null when it counts nothing. */
export function macroF1(counts: readonly (readonly number[])[]): number | null {
  const K = counts.length;
  const f1: number[] = [];
  for (let k = 0; k < K; k++) {
    const tp = counts[k][k];
    let predicted = 0;
    let actual = 0;
    for (let j = 0; j < K; j++) {
      predicted += counts[j][k];
      actual += counts[k][j];
    }
    if (predicted === 0 && actual === 0) continue;
    f1.push(tp === 0 ? 0 : (2 * tp) / (predicted + actual));
  }
  return f1.length ? f1.reduce((a, b) => a + b, 0) / f1.length : null;
}

/**
 * What a network run's final prediction pass took (`<run>/inference.json`, src/engine/predict.ts):
 * wall seconds per image of preprocessing + forward pass + softmax over every pack item in
 * batches of `batchSize` on `backend`, model compilation included.
 */
/** Name of that file in a run's folder. */
export const INFERENCE_FILE = 'inference.json';

export const InferenceTimingSchema = z.object({
  secondsPerImage: z.number().nonnegative(),
  images: z.number().int().nonnegative(),
  batchSize: z.number().int().positive(),
  backend: z.string(),
});
export type InferenceTiming = z.infer<typeof InferenceTimingSchema>;
