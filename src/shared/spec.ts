/**
 * Run specifications: plain JSON, validated by zod, stored whole with each run.
 *
 * Names follow Keras / TensorFlow.js (`conv2d`, `filters`, `kernelSize`, `strides`,
 * `padding`, `batchNormalization`, `dropout.rate`, `learningRate`) and PyTorch for the
 * learning-rate schedules (`StepLR.stepSize/gamma`, `ExponentialLR.gamma`).
 * Tensors are NHWC everywhere. The model outputs logits; the loss is softmax
 * cross-entropy computed from logits.
 */
import { z } from 'zod';

export const PaddingSchema = z.enum(['same', 'valid']);
export const ActivationSchema = z.enum(['linear', 'relu', 'tanh', 'sigmoid']);

const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const Conv2DLayerSchema = z
  .object({
    type: z.literal('conv2d'),
    filters: int(1, 4096),
    kernelSize: int(1, 15),
    strides: int(1, 8).default(1),
    padding: PaddingSchema.default('valid'),
    activation: ActivationSchema.default('relu'),
    useBias: z.boolean().default(true),
  })
  .strict();
export const MaxPooling2DLayerSchema = z
  .object({ type: z.literal('maxPooling2d'), poolSize: int(1, 8).default(2), strides: int(1, 8).optional(), padding: PaddingSchema.default('valid') })
  .strict();
export const AveragePooling2DLayerSchema = z
  .object({ type: z.literal('averagePooling2d'), poolSize: int(1, 8).default(2), strides: int(1, 8).optional(), padding: PaddingSchema.default('valid') })
  .strict();
export const DenseLayerSchema = z
  .object({ type: z.literal('dense'), units: int(1, 65536), activation: ActivationSchema.default('linear'), useBias: z.boolean().default(true) })
  .strict();
export const FlattenLayerSchema = z.object({ type: z.literal('flatten') }).strict();
export const DropoutLayerSchema = z.object({ type: z.literal('dropout'), rate: z.number().min(0).lt(1) }).strict();
export const BatchNormalizationLayerSchema = z
  .object({ type: z.literal('batchNormalization'), momentum: z.number().gt(0).lt(1).default(0.99), epsilon: z.number().gt(0).max(1).default(1e-3) })
  .strict();
export const ActivationLayerSchema = z.object({ type: z.literal('activation'), activation: ActivationSchema }).strict();

export const LayerSpecSchema = z.discriminatedUnion('type', [
  Conv2DLayerSchema,
  MaxPooling2DLayerSchema,
  AveragePooling2DLayerSchema,
  DenseLayerSchema,
  FlattenLayerSchema,
  DropoutLayerSchema,
  BatchNormalizationLayerSchema,
  ActivationLayerSchema,
]);
export type LayerSpec = z.infer<typeof LayerSpecSchema>;

export const PresetNameSchema = z.enum(['linear', 'mlp', 'lenet5', 'custom']);
export type PresetName = z.infer<typeof PresetNameSchema>;

/** A network as a layer list. `inputShape` is [height, width, channels] in pixels (NHWC without N). */
export const ModelSpecSchema = z
  .object({
    preset: PresetNameSchema.default('custom'),
    inputShape: z.tuple([int(4, 1024), int(4, 1024), z.union([z.literal(1), z.literal(3)])]),
    numClasses: int(2, 10000),
    layers: z.array(LayerSpecSchema).min(1).max(200),
  })
  .strict();
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

export const OptimizerSpecSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('sgd'), learningRate: z.number().gt(0).max(10) }).strict(),
  z.object({ type: z.literal('momentum'), learningRate: z.number().gt(0).max(10), momentum: z.number().min(0).lt(1).default(0.9) }).strict(),
  z
    .object({ type: z.literal('rmsprop'), learningRate: z.number().gt(0).max(10), rho: z.number().gt(0).lt(1).default(0.9), momentum: z.number().min(0).lt(1).default(0), epsilon: z.number().gt(0).default(1e-7) })
    .strict(),
  z
    .object({ type: z.literal('adam'), learningRate: z.number().gt(0).max(10), beta1: z.number().gt(0).lt(1).default(0.9), beta2: z.number().gt(0).lt(1).default(0.999), epsilon: z.number().gt(0).default(1e-7) })
    .strict(),
]);
export type OptimizerSpec = z.infer<typeof OptimizerSpecSchema>;

/** Learning-rate schedule, applied per epoch (epoch counted from 0). */
export const LearningRateScheduleSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('constant') }).strict(),
  /** lr = learningRate · gamma^floor(epoch / stepSize)  (PyTorch StepLR). */
  z.object({ type: z.literal('step'), stepSize: int(1, 10000), gamma: z.number().gt(0).max(1) }).strict(),
  /** lr = learningRate · gamma^epoch  (PyTorch ExponentialLR). */
  z.object({ type: z.literal('exponential'), gamma: z.number().gt(0).max(1) }).strict(),
]);
export type LearningRateSchedule = z.infer<typeof LearningRateScheduleSchema>;

