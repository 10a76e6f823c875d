/**
 * Layer configs and the model spec: a graph of named nodes, in the terms of a Keras
 * functional model's config (`layers[i] = { class_name, config, inbound_nodes }` there;
 * `{ name, layer, inputs }` here), with the Keras / TensorFlow.js names for every field
 * (`conv2d`, `filters`, `kernelSize`, `strides`, `padding`, `depthwiseConv2d`,
 * `depthMultiplier`, `batchNormalization`, `dropout.rate`, `useBias`, `kernelInitializer`).
 * Tensors are NHWC; `inputShape` is [height, width, channels] (NHWC without N).
 *
 * Two forms parse: the graph (`nodes`) and the older layer list (`layers`, a chain; every run
 * stored before the graph spec has it). ./graph.ts turns either into the one graph the
 * engine, the tables and the editor use. Zod and ./errors only.
 */
import { z } from 'zod';

export const PaddingSchema = z.enum(['same', 'valid']).meta({ label: 'Padding' });
/** Activations a conv2d, depthwiseConv2d or dense layer applies to its output. */
export const ActivationSchema = z.enum(['linear', 'relu', 'relu6', 'elu', 'tanh', 'sigmoid']).meta({ label: 'Activation' });
/** Activations of the standalone `activation` layer: those above plus leakyRelu (with `alpha`). */
export const ActivationLayerNameSchema = z.enum(['linear', 'relu', 'relu6', 'elu', 'leakyRelu', 'tanh', 'sigmoid']).meta({ label: 'Activation' });
/**
 * Kernel initializers: glorotUniform (Glorot & Bengio 2010, §4.2 eq. 16; the Keras default)
 * and heNormal (He et al. 2015, "Delving deep into rectifiers", §2.2: N(0, 2/fan_in), truncated
 * at 2σ as Keras draws it).
 */
export const InitializerSchema = z.enum(['glorotUniform', 'heNormal']).meta({ label: 'Initializer', optionLabels: { glorotUniform: 'Glorot uniform', heNormal: 'He normal' } });
export type Initializer = z.infer<typeof InitializerSchema>;

const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const Conv2DLayerSchema = z
  .object({
    type: z.literal('conv2d'),
    filters: int(1, 4096).meta({ label: 'Filters' }),
    kernelSize: int(1, 15).meta({ label: 'Kernel size' }),
    strides: int(1, 8).default(1).meta({ label: 'Strides' }),
    padding: PaddingSchema.default('valid'),
    activation: ActivationSchema.default('relu'),
    useBias: z.boolean().default(true).meta({ label: 'Use bias' }),
    kernelInitializer: InitializerSchema.default('glorotUniform').meta({ label: 'Kernel initializer' }),
  })
  .strict()
  .meta({ label: 'Conv2D' });
/** Depthwise convolution: each input channel convolved with `depthMultiplier` own filters (Howard et al. 2017, MobileNets, §3.1); output channels d·m. */
export const DepthwiseConv2DLayerSchema = z
  .object({
    type: z.literal('depthwiseConv2d'),
    kernelSize: int(1, 15).meta({ label: 'Kernel size' }),
    strides: int(1, 8).default(1).meta({ label: 'Strides' }),
    padding: PaddingSchema.default('valid'),
    depthMultiplier: int(1, 64).default(1).meta({ label: 'Depth multiplier' }),
    activation: ActivationSchema.default('linear'),
    useBias: z.boolean().default(true).meta({ label: 'Use bias' }),
    depthwiseInitializer: InitializerSchema.default('glorotUniform').meta({ label: 'Depthwise initializer' }),
  })
  .strict()
  .meta({ label: 'DepthwiseConv2D' });
const poolingFields = () => ({
  poolSize: int(1, 8).default(2).meta({ label: 'Pool size' }),
  strides: int(1, 8).optional().meta({ label: 'Strides', description: 'default: the pool size' }),
  padding: PaddingSchema.default('valid'),
});
export const MaxPooling2DLayerSchema = z
  .object({ type: z.literal('maxPooling2d'), ...poolingFields() })
  .strict()
  .meta({ label: 'MaxPooling2D' });
export const AveragePooling2DLayerSchema = z
  .object({ type: z.literal('averagePooling2d'), ...poolingFields() })
  .strict()
  .meta({ label: 'AveragePooling2D' });
/** Mean over height and width: [h, w, c] → [c] (Lin et al. 2013, "Network in network", §3.2). */
export const GlobalAveragePooling2DLayerSchema = z.object({ type: z.literal('globalAveragePooling2d') }).strict().meta({ label: 'GlobalAveragePooling2D' });
/** Maximum over height and width: [h, w, c] → [c]. */
export const GlobalMaxPooling2DLayerSchema = z.object({ type: z.literal('globalMaxPooling2d') }).strict().meta({ label: 'GlobalMaxPooling2D' });
/**
 * Zeros around the image. `padding`: one integer for all four sides, [rows, cols] for
 * top = bottom and left = right, or [[top, bottom], [left, right]] (Keras ZeroPadding2D).
 */
