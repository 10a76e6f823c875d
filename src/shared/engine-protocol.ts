/**
 * Messages between main and an engine process (Electron utility process or
 * child_process.fork; same JSON messages over `process.parentPort` / `process.send`).
 * The engine never opens SQLite: main persists everything it receives.
 */
import { z } from 'zod';
import { RunSpecSchema } from './spec';

/** One training step: epoch (0-based) of epochs, global 0-based step of totalSteps, its mini-batch loss, throughput in samples/s, estimated seconds left. */
export const StepProgressShape = {
  epoch: z.number().int(),
  epochs: z.number().int(),
  step: z.number().int(),
  totalSteps: z.number().int(),
  loss: z.number(),
  samplesPerSec: z.number(),
  etaSeconds: z.number(),
};

export const TrainJobSchema = z.object({
  type: z.literal('train'),
  runId: z.number().int().positive(),
  spec: RunSpecSchema,
  /** Folder of a packed dataset (see pack.ts). */
  packDir: z.string(),
  /** Folder for checkpoints: `<outDir>/epoch-<n>/model.json` + weights (TF.js layers format). */
  outDir: z.string(),
});
export type TrainJob = z.infer<typeof TrainJobSchema>;

export const MainToEngineSchema = z.discriminatedUnion('type', [TrainJobSchema, z.object({ type: z.literal('cancel') })]);
export type MainToEngine = z.infer<typeof MainToEngineSchema>;

export const EngineToMainSchema = z.discriminatedUnion('type', [
  /** Backend initialised: 'webgpu' | 'wasm' | 'cpu', plus adapter / thread details. */
  z.object({ type: z.literal('ready'), backend: z.string(), detail: z.string().optional() }),
  /** One training step: global 0-based step, its mini-batch loss, throughput in samples/s. */
  z.object({
    type: z.literal('progress'),
    /** Mini-batch losses of every step since the previous progress message, the last one being `step` (messages are throttled; no step is lost). */
    stepLosses: z.array(z.number()).optional(),
  }).extend(StepProgressShape),
  /** End of an epoch (0-based). Accuracies are fractions in [0, 1]. val* are null when there is no validation split. */
  z.object({
    type: z.literal('metrics'),
    epoch: z.number().int(),
    trainLoss: z.number(),
    trainAccuracy: z.number(),
    valLoss: z.number().nullable(),
    valAccuracy: z.number().nullable(),
    learningRate: z.number(),
    seconds: z.number(),
  }),
  z.object({ type: z.literal('checkpoint'), epoch: z.number().int(), path: z.string() }),
  /**
   * After the last epoch, before `done`: softmax probabilities of the final model for every
   * pack item, in pack order, as little-endian float32 `count × numClasses` in `path`
   * (`<outDir>/predictions.f32`). Val and test rows are out-of-sample; train rows are not.
   */
  z.object({ type: z.literal('predictions'), path: z.string(), count: z.number().int(), numClasses: z.number().int() }),
  /** Finished: test metrics are null when the dataset has no test split. */
  z.object({ type: z.literal('done'), testLoss: z.number().nullable(), testAccuracy: z.number().nullable(), samplesPerSec: z.number(), cancelled: z.boolean() }),
  z.object({ type: z.literal('failed'), error: z.string() }),
]);
export type EngineToMain = z.infer<typeof EngineToMainSchema>;
