/**
 * Run specifications: plain JSON, validated by zod, stored whole with each run.
 *
 * The model is a graph of named nodes (./layers.ts: the schemas, ./graph.ts: shapes and
 * parameters, ./presets.ts: the lecture's networks), re-exported here.
 * Names follow Keras / TensorFlow.js (`conv2d`, `filters`, `kernelSize`, `strides`,
 * `padding`, `batchNormalization`, `dropout.rate`, `learningRate`) and PyTorch for the
 * learning-rate schedules (`StepLR.stepSize/gamma`, `ExponentialLR.gamma`), Keras for
 * early stopping and reduce-on-plateau (`monitor`, `patience`, `minDelta`, `mode`, `factor`).
 * Tensors are NHWC everywhere. The model outputs logits; the loss is softmax
 * cross-entropy computed from logits.
 */
import { ADVERSARIAL_DEFAULTS, AdversarialTrainingSpecSchema } from './attack';
import { z } from 'zod';
import { fieldPath, SpecError, zodField } from './errors';
import { describeModel } from './graph';
import { ModelSpecSchema } from './layers';
import { checkPretrained, PretrainedSpecSchema } from './pretrained';
import { MONITOR_METRICS } from './metrics';

export * from './layers';
export * from './graph';
export { buildPreset, type PresetOptions } from './presets';
export { SpecError } from './errors';

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** The learning rate every optimizer takes (tfjs `learningRate`); `initial`: where a form starts it (defaultLearningRate). */
const learningRate = (initial: number) => z.number().gt(0).max(10).meta({ label: 'Learning rate', initial });
const momentum = (d: number) => z.number().min(0).lt(1).default(d).meta({ label: 'Momentum' });
const epsilon = () => z.number().gt(0).default(1e-7).meta({ label: 'ε', description: 'added to the denominator for numerical stability' });

export const OptimizerSpecSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('sgd'), learningRate: learningRate(defaultLearningRate('sgd')) }).strict().meta({ label: 'SGD' }),
    z.object({ type: z.literal('momentum'), learningRate: learningRate(defaultLearningRate('momentum')), momentum: momentum(0.9) }).strict().meta({ label: 'SGD with momentum' }),
    z
      .object({ type: z.literal('rmsprop'), learningRate: learningRate(defaultLearningRate('rmsprop')), rho: z.number().gt(0).lt(1).default(0.9).meta({ label: 'Rho', description: 'decay of the squared-gradient average' }), momentum: momentum(0), epsilon: epsilon() })
      .strict()
      .meta({ label: 'RMSProp' }),
    z
      .object({
        type: z.literal('adam'),
        learningRate: learningRate(defaultLearningRate('adam')),
        beta1: z.number().gt(0).lt(1).default(0.9).meta({ label: 'β₁' }),
        beta2: z.number().gt(0).lt(1).default(0.999).meta({ label: 'β₂' }),
        epsilon: epsilon(),
      })
      .strict()
      .meta({ label: 'Adam' }),
  ])
  .meta({ label: 'Optimizer' });
export type OptimizerSpec = z.infer<typeof OptimizerSpecSchema>;

/** The metric an epoch is judged by (early stopping, the best epoch, reduce-on-plateau). */
function monitorSchema(initial: (typeof MONITOR_METRICS)[number]) {
  return z
    .enum(MONITOR_METRICS)
    .default(initial)
    .meta({ label: 'Monitor', optionLabels: { val_loss: 'Val loss', val_accuracy: 'Val accuracy', train_loss: 'Train loss', train_accuracy: 'Train accuracy' } });
}

/**
 * Early stopping and the best epoch (Keras EarlyStopping with restore_best_weights): an
 * epoch improves on the best so far when `monitor` is better by more than `minDelta` (lower
 * for losses, higher for accuracies under mode 'auto'); training stops after `patience`
 * epochs without improvement (0: never stops early). With `restoreBest` the test metrics,
 * predictions and confusion matrix come from the best epoch's weights, else from the last.
 */
export const EarlyStoppingSpecSchema = z
  .object({
    monitor: monitorSchema('val_accuracy'),
    patience: int(0, 1000).default(0).meta({ label: 'Patience', unit: 'epochs', description: '0 = never stop early' }),
    minDelta: z.number().min(0).default(0).meta({ label: 'Min delta', step: 0.001 }),
    mode: z.enum(['auto', 'min', 'max']).default('auto').meta({ label: 'Better is', optionLabels: { auto: 'Auto', min: 'Lower', max: 'Higher' } }),
    restoreBest: z.boolean().default(true).meta({ label: 'Test the best epoch' }),
  })
  .strict()
  .meta({ label: 'Early stopping' });
export type EarlyStoppingSpec = z.infer<typeof EarlyStoppingSpecSchema>;

