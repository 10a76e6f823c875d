/**
 * A pre-trained backbone in a run spec (issue 13): which file the weights come from, the
 * input preprocessing the backbone was trained with, and where the network is frozen; and
 * the model spec of a fine-tune — the file's graph up to its last global pooling node, a new
 * head for the dataset's classes (`head/dropout` when asked, then `logits`).
 *
 * Where to freeze follows the lecture's transfer-learning guideline: data like ImageNet →
 * freeze most convolutions and train the top; data unlike it → freeze only the lower ones
 * (Yosinski et al. 2014, "How transferable are features in deep neural networks?": early
 * features are general, late ones specific). `freezeUpTo` names the last frozen node (graph
 * order); the engine sets every node up to it untrainable (src/engine/pretrained.ts).
 *
 * The batch normalization of the TFLite MobileNets is folded into their convolution weights
 * and biases by the converter: the backbone has no batch-norm nodes, so nothing of it is
 * updated by statistics either (`foldedBatchNorm`).
 *
 * Zod and ./layers, ./errors only (no file access: main reads the file, the engine its weights).
 */
import { z } from 'zod';
import { SpecError } from './errors';
import { NodeNameSchema, type GraphModelSpec, type NodeSpec } from './layers';

/** Input ranges a backbone may expect (the engine's preprocess ranges, src/engine/preprocess.ts). */
export const InputRangeSchema = z.enum(['unit', 'symmetric']).meta({ label: 'Input range', optionLabels: { unit: '[0, 1]  (x / 255)', symmetric: '[−1, 1]  (x / 127.5 − 1)' } });
export type InputRange = z.infer<typeof InputRangeSchema>;

/** The freeze choices offered: the guideline's two, the feature extractor, and none. */
export const FreezeChoiceSchema = z.enum(['likeImagenet', 'unlikeImagenet', 'features', 'none']).meta({
  label: 'Freeze',
  optionLabels: { likeImagenet: 'Data like ImageNet: freeze most convolutions, train the top', unlikeImagenet: 'Data unlike ImageNet: freeze only the lower convolutions', features: 'Feature extractor: train only the new head', none: 'Train every layer' },
});
export type FreezeChoice = z.infer<typeof FreezeChoiceSchema>;

export const PretrainedSpecSchema = z
  .object({
    /** 'tflite': a TFLite file; 'tfjs': a Layerwise TF.js export (`file` its model.json, signature.json and weights beside it). */
    format: z.enum(['tflite', 'tfjs']),
    /** The model file as given (a path main resolves; the engine reads it). */
    file: z.string().min(1).meta({ label: 'Model file' }),
    /** SHA-256 (hex) of the file, so that a run names exactly the weights it started from. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    /** The backbone's name, e.g. "mobilenet_v1_0.5_160_quant" (the file name without extension). */
    backbone: z.string().min(1).max(200).meta({ label: 'Backbone' }),
    /** How pixels become the backbone's inputs: every uint8 value x → x/255 ('unit') or x/127.5 − 1 ('symmetric'), after the pack's resize. */
    inputRange: InputRangeSchema,
    /** How images are resized to the input: 'cover' = scaled to cover h × w, centre crop (the pack's rule, src/main/services/pack.ts). */
    resize: z.literal('cover').default('cover'),
    /** The last frozen node (graph order); null = every node trains. */
    freezeUpTo: NodeNameSchema.nullable().meta({ label: 'Freeze up to' }),
    /** The node the new head reads (the backbone's last global pooling). */
    featureNode: NodeNameSchema,
    /** True when batch normalization is folded into the backbone's convolutions (TFLite files). */
    foldedBatchNorm: z.boolean().default(true),
    /**
     * Per dataset class (in class order), the class of the file's own classifier whose weights
     * start the new head's column (`matchClasses`); absent: the head starts from the seed. Starting
     * from the zero-shot classifier and then fine-tuning is LP-FT's point (Kumar et al. 2022,
     * "Fine-tuning can distort pretrained features…", §4): a random head's first gradients distort the features.
     */
    headInit: z.array(z.number().int().min(0)).min(1).optional().meta({ label: 'Head from the file\'s classes' }),
  })
  .strict()
  .meta({ label: 'Pre-trained backbone' });
export type PretrainedSpec = z.infer<typeof PretrainedSpecSchema>;

const isConv = (n: NodeSpec): boolean => n.layer.type === 'conv2d' || n.layer.type === 'depthwiseConv2d';

