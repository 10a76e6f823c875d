/**
 * Messages between main and an engine process (Electron utility process or
 * child_process.fork; same JSON messages over `process.parentPort` / `process.send`).
 * The engine never opens SQLite: main persists everything it receives.
 */
import { z } from 'zod';
import { ExportFormatSchema } from './export';
import { EngineInspectOpSchema } from './inspect';
import { LrRangeParamsSchema } from './lr-range';
import { InputRangeSchema } from './pretrained';
import { BaselineRunSpecSchema } from './run-kinds';
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
  /** Resume after 0-based epoch `epoch` from `<outDir>/epoch-<epoch>/` (weights, optimizer state, train-state.json); absent: start fresh. */
  resume: z.object({ epoch: z.number().int().min(0) }).optional(),
});
export type TrainJob = z.infer<typeof TrainJobSchema>;

/**
 * A job on a stored checkpoint (issue 10): load `<checkpointDir>/model.json` (src/engine/checkpoint.ts readCheckpoint),
 * answer `op` (src/engine/inspect.ts), reply `jobProgress`… then `jobResult` (or `jobCancelled`, or `failed`), exit.
 */
export const InspectJobSchema = z.object({
  type: z.literal('inspect'),
  jobId: z.number().int().positive(),
  checkpointDir: z.string(),
  op: EngineInspectOpSchema,
  /** The model's input range (a pre-trained backbone's, e.g. [−1, 1]; src/engine/pretrained.ts inputRangeOf); images are preprocessed into it (absent: [0, 1]). */
  inputRange: InputRangeSchema.optional(),
});
export type InspectJob = z.infer<typeof InspectJobSchema>;

/** An adversarial-example job on a checkpoint (src/engine/attack.ts): the pack to attack and the attack's own params (validated there). Replies as `inspect`. */
export const AttackJobSchema = z.object({
  type: z.literal('attack'),
  jobId: z.number().int().positive(),
  checkpointDir: z.string(),
  packDir: z.string(),
  params: z.record(z.string(), z.unknown()),
});
export type AttackJob = z.infer<typeof AttackJobSchema>;

/** `probe`: report whether a usable (hardware) GPU adapter exists (answered with `probe`), then exit; no training. */
/** The learning-rate range test (./lr-range.ts) of `spec` on the pack in `packDir`: `jobProgress` per step, then `jobResult` (an LrRangeResult) or `jobCancelled`. */
export const LrRangeJobSchema = z.object({ type: z.literal('lrRange'), jobId: z.number().int().positive(), spec: RunSpecSchema, packDir: z.string(), params: LrRangeParamsSchema });
export type LrRangeJob = z.infer<typeof LrRangeJobSchema>;

/** The augmentation preview (./augment-preview.ts) of `spec`'s first `count` training images: `jobResult` (an AugmentPreview). */
export const AugmentPreviewJobSchema = z.object({ type: z.literal('augmentPreview'), jobId: z.number().int().positive(), spec: RunSpecSchema, packDir: z.string(), count: z.number().int().min(1).max(64) });
export type AugmentPreviewJob = z.infer<typeof AugmentPreviewJobSchema>;

/**
 * Issue 13: write a checkpoint as an ONNX or TF.js model with signature.json into `outDir`
 * (src/engine/export), replying `jobResult` { files, signature }.
 */
export const ExportJobSchema = z.object({
  type: z.literal('export'),
  jobId: z.number().int().positive(),
  checkpointDir: z.string(),
  spec: RunSpecSchema,
  format: ExportFormatSchema,
  outDir: z.string(),
  runId: z.number().int().positive(),
  epoch: z.number().int().min(0),
  classNames: z.array(z.string()),
});
export type ExportJob = z.infer<typeof ExportJobSchema>;

/** Issue 13: class probabilities of images (uint8 HWC at the model's input shape, base64, decoded by main as the pack decodes) through a checkpoint; `jobResult` { probabilities: number[][] }. */
export const ClassifyJobSchema = z.object({
  type: z.literal('classify'),
  jobId: z.number().int().positive(),
  checkpointDir: z.string(),
  spec: RunSpecSchema,
  images: z.array(z.string()).min(1),
});
export type ClassifyJob = z.infer<typeof ClassifyJobSchema>;

/**
 * Issue 11: a features or classic run (src/engine/baseline/job.ts) on the pack in `packDir`, its features cached in
 * `cacheDir`; replies as a train job (`metrics` for epoch 0, `predictions`, `done`) with `jobProgress` between.
 */
export const BaselineJobSchema = z.object({
  type: z.literal('baseline'),
  runId: z.number().int().positive(),
  spec: BaselineRunSpecSchema,
  packDir: z.string(),
  outDir: z.string(),
  cacheDir: z.string(),
});
export type BaselineJob = z.infer<typeof BaselineJobSchema>;

export const MainToEngineSchema = z.discriminatedUnion('type', [TrainJobSchema, BaselineJobSchema, InspectJobSchema, AttackJobSchema, LrRangeJobSchema, AugmentPreviewJobSchema, ExportJobSchema, ClassifyJobSchema, z.object({ type: z.literal('cancel') }), z.object({ type: z.literal('probe') })]);
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
    /** Accuracy under PGD at the spec's training.adversarial.robustEpsilon on validation images; absent when not measured. */
    valRobustAccuracy: z.number().nullable().optional(),
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
  /** `testedEpoch`: the 0-based epoch whose weights gave the test metrics and predictions (the best by the early-stopping monitor, else the last); `stoppedEarly`: early stopping ended training before its last epoch. */
  z.object({
    type: z.literal('done'),
    testLoss: z.number().nullable(),
    testAccuracy: z.number().nullable(),
    samplesPerSec: z.number(),
    cancelled: z.boolean(),
    testedEpoch: z.number().int().nullable().optional(),
    stoppedEarly: z.boolean().optional(),
  }),
  z.object({ type: z.literal('failed'), error: z.string() }),
  /** An inspect / attack job's progress: `done` of `total` units of `phase` (e.g. images, ε values). */
  z.object({ type: z.literal('jobProgress'), phase: z.string(), done: z.number(), total: z.number() }),
  /** An inspect / attack job's answer (main checks it against the job kind's result schema), then the engine exits. */
  z.object({ type: z.literal('jobResult'), result: z.unknown() }),
  /** The job stopped on `cancel` before its answer. */
  z.object({ type: z.literal('jobCancelled') }),
  /** Answer to `probe`: whether a usable GPU adapter exists (software adapters count only with LAYERWISE_ALLOW_SOFTWARE_GPU=1); `detail` names it, or says why there is none. */
  z.object({ type: z.literal('probe'), gpu: z.boolean(), detail: z.string() }),
]);
export type EngineToMain = z.infer<typeof EngineToMainSchema>;
