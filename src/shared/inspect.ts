/**
 * What a trained run's model can be asked about (issue 10): its filters and weight
 * histograms, the activations of every node for one image, and saliency maps. The
 * schemas are shared by the API (`inspect.*` in ./api.ts), the engine job (`inspect` in
 * ./engine-protocol.ts) and the run page's Inspect section.
 *
 * Tensors travel as base64 text: kernels as little-endian float32, feature maps as uint8
 * quantized around zero (q = round(v / maxAbs · 127) + 128, so 128 is 0 and the node's
 * range is ±maxAbs), saliency maps as uint8 in [0, 255] relative to the map's maximum.
 */
import { z } from 'zod';

const Id = z.number().int().positive();

/** Saliency methods: Simonyan et al. 2014 (vanilla gradient), Smilkov et al. 2017 (SmoothGrad), Selvaraju et al. 2017 (Grad-CAM). */
export const SaliencyMethodSchema = z.enum(['gradient', 'smoothgrad', 'gradcam']);
export type SaliencyMethod = z.infer<typeof SaliencyMethodSchema>;

/** An image to inspect: a dataset item, or a file's bytes (PNG / JPEG / WebP …, at most 8 MiB as base64). */
export const InspectImageSchema = z.union([z.object({ itemId: Id }).strict(), z.object({ name: z.string().min(1).max(255), dataBase64: z.string().min(1).max(11_200_000) }).strict()]);
export type InspectImage = z.infer<typeof InspectImageSchema>;

/** One question about a model (API form: images named by item or bytes). */
export const InspectOpSchema = z.discriminatedUnion('op', [
  /** Kernels of every convolution (conv2d and depthwiseConv2d) of the checkpoint. */
  z.object({ op: z.literal('filters') }).strict(),
  /** Weight and bias histograms of every layer at every stored epoch, `bins` bins over each weight's range across epochs. */
  z.object({ op: z.literal('histograms'), bins: z.number().int().min(4).max(200).default(40) }).strict(),
  /** Every node's output for one image, and the class scores. */
  z.object({ op: z.literal('activations'), image: InspectImageSchema }).strict(),
  /**
   * Saliency maps of up to 64 images for class `classIndex` (absent: each image's predicted class). `node`: the
   * convolution (any node with a [h, w, c] output) Grad-CAM explains, default the last one with h, w > 1.
   * SmoothGrad: `samples` noisy copies with noise σ = `noise` × the input range (Smilkov 2017 §3: 10–20 %).
   */
  z
    .object({
      op: z.literal('saliency'),
      method: SaliencyMethodSchema,
      images: z.array(InspectImageSchema).min(1).max(64),
      classIndex: z.number().int().min(0).optional(),
      node: z.string().min(1).max(200).optional(),
      samples: z.number().int().min(1).max(200).default(25),
      noise: z.number().min(0).max(1).default(0.15),
      seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    })
    .strict(),
]);
export type InspectOp = z.infer<typeof InspectOpSchema>;
export type InspectOpInput = z.input<typeof InspectOpSchema>;

/** Pixels ready for the model: uint8 HWC at the model's input shape, base64. */
export const PixelsSchema = z.object({ dataBase64: z.string(), label: z.string() });

/** The same op as the engine receives it: every image already decoded by main to the model's input shape. */
export const EngineInspectOpSchema = z.discriminatedUnion('op', [
  InspectOpSchema.options[0],
  InspectOpSchema.options[1].extend({ checkpoints: z.array(z.object({ epoch: z.number().int(), dir: z.string() })) }),
  z.object({ op: z.literal('activations'), image: PixelsSchema }).strict(),
  InspectOpSchema.options[3].extend({ images: z.array(PixelsSchema).min(1).max(64) }),
]);
export type EngineInspectOp = z.infer<typeof EngineInspectOpSchema>;

/** A convolution's kernel, [kernelHeight, kernelWidth, inChannels, filters] (depthwise: [kh, kw, inChannels, depthMultiplier]), float32 base64. */
export const KernelSchema = z.object({
  node: z.string(),
  type: z.enum(['conv2d', 'depthwiseConv2d']),
  shape: z.tuple([z.number().int(), z.number().int(), z.number().int(), z.number().int()]),
  dataBase64: z.string(),
});
export type Kernel = z.infer<typeof KernelSchema>;