/**
 * Where a fine-tune's new head goes on a backbone graph: the index of its last global pooling
 * node (the MobileNets, ResNets, an exported graph model); in a network without one (LeNet-5,
 * an MLP, exported from a run and read back), the node the final classifier reads — the output
 * node must then be a dense layer with one input, dropout before it skipped, so the new head
 * takes the old one's place and has its input width. -1 when neither applies.
 */
function headCut(backbone: GraphModelSpec): number {
  let cut = -1;
  backbone.nodes.forEach((n, i) => {
    if (n.layer.type === 'globalAveragePooling2d' || n.layer.type === 'globalMaxPooling2d') cut = i;
  });
  if (cut >= 0) return cut;
  const byName = new Map(backbone.nodes.map((n, i) => [n.name, i]));
  const out = backbone.nodes[byName.get(backbone.output ?? '') ?? backbone.nodes.length - 1];
  if (out?.layer.type !== 'dense' || out.inputs.length !== 1) return -1;
  let at = byName.get(out.inputs[0]) ?? -1;
  while (at >= 0 && backbone.nodes[at].layer.type === 'dropout' && backbone.nodes[at].inputs.length === 1) at = byName.get(backbone.nodes[at].inputs[0]) ?? -1;
  return at;
}

/**
 * A fine-tune's model spec from a backbone graph: its nodes up to and including the feature
 * node (the last global pooling node; without one, the node the final dense classifier reads:
 * headCut), then `head/dropout` (when dropoutRate > 0) and a dense `logits` with numClasses
 * units (glorot-uniform kernel, zero bias: the engine's initialisation).
 * @param backbone a graph spec as a model reader gives it (src/shared/models/tflite: the ImageNet classifier after the pooling; src/shared/models/tfjs: an exported run)
 * @returns the spec and the feature node's name
 * @throws SpecError (field "model") when the graph has neither a global pooling node nor a dense classifier as its output.
 */
export function fineTuneSpec(backbone: GraphModelSpec, numClasses: number, dropoutRate = 0): { spec: GraphModelSpec; featureNode: string } {
  const cut = headCut(backbone);
  if (cut < 0) throw new SpecError('model: the backbone has no global pooling node and no dense classifier at its output to put a new head on', 'model');
  const nodes = backbone.nodes.slice(0, cut + 1);
  const featureNode = nodes[cut].name;
  let last = featureNode;
  if (dropoutRate > 0) {
    nodes.push({ name: 'head/dropout', layer: { type: 'dropout', rate: dropoutRate }, inputs: [last] });
    last = 'head/dropout';
  }
  nodes.push({ name: 'logits', layer: { type: 'dense', units: numClasses, activation: 'linear', useBias: true, kernelInitializer: 'glorotUniform' }, inputs: [last] });
  return { spec: { preset: 'custom', inputShape: backbone.inputShape, numClasses, nodes, output: 'logits' }, featureNode };
}

/**
 * The last node to freeze for a choice, on a fine-tune spec whose head follows `featureNode`:
 * - 'features': the feature node (only the head trains);
 * - 'likeImagenet': the node before the last two convolutions (MobileNet's last depthwise-separable block — depthwise + pointwise — and the head train);
 * - 'unlikeImagenet': the last node of the lower third of the convolutions (counted from the input);
 * - 'none': null.
 * @throws SpecError (field "pretrained.featureNode") when featureNode is not a node of the spec.
 */
export function freezePoint(spec: GraphModelSpec, featureNode: string, choice: FreezeChoice): string | null {
  const at = spec.nodes.findIndex((n) => n.name === featureNode);
  if (at < 0) throw new SpecError(`pretrained.featureNode: "${featureNode}" is not a node of the model`, 'pretrained.featureNode');
  if (choice === 'none') return null;
  if (choice === 'features') return featureNode;
  const convs = spec.nodes.slice(0, at + 1).map((n, i) => (isConv(n) ? i : -1)).filter((i) => i >= 0);
  if (convs.length === 0) return null;
  const index = choice === 'likeImagenet' ? convs[Math.max(0, convs.length - 2)] - 1 : convs[Math.max(0, Math.ceil(convs.length / 3) - 1)];
  return index >= 0 ? spec.nodes[index].name : null;
}

/**
 * Names of the frozen nodes: every node of the spec up to and including `freezeUpTo`, in
 * node order; none for null.
 * @throws SpecError (field "pretrained.freezeUpTo") when freezeUpTo names no node.
 */