/** Augmentation applied to training batches only. Pixel values are scaled to [0, 1] before noise. */
export const AugmentationSpecSchema = z
  .object({
    horizontalFlip: z.boolean().default(false),
    /** Random shift as a fraction of height/width, in [0, 0.5] (Keras RandomTranslation factor). */
    randomTranslation: z.number().min(0).max(0.5).default(0),
    /** Standard deviation of additive Gaussian noise on [0, 1] pixels (Keras GaussianNoise). */
    gaussianNoise: z.number().min(0).max(1).default(0),
  })
  .strict();

export const TrainingSpecSchema = z
  .object({
    optimizer: OptimizerSpecSchema,
    learningRateSchedule: LearningRateScheduleSchema.default({ type: 'constant' }),
    batchSize: int(1, 4096),
    epochs: int(1, 1000),
    /** L1 and L2 penalties added to the loss for every kernel: l1·Σ|w| + l2·Σw². */
    regularization: z.object({ l1: z.number().min(0).max(1).default(0), l2: z.number().min(0).max(1).default(0) }).strict().default({ l1: 0, l2: 0 }),
    augmentation: AugmentationSpecSchema.default({ horizontalFlip: false, randomTranslation: 0, gaussianNoise: 0 }),
    /** Cap on training samples per epoch (0 = all); for quick experiments. */
    maxTrainSamples: int(0, 100_000_000).default(0),
  })
  .strict();
export type TrainingSpec = z.infer<typeof TrainingSpecSchema>;

export const BackendChoiceSchema = z.enum(['auto', 'gpu', 'cpu']);
export type BackendChoice = z.infer<typeof BackendChoiceSchema>;

/** Everything needed to reproduce a run. */
export const RunSpecSchema = z
  .object({
    datasetId: z.number().int().positive(),
    model: ModelSpecSchema,
    training: TrainingSpecSchema,
    seed: int(0, 2 ** 31 - 1),
    backend: BackendChoiceSchema.default('auto'),
  })
  .strict();
export type RunSpec = z.infer<typeof RunSpecSchema>;
export type RunSpecInput = z.input<typeof RunSpecSchema>;

export interface PresetOptions {
  inputShape: [number, number, 1 | 3];
  numClasses: number;
  /** Hidden units of the MLP: one or two layers. Default [128]. */
  hiddenUnits?: number[];
  /** Dropout rate before each hidden dense layer; 0 = no dropout layer. */
  dropoutRate?: number;
  /** Insert batchNormalization after each conv / hidden dense, before its activation. */
  batchNormalization?: boolean;
}

/**
 * Build the layer list of a preset.
 * - linear: flatten → dense(numClasses)  (softmax regression; softmax lives in the loss)
 * - mlp: flatten → [dense(h) → relu]×1..2 → dense(numClasses)
 * - lenet5: conv 5×5 6 same → relu → maxpool 2 → conv 5×5 16 valid → relu → maxpool 2 →
 *   flatten → dense 120 → relu → dense 84 → relu → dense numClasses
 *   (LeCun et al. 1998, "Gradient-based learning applied to document recognition", with ReLU and max-pooling).
 * @throws Error when the preset is unknown or `hiddenUnits` has not 1 or 2 entries.
 */
export function buildPreset(name: Exclude<PresetName, 'custom'>, opts: PresetOptions): ModelSpec {
  const bn = opts.batchNormalization ?? false;
  const rate = opts.dropoutRate ?? 0;
  const layers: LayerSpec[] = [];
  const hidden = (units: number): void => {
    if (rate > 0) layers.push({ type: 'dropout', rate });
    layers.push({ type: 'dense', units, activation: bn ? 'linear' : 'relu', useBias: !bn });
    if (bn) layers.push({ type: 'batchNormalization', momentum: 0.99, epsilon: 1e-3 }, { type: 'activation', activation: 'relu' });
  };
  const conv = (filters: number, padding: 'same' | 'valid'): void => {
    layers.push({ type: 'conv2d', filters, kernelSize: 5, strides: 1, padding, activation: bn ? 'linear' : 'relu', useBias: !bn });
    if (bn) layers.push({ type: 'batchNormalization', momentum: 0.99, epsilon: 1e-3 }, { type: 'activation', activation: 'relu' });
    layers.push({ type: 'maxPooling2d', poolSize: 2, padding: 'valid' });
  };
  switch (name) {
    case 'linear':
      layers.push({ type: 'flatten' });
      break;
    case 'mlp': {
      const units = opts.hiddenUnits ?? [128];
      if (units.length < 1 || units.length > 2) throw new Error('hiddenUnits: the MLP preset takes one or two hidden layers');
      layers.push({ type: 'flatten' });
      units.forEach(hidden);
      if (rate > 0) layers.push({ type: 'dropout', rate });
      break;
    }
    case 'lenet5':
      conv(6, 'same');
      conv(16, 'valid');
      layers.push({ type: 'flatten' });
      hidden(120);
      hidden(84);
      if (rate > 0) layers.push({ type: 'dropout', rate });
      break;
    default:
      throw new Error(`preset: unknown preset "${String(name)}"`);
  }
  layers.push({ type: 'dense', units: opts.numClasses, activation: 'linear', useBias: true });
  return { preset: name, inputShape: opts.inputShape, numClasses: opts.numClasses, layers };
}