export const ZeroPadding2DLayerSchema = z
  .object({
    type: z.literal('zeroPadding2d'),
    padding: z
      .union([int(0, 64), z.tuple([int(0, 64), int(0, 64)]), z.tuple([z.tuple([int(0, 64), int(0, 64)]), z.tuple([int(0, 64), int(0, 64)])])])
      .default(1)
      .meta({ label: 'Padding', description: 'n, [rows, cols] or [[top, bottom], [left, right]]' }),
  })
  .strict()
  .meta({ label: 'ZeroPadding2D' });
export const DenseLayerSchema = z
  .object({
    type: z.literal('dense'),
    units: int(1, 65536).meta({ label: 'Units' }),
    activation: ActivationSchema.default('linear'),
    useBias: z.boolean().default(true).meta({ label: 'Use bias' }),
    kernelInitializer: InitializerSchema.default('glorotUniform').meta({ label: 'Kernel initializer' }),
  })
  .strict()
  .meta({ label: 'Dense' });
export const FlattenLayerSchema = z.object({ type: z.literal('flatten') }).strict().meta({ label: 'Flatten' });
export const DropoutLayerSchema = z
  .object({ type: z.literal('dropout'), rate: z.number().min(0).lt(1).meta({ label: 'Dropout rate', step: 0.05 }) })
  .strict()
  .meta({ label: 'Dropout' });
/**
 * Default momentum of batchNormalization's moving mean and variance (the layer form, the presets, the
 * batch-norm knob): 0.9, PyTorch's `momentum=0.1` (its momentum is 1 − ours). After n training steps the
 * start values (mean 0, variance 1) still weigh momentum^n in the moving statistics that evaluation uses
 * (Ioffe & Szegedy 2015, §3.1): Keras's 0.99 leaves 0.99^64 ≈ 53 % after a 64-step run, so a short run
 * is evaluated with wrong statistics; 0.9 leaves 0.9^64 ≈ 0.1 %. Stored specs carry their momentum
 * explicitly and re-run as before.
 */
export const BN_MOMENTUM = 0.9;
/** Training steps after which moving statistics of `momentum` (in (0, 1)) weigh their start values under e^−3 ≈ 5 %: ⌈3 / (1 − momentum)⌉ (0.99 → 300, 0.9 → 30). */
export function bnSettleSteps(momentum: number): number {
  return Math.ceil(3 / (1 - momentum) - 1e-9);
}
/**
 * A warning when a model's batch normalization has not settled: null when it has none, or `steps`
 * (training steps run, an integer ≥ 0) reach bnSettleSteps of its largest momentum; else a sentence
 * naming the momentum and the steps needed.
 */
export function bnUnsettledWarning(model: Pick<ModelSpec, 'nodes' | 'layers'>, steps: number): string | null {
  const layers = model.nodes ? model.nodes.map((n) => n.layer) : (model.layers ?? []);
  let momentum = -1;
  for (const l of layers) if (l.type === 'batchNormalization') momentum = Math.max(momentum, l.momentum);
  if (momentum < 0) return null;
  const need = bnSettleSteps(momentum);
  if (steps >= need) return null;
  return `Batch normalization's moving statistics (momentum ${momentum}) have not settled: ${steps} training step${steps === 1 ? '' : 's'}, about ${need} needed (3 / (1 − momentum)). Validation and test metrics use them, so they read too low; train longer or lower the momentum (0.9 settles in 30).`;
}
export const BatchNormalizationLayerSchema = z
  .object({
    type: z.literal('batchNormalization'),
    momentum: z.number().gt(0).lt(1).default(BN_MOMENTUM).meta({ label: 'Momentum', description: 'of the moving mean and variance' }),
    epsilon: z.number().gt(0).max(1).default(1e-3).meta({ label: 'ε' }),
  })
  .strict()
  .meta({ label: 'BatchNormalization' });
/** A standalone activation. `alpha`: the slope of leakyRelu for x < 0 (Maas et al. 2013), default 0.3 as Keras / TF.js LeakyReLU; ignored by the others. */
export const ActivationLayerSchema = z
  .object({ type: z.literal('activation'), activation: ActivationLayerNameSchema, alpha: z.number().min(0).max(1).optional().meta({ label: 'α', description: 'leakyRelu slope for x < 0 (default 0.3)' }) })
  .strict()
  .meta({ label: 'Activation' });
/** Elementwise sum of two or more inputs of one shape (He et al. 2016, ResNet's identity shortcut, §3.2). */
export const AddLayerSchema = z.object({ type: z.literal('add') }).strict().meta({ label: 'Add' });
/** Inputs joined along the channel (last) axis; all other dimensions equal (Szegedy et al. 2014, GoogLeNet's inception module, §4). */
export const ConcatenateLayerSchema = z.object({ type: z.literal('concatenate'), axis: z.literal(-1).default(-1).meta({ label: 'Axis' }) }).strict().meta({ label: 'Concatenate' });