/** Learning-rate schedule, applied per epoch (epoch counted from 0). */
export const LearningRateScheduleSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('constant') }).strict().meta({ label: 'Constant' }),
    /** lr = learningRate · gamma^floor(epoch / stepSize)  (PyTorch StepLR). */
    z
      .object({ type: z.literal('step'), stepSize: int(1, 10000).meta({ label: 'Step size', unit: 'epochs', initial: 1 }), gamma: z.number().gt(0).max(1).meta({ label: 'Gamma', initial: 0.5, step: 0.05 }) })
      .strict()
      .meta({ label: 'Step (StepLR)' }),
    /** lr = learningRate · gamma^epoch  (PyTorch ExponentialLR). */
    z.object({ type: z.literal('exponential'), gamma: z.number().gt(0).max(1).meta({ label: 'Gamma', initial: 0.9, step: 0.05 }) }).strict().meta({ label: 'Exponential (ExponentialLR)' }),
    /** Linear warm-up, then one cosine half-period down to minLearningRate by the last epoch (Loshchilov & Hutter 2017, eq. 5); see learningRateAt. */
    z
      .object({
        type: z.literal('cosine'),
        warmupEpochs: int(0, 1000).default(0).meta({ label: 'Warm-up', unit: 'epochs' }),
        minLearningRate: z.number().min(0).max(10).default(0).meta({ label: 'Final learning rate', step: 0.0001 }),
      })
      .strict()
      .meta({ label: 'Cosine with warm-up' }),
    /** Multiply the rate by `factor` when `monitor` has not improved by more than minDelta for `patience` epochs (Keras ReduceLROnPlateau, no cooldown). */
    z
      .object({
        type: z.literal('plateau'),
        monitor: monitorSchema('val_loss'),
        factor: z.number().gt(0).lt(1).default(0.1).meta({ label: 'Factor', step: 0.05 }),
        patience: int(1, 1000).default(2).meta({ label: 'Patience', unit: 'epochs' }),
        minDelta: z.number().min(0).default(0).meta({ label: 'Min delta', step: 0.001 }),
        minLearningRate: z.number().min(0).max(10).default(0).meta({ label: 'Lowest learning rate', step: 0.0001 }),
      })
      .strict()
      .meta({ label: 'Reduce on plateau' }),
  ])
  .meta({ label: 'LR schedule' });
export type LearningRateSchedule = z.infer<typeof LearningRateScheduleSchema>;

/** Augmentation applied to training batches only. Pixel values are scaled to [0, 1] before noise. */
export const AugmentationSpecSchema = z
  .object({
    horizontalFlip: z.boolean().default(false).meta({ label: 'Horizontal flip', description: 'mirror left–right; assumes mirror-symmetric classes (not digits, letters or text)' }),
    /** Random shift as a fraction of height/width, in [0, 0.5] (Keras RandomTranslation factor). */
    randomTranslation: z.number().min(0).max(0.5).default(0).meta({ label: 'Random translation', unit: 'fraction', step: 0.05 }),
    /** Standard deviation of additive Gaussian noise on [0, 1] pixels (Keras GaussianNoise). */
    gaussianNoise: z.number().min(0).max(1).default(0).meta({ label: 'Gaussian noise σ', step: 0.01 }),
  })
  .strict()
  .meta({ label: 'Augmentation' });

/**
 * The one set of run defaults: the schema fills them in, and the New-run form
 * (src/renderer/lib/runForm.ts) and the `layerwise train` flags start from them.
 */
export const RUN_DEFAULTS = {
  optimizer: 'adam',
  batchSize: 64,
  epochs: 2,
  seed: 42,
  maxTrainSamples: 0,
  backend: 'auto',
} as const;

/** The default learning rate of an optimizer: 0.01 for SGD and momentum, 0.001 for RMSprop and Adam (the Keras defaults). */
export function defaultLearningRate(type: 'sgd' | 'momentum' | 'rmsprop' | 'adam'): number {
  return type === 'sgd' || type === 'momentum' ? 0.01 : 0.001;
}