/** Output size of a convolution or pooling along one axis: (N + 2z − P)/s + 1 (lecture), rounded down; 'same' gives ceil(N/s). */
export function convOutputSize(n: number, p: number, s: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(n / s) : Math.floor((n - p) / s) + 1;
}

/** Parameters of a conv2d layer: (P·P·d + 1)·K with bias (lecture), P·P·d·K without. */
export function conv2dParams(kernelSize: number, inChannels: number, filters: number, useBias = true): number {
  return (kernelSize * kernelSize * inChannels + (useBias ? 1 : 0)) * filters;
}

export interface LayerShapeInfo {
  layer: LayerSpec;
  outputShape: number[];
  params: number;
}

/**
 * Output shape and parameter count of every layer, for display and for refusing a
 * spec whose spatial size collapses to zero.
 * @throws Error naming `model.layers[i]` when a layer's output would be empty or a
 *   conv/pooling layer follows flatten.
 */
export function describeModel(model: ModelSpec): LayerShapeInfo[] {
  let shape: number[] = [...model.inputShape];
  const out: LayerShapeInfo[] = [];
  model.layers.forEach((layer, i) => {
    let params = 0;
    const spatial = (): [number, number, number] => {
      if (shape.length !== 3) throw new Error(`model.layers[${i}]: ${layer.type} needs an image input (height, width, channels), got [${shape.join(', ')}]`);
      return shape as [number, number, number];
    };
    switch (layer.type) {
      case 'conv2d': {
        const [h, w, c] = spatial();
        shape = [convOutputSize(h, layer.kernelSize, layer.strides, layer.padding), convOutputSize(w, layer.kernelSize, layer.strides, layer.padding), layer.filters];
        params = conv2dParams(layer.kernelSize, c, layer.filters, layer.useBias);
        break;
      }
      case 'maxPooling2d':
      case 'averagePooling2d': {
        const [h, w, c] = spatial();
        const s = layer.strides ?? layer.poolSize;
        shape = [convOutputSize(h, layer.poolSize, s, layer.padding), convOutputSize(w, layer.poolSize, s, layer.padding), c];
        break;
      }
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'dense': {
        const inUnits = shape[shape.length - 1];
        if (shape.length !== 1) shape = [shape.reduce((a, b) => a * b, 1)];
        params = (shape[0] ?? inUnits) * layer.units + (layer.useBias ? layer.units : 0);
        shape = [layer.units];
        break;
      }
      case 'batchNormalization':
        params = 4 * (shape[shape.length - 1] ?? 0);
        break;
      default:
        break;
    }
    if (shape.some((d) => !(d >= 1))) throw new Error(`model.layers[${i}]: ${layer.type} output would be empty (shape [${shape.join(', ')}]); use a larger input or 'same' padding`);
    out.push({ layer, outputShape: [...shape], params });
  });
  const last = shape[shape.length - 1];
  if (shape.length !== 1 || last !== model.numClasses) {
    throw new Error(`model.layers: the last layer must output numClasses (${model.numClasses}) logits, got shape [${shape.join(', ')}]`);
  }
  return out;
}

/** Learning rate at a 0-based epoch under a schedule. */
export function learningRateAt(base: number, schedule: LearningRateSchedule, epoch: number): number {
  switch (schedule.type) {
    case 'constant':
      return base;
    case 'step':
      return base * Math.pow(schedule.gamma, Math.floor(epoch / schedule.stepSize));
    case 'exponential':
      return base * Math.pow(schedule.gamma, epoch);
  }
}

/** Format a zod error as one line per issue, each naming the field path ("training.batchSize: ..."). */
export function formatZodError(err: z.ZodError, root = ''): string {
  return err.issues
    .map((iss) => {
      const path = [root, ...iss.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))].filter(Boolean).join('.').replace(/\.\[/g, '[');
      return `${path || '(root)'}: ${iss.message}`;
    })
    .join('\n');
}

/**
 * Parse and check a run spec: schema, then model shapes.
 * @returns the spec with defaults filled in.
 * @throws SpecError whose message names the offending field.
 */
export function parseRunSpec(input: unknown): RunSpec {
  const r = RunSpecSchema.safeParse(input);
  if (!r.success) throw new SpecError(formatZodError(r.error));
  try {
    describeModel(r.data.model);
  } catch (e) {
    throw new SpecError((e as Error).message.replace(/^model\./, 'model.'));
  }
  return r.data;
}

export class SpecError extends Error {
  override name = 'SpecError';
}