export const LayerSpecSchema = z.discriminatedUnion('type', [
  Conv2DLayerSchema,
  DepthwiseConv2DLayerSchema,
  MaxPooling2DLayerSchema,
  AveragePooling2DLayerSchema,
  GlobalAveragePooling2DLayerSchema,
  GlobalMaxPooling2DLayerSchema,
  ZeroPadding2DLayerSchema,
  DenseLayerSchema,
  FlattenLayerSchema,
  DropoutLayerSchema,
  BatchNormalizationLayerSchema,
  ActivationLayerSchema,
  AddLayerSchema,
  ConcatenateLayerSchema,
]);
export type LayerSpec = z.infer<typeof LayerSpecSchema>;
export type LayerSpecInput = z.input<typeof LayerSpecSchema>;
export type LayerType = LayerSpec['type'];
/** The layer types that take two or more inputs. */
export const MERGE_TYPES: ReadonlySet<LayerType> = new Set(['add', 'concatenate']);

/** The name of the graph's input; no node may take it. */
export const INPUT_NAME = 'input';
/** A node name: letters, digits, `_ . - /`, starting with a letter or `_`; 1–64 characters. */
export const NodeNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z_][A-Za-z0-9_.\-/]*$/, 'a node name starts with a letter or _ and holds only letters, digits and _ . - /');

/** One node: its name (stable, shown to people, used by Grad-CAM, freezing and comparison), its layer, and the names of the nodes (or 'input') it reads. */
export const NodeSpecSchema = z
  .object({
    name: NodeNameSchema.meta({ label: 'Node name' }),
    layer: LayerSpecSchema.meta({ label: 'Layer' }),
    inputs: z.array(z.string()).min(1).max(64).meta({ label: 'Inputs' }),
  })
  .strict();
export type NodeSpec = z.infer<typeof NodeSpecSchema>;
export type NodeSpecInput = z.input<typeof NodeSpecSchema>;

export const PresetNameSchema = z.enum(['linear', 'mlp', 'lenet5', 'alexnet', 'vgg11', 'vgg16', 'inception', 'resnet20', 'resnet32', 'resnet56', 'mobilenet', 'custom']);
export type PresetName = z.infer<typeof PresetNameSchema>;
/** How each preset is named to people (run names, tables, the form). */
export const PRESET_LABELS: Readonly<Record<PresetName, string>> = {
  linear: 'Linear',
  mlp: 'MLP',
  lenet5: 'LeNet-5',
  alexnet: 'AlexNet-style',
  vgg11: 'VGG-11-style',
  vgg16: 'VGG-16-style',
  inception: 'Inception-style',
  resnet20: 'ResNet-20',
  resnet32: 'ResNet-32',
  resnet56: 'ResNet-56',
  mobilenet: 'MobileNet-style',
  custom: 'Custom',
};

const InputShapeSchema = z
  .tuple([int(4, 1024).meta({ label: 'Input height' }), int(4, 1024).meta({ label: 'Input width' }), z.union([z.literal(1), z.literal(3)]).meta({ label: 'Channels', optionLabels: { 1: '1 (grayscale)', 3: '3 (RGB)' } })])
  .meta({ label: 'Input shape' });

/**
 * A network, in one of two forms (exactly one of `nodes` / `layers`):
 * - `nodes`, the graph: nodes in an order where each node's inputs come before it (the
 *   order of a Keras functional config); the output is the node named by `output`, else the
 *   last node, and must give `numClasses` logits. Nothing is added: the built model has
 *   exactly these nodes.
 * - `layers`, the older layer list, run as a chain; a dense layer right after an image input
 *   gets a flatten (as it always did). Every run stored before the graph spec has this form.
 * ./graph.ts `toGraph` gives the one graph both become.
 */
export const ModelSpecSchema = z
  .object({
    preset: PresetNameSchema.default('custom').meta({ label: 'Preset' }),
    inputShape: InputShapeSchema,
    numClasses: int(2, 10000).meta({ label: 'Classes' }),
    nodes: z.array(NodeSpecSchema).min(1).max(1000).optional(),
    output: NodeNameSchema.optional(),
    layers: z.array(LayerSpecSchema).min(1).max(200).optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if ((m.nodes === undefined) === (m.layers === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['nodes'], message: m.nodes ? 'give either nodes (a graph) or layers (a chain), not both' : 'the model needs nodes (a graph) or layers (a chain)' });
    }
    if (m.output !== undefined && m.nodes === undefined) ctx.addIssue({ code: 'custom', path: ['output'], message: 'output names a node; a layer list has none' });
  })
  .meta({ label: 'Model' });
export type ModelSpec = z.infer<typeof ModelSpecSchema>;
export type ModelSpecInput = z.input<typeof ModelSpecSchema>;
/** A model spec in the graph form. */
export type GraphModelSpec = ModelSpec & { nodes: NodeSpec[]; layers?: undefined };

/** True for the graph form. */
export function isGraphSpec(m: ModelSpec): m is GraphModelSpec {
  return m.nodes !== undefined;
}