export function frozenNodes(spec: GraphModelSpec, freezeUpTo: string | null): string[] {
  if (freezeUpTo === null) return [];
  const at = spec.nodes.findIndex((n) => n.name === freezeUpTo);
  if (at < 0) throw new SpecError(`pretrained.freezeUpTo: "${freezeUpTo}" is not a node of the model`, 'pretrained.freezeUpTo');
  return spec.nodes.slice(0, at + 1).map((n) => n.name);
}

/**
 * Check a run's pretrained part against its model: a graph spec whose freeze point and feature node are nodes of it.
 * @throws SpecError naming the field.
 */
export function checkPretrained(model: { nodes?: NodeSpec[] }, p: PretrainedSpec): void {
  if (!model.nodes) throw new SpecError('pretrained: a pre-trained backbone needs a graph model (nodes)', 'pretrained');
  const spec = model as GraphModelSpec;
  frozenNodes(spec, p.freezeUpTo);
  if (!spec.nodes.some((n) => n.name === p.featureNode)) throw new SpecError(`pretrained.featureNode: "${p.featureNode}" is not a node of the model`, 'pretrained.featureNode');
}

/** A class or label name reduced for matching: lower case, letters and digits, a plural's s / es dropped. */
function nameKey(name: string): string {
  const k = name.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
  return k.replace(/(ch|sh|x|s)es$/, '$1').replace(/([^s])s$/, '$1');
}

/**
 * The class of a classifier's label list each dataset class matches: a label line matches
 * when one of its comma-separated names equals the class name, up to case, punctuation and
 * a plural s / es ("ants" → "ant, emmet, pismire"; "bees" → "bee", not "bee eater").
 * @param labels one name per classifier output (ImageNet's 1,001 lines, index 0 = background)
 * @returns per class the label index, or null when none or more than one label matches
 */
export function matchClasses(classNames: readonly string[], labels: readonly string[]): (number | null)[] {
  const byKey = new Map<string, number[]>();
  labels.forEach((line, i) => {
    for (const name of line.split(',')) {
      const key = nameKey(name);
      if (!key) continue;
      const list = byKey.get(key) ?? [];
      if (!list.includes(i)) list.push(i);
      byKey.set(key, list);
    }
  });
  return classNames.map((c) => {
    const hits = byKey.get(nameKey(c)) ?? [];
    return hits.length === 1 ? hits[0] : null;
  });
}

/** The fewest optimizer steps per epoch the fine-tune defaults aim for (fineTuneTraining). */
export const FINE_TUNE_MIN_STEPS = 12;
/** The smallest batch size fineTuneTraining picks. */
export const FINE_TUNE_MIN_BATCH = 8;

/**
 * The training defaults of a fine-tune (issue 13), from the from-scratch defaults: the learning
 * rate ten times smaller (Adam 1e-3 → 1e-4: the pre-trained weights are near a good minimum, a
 * from-scratch rate's first steps distort them; Kumar et al. 2022 §4, the Keras transfer-learning
 * guide's lower rate for fine-tuning), and the batch size lowered to the largest power of two
 * giving at least FINE_TUNE_MIN_STEPS steps per epoch on `trainCount` images (at least
 * FINE_TUNE_MIN_BATCH, at most the default): 245 photos → 16 (15 steps), not 64 (4 steps).
 * @param trainCount the training images per epoch; null when unknown (the batch size stays)
 * @param defaults the from-scratch batch size and learning rate (RUN_DEFAULTS, defaultLearningRate)
 * @returns the fine-tune's batch size and learning rate, and a line saying why
 */
export function fineTuneTraining(trainCount: number | null, defaults: { batchSize: number; learningRate: number }): { batchSize: number; learningRate: number; note: string } {
  const learningRate = defaults.learningRate / 10;
  let batchSize = defaults.batchSize;
  if (trainCount !== null && trainCount > 0 && Math.ceil(trainCount / batchSize) < FINE_TUNE_MIN_STEPS) {
    batchSize = FINE_TUNE_MIN_BATCH;
    while (batchSize * 2 <= defaults.batchSize && Math.ceil(trainCount / (batchSize * 2)) >= FINE_TUNE_MIN_STEPS) batchSize *= 2;
    batchSize = Math.min(batchSize, defaults.batchSize);
  }
  const steps = trainCount !== null && trainCount > 0 ? `, ${Math.ceil(trainCount / batchSize)} steps per epoch on ${trainCount} training images` : '';
  return { batchSize, learningRate, note: `fine-tune defaults: learning rate ${learningRate} (a tenth of ${defaults.learningRate}), batch size ${batchSize}${steps}` };
}