export const TrainingSpecSchema = z
  .object({
    optimizer: OptimizerSpecSchema,
    learningRateSchedule: LearningRateScheduleSchema.default({ type: 'constant' }),
    batchSize: int(1, 4096).default(RUN_DEFAULTS.batchSize).meta({ label: 'Batch size' }),
    epochs: int(1, 1000).default(RUN_DEFAULTS.epochs).meta({ label: 'Epochs' }),
    /** L1 and L2 penalties added to the loss for every kernel: l1·Σ|w| + l2·Σw². */
    regularization: z
      .object({ l1: z.number().min(0).max(1).default(0).meta({ label: 'L1', step: 0.0001 }), l2: z.number().min(0).max(1).default(0).meta({ label: 'L2', step: 0.0001 }) })
      .strict()
      .default({ l1: 0, l2: 0 })
      .meta({ label: 'Regularization' }),
    augmentation: AugmentationSpecSchema.default({ horizontalFlip: false, randomTranslation: 0, gaussianNoise: 0 }),
    /** Cap on training samples per epoch (0 = all); for quick experiments. */
    maxTrainSamples: int(0, 100_000_000).default(RUN_DEFAULTS.maxTrainSamples).meta({ label: 'Max train samples', description: '0 = all', step: 1000 }),
    earlyStopping: EarlyStoppingSpecSchema.default({ monitor: 'val_accuracy', patience: 0, minDelta: 0, mode: 'auto', restoreBest: true }),
    /** Zhang et al. 2017, "Understanding deep learning requires rethinking generalization", §2: the training labels replaced by a seeded permutation of themselves (val and test keep theirs). */
    randomLabels: z.boolean().default(false).meta({ label: 'Random labels', description: 'train on a seeded shuffle of the training labels (memorization): val accuracy stays at chance, and fitting the shuffled train labels takes many epochs (tens to hundreds; Zhang et al. 2017) without regularization' }),
    /** FGSM / PGD-k examples mixed into training batches, and the robust accuracy metric (./attack.ts). */
    adversarial: AdversarialTrainingSpecSchema.default(ADVERSARIAL_DEFAULTS),
  })
  .strict();
export type TrainingSpec = z.infer<typeof TrainingSpecSchema>;

export const BackendChoiceSchema = z.enum(['auto', 'gpu', 'cpu']).meta({ label: 'Backend', optionLabels: { auto: 'Auto', gpu: 'GPU', cpu: 'CPU' } });
export type BackendChoice = z.infer<typeof BackendChoiceSchema>;

/** Everything needed to reproduce a run. */
export const RunSpecSchema = z
  .object({
    datasetId: z.number().int().positive().meta({ label: 'Dataset' }),
    model: ModelSpecSchema,
    training: TrainingSpecSchema,
    seed: int(0, 2 ** 31 - 1).default(RUN_DEFAULTS.seed).meta({ label: 'Seed' }),
    backend: BackendChoiceSchema.default(RUN_DEFAULTS.backend),
    /** A pre-trained backbone the model starts from (./pretrained.ts): weights file, input range, freeze point; absent: weights initialised from seed. */
    pretrained: PretrainedSpecSchema.optional(),
  })
  .strict();
export type RunSpec = z.infer<typeof RunSpecSchema>;
export type RunSpecInput = z.input<typeof RunSpecSchema>;

/**
 * Learning rate at a 0-based `epoch` of `epochs` under a schedule. Cosine: during the
 * `warmupEpochs` w, linear warm-up lr = base·(e+1)/(w+1) (Goyal et al. 2017, §2.2, per
 * epoch); then lr = min + ½(base − min)(1 + cos(π·(e − w)/(epochs − w))) (Loshchilov &
 * Hutter 2017, SGDR eq. 5, one period of T = epochs − w epochs, no restart), so the first
 * epoch after warm-up has the base rate. Plateau: the base rate (the engine lowers it as
 * the monitored metric stalls; src/engine/schedules.ts).
 */
export function learningRateAt(base: number, schedule: LearningRateSchedule, epoch: number, epochs: number): number {
  switch (schedule.type) {
    case 'constant':
    case 'plateau':
      return base;
    case 'step':
      return base * Math.pow(schedule.gamma, Math.floor(epoch / schedule.stepSize));
    case 'exponential':
      return base * Math.pow(schedule.gamma, epoch);
    case 'cosine': {
      const w = schedule.warmupEpochs;
      if (epoch < w) return (base * (epoch + 1)) / (w + 1);
      const period = Math.max(1, epochs - w);
      const min = schedule.minLearningRate;
      return min + 0.5 * (base - min) * (1 + Math.cos((Math.PI * Math.min(epoch - w, period)) / period));
    }
  }
}

/** Format a zod error as one line per issue, each naming the field path ("training.batchSize: ..."). */
export function formatZodError(err: z.ZodError, root = ''): string {
  return err.issues
    .map((iss) => {
      return `${fieldPath(iss.path, root) || '(root)'}: ${iss.message}`;
    })
    .join('\n');
}

/**
 * Parse and check a run spec: schema, then model shapes.
 * @returns the spec with defaults filled in.
 * @throws SpecError whose message and `field` name the offending field.
 */
export function parseRunSpec(input: unknown): RunSpec {
  const r = RunSpecSchema.safeParse(input);
  if (!r.success) throw new SpecError(formatZodError(r.error), zodField(r.error));
  describeModel(r.data.model);
  if (r.data.pretrained) checkPretrained(r.data.model, r.data.pretrained);
  return r.data;
}