/** One weight's histograms: shared edges [min, max] over all epochs, `counts[e][b]` values in bin b at epochs[e]; per epoch mean, std, Σ|w|, √Σw². */
export const WeightHistogramSchema = z.object({
  node: z.string(),
  weight: z.string(),
  shape: z.array(z.number().int()),
  min: z.number(),
  max: z.number(),
  epochs: z.array(z.number().int()),
  counts: z.array(z.array(z.number().int())),
  stats: z.array(z.object({ mean: z.number(), std: z.number(), l1: z.number(), l2: z.number() })),
});
export type WeightHistogram = z.infer<typeof WeightHistogramSchema>;

/** A node's output for one image: `shape` without the batch axis ([h, w, c] or [units]); data quantized around zero (see top). */
export const NodeActivationSchema = z.object({
  node: z.string(),
  /** tfjs layer class (Conv2D, Add, …). */
  type: z.string(),
  inputs: z.array(z.string()),
  /** Longest path from the input, in nodes: nodes of equal depth are drawn side by side (branches). */
  depth: z.number().int(),
  shape: z.array(z.number().int()),
  min: z.number(),
  max: z.number(),
  maxAbs: z.number(),
  dataBase64: z.string(),
});
export type NodeActivation = z.infer<typeof NodeActivationSchema>;

export const ClassScoresSchema = z.object({ logits: z.array(z.number()), probabilities: z.array(z.number()), predicted: z.number().int() });

/** One image's saliency map at input resolution [h, w], uint8 relative to `mapMax` (Grad-CAM: `nodeShape` is the explained node's [h, w, c]). */
export const SaliencyMapSchema = z.object({
  label: z.string(),
  input: z.string(),
  classIndex: z.number().int(),
  scores: ClassScoresSchema,
  map: z.string(),
  mapMax: z.number(),
});

export const InspectResultSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('filters'), epoch: z.number().int(), kernels: z.array(KernelSchema) }),
  z.object({ op: z.literal('histograms'), histograms: z.array(WeightHistogramSchema) }),
  z.object({
    op: z.literal('activations'),
    epoch: z.number().int(),
    /** The model's input shape [h, w, c] and the pixels it saw (uint8 HWC base64); the model read them as x / 255 ∈ [0, 1]. */
    inputShape: z.array(z.number().int()),
    input: z.string(),
    preprocessing: z.string(),
    scores: ClassScoresSchema,
    nodes: z.array(NodeActivationSchema),
  }),
  z.object({
    op: z.literal('saliency'),
    epoch: z.number().int(),
    method: SaliencyMethodSchema,
    inputShape: z.array(z.number().int()),
    /** Grad-CAM: the node explained and its output shape; the convolution nodes it could explain. */
    node: z.string().nullable(),
    nodeShape: z.array(z.number().int()).nullable(),
    convNodes: z.array(z.object({ node: z.string(), shape: z.array(z.number().int()) })),
    maps: z.array(SaliencyMapSchema),
  }),
]);
export type InspectResult = z.infer<typeof InspectResultSchema>;

/** An engine job of a run (inspect; attack, added by its own schemas) as the API reports it. */
export const EngineJobSchema = z.object({
  jobId: Id,
  runId: Id,
  kind: z.enum(['inspect', 'attack']),
  /** The op name (inspect) or the attack method. */
  what: z.string(),
  epoch: z.number().int(),
  status: z.enum(['running', 'completed', 'failed', 'cancelled']),
  phase: z.string(),
  done: z.number(),
  total: z.number(),
  error: z.string().nullable(),
});
export type EngineJob = z.infer<typeof EngineJobSchema>;

/** The checkpoints of a run: epochs (0-based) with a stored checkpoint, and the one used by default (best validation accuracy, else the last). */
export const RunCheckpointsSchema = z.object({ epochs: z.array(z.number().int()), best: z.number().int().nullable(), numClasses: z.number().int(), classNames: z.array(z.string()) });
export type RunCheckpoints = z.infer<typeof RunCheckpointsSchema>;
