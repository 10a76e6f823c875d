/**
 * ModelSpec → tf.LayersModel, the loss from logits and the weight penalty.
 *
 * The model takes float32 images in [0, 1], NHWC [batch, height, width, channels]
 * (uint8 pixels / 255: ./preprocess.ts, range 'unit') and outputs logits [batch, numClasses]; softmax
 * lives in the loss.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { GraphNode, Initializer, ModelSpec } from '../shared/spec';
import { describeModel, INPUT_NAME, toGraph, zeroPaddingSides } from '../shared/spec';
import { batchNormTraining, nativeBatchNormActivationAvailable, nativeBatchNormTrainingAvailable, type BatchNormActivation } from './kernels/batch-norm';
import { deriveSeed } from './random';

type BatchNormLayer = ReturnType<typeof tfl.layers.batchNormalization>;
type BatchNormArgs = Parameters<typeof tfl.layers.batchNormalization>[0];
/** The fields of tfjs-layers' BatchNormalization we read (protected / private there). */
interface BatchNormInternals {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tfl.LayerVariable;
  beta: tfl.LayerVariable;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}

/**
 * A factory of a subclass of the tfjs-layers class of `probe()`'s instance, the subclass built on first use: the layer
 * classes are not exported by tfjs-layers' entry point, so the base is taken from an instance. The subclass inherits
 * the static className, so saved topologies name the stock class.
 */
function layerSubclass<A, L>(probe: () => L, extend: (Base: new (a: A) => L) => new (a: A) => L): (args: A) => L {
  let cls: (new (a: A) => L) | undefined;
  return (args) => {
    cls ??= extend(Object.getPrototypeOf(probe()).constructor as new (a: A) => L);
    return new cls(args);
  };
}

/**
 * Outputs of training-mode batch-norm calls that already carry their consumer's ReLU / ReLU6
 * (see fusedActivationPairs): the activation layer passes such a tensor through.
 */
const activatedOutputs = new WeakSet<tf.Tensor>();
/** The activation a batch-norm layer applies itself in training (set by buildModel on a fused pair). */
const fusedActivationOf = new WeakMap<tfl.layers.Layer, BatchNormActivation>();

/**
 * tfjs-layers' BatchNormalization whose training-mode call, on the wasm backend with the
 * native addon, is one native kernel with a one-kernel gradient (src/engine/kernels/batch-norm.ts)
 * instead of tf.moments + tf.batchNorm and their ≈ 20-op gradient. Same weights (gamma, beta,
 * moving_mean, moving_variance, built by the stock build()), same class name in the saved
 * topology (the static className is inherited), same moving-average update as the stock
 * layer (v ← v − (v − batch value)·(1 − momentum), biased batch variance). Inference, other
 * backends, the addon off, no gamma/beta or another axis than the last: the stock call.
 */
const nativeBatchNormalization = layerSubclass<BatchNormArgs, BatchNormLayer>(
  () => tfl.layers.batchNormalization({ name: 'lw_bn_probe' }),
  (Base) =>
    class NativeBatchNormalization extends Base {
      override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const self = this as unknown as BatchNormInternals;
        const axis = self.axis >= 0 ? self.axis : self.axis + x.rank;
        if (kwargs.training !== true || axis !== x.rank - 1 || !self.center || !self.scale || !nativeBatchNormTrainingAvailable(x)) return super.call(inputs, kwargs);
        const fused = fusedActivationOf.get(this as unknown as tfl.layers.Layer);
        const act: BatchNormActivation = fused && nativeBatchNormActivationAvailable() ? fused : 'linear';
        return tf.tidy(() => {
          const { y, mean, variance } = batchNormTraining(x, self.gamma.read(), self.beta.read(), self.epsilon, act);
          if (act !== 'linear') activatedOutputs.add(y);
          // The stock layer's doMovingAverage, op for op.
          for (const [v, value] of [
            [self.movingMean, mean],
            [self.movingVariance, variance],
          ] as const) {
            tf.tidy(() => {
              const orig = v.read();
              v.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - self.momentum)));
            });
          }
          return y;
        });
      }
    },
);

type Conv2DLayer = ReturnType<typeof tfl.layers.conv2d>;
type Conv2DArgs = Parameters<typeof tfl.layers.conv2d>[0];
/** The fields of tfjs-layers' Conv2D we read (protected there). */
interface Conv2DInternals {
  kernel: tfl.LayerVariable;
  bias: tfl.LayerVariable | null;
  strides: [number, number];
  padding: 'same' | 'valid';
  dilationRate: [number, number];
  dataFormat: string;
  activation: { getClassName(): string };
}

/**
 * tfjs-layers' Conv2D for a conv that reads the model's input: without bias and activation it
 * calls tf.conv2d instead of tf.fused.conv2d. The fused op's gradient is one custom gradient that
 * computes the input's gradient as well, even for the image, which no one needs (M4's first conv:
 * a 64×128×128×3 Conv2DBackpropInput, ≈ 9 ms of a ≈ 250 ms step); tf.conv2d's per-input gradients
 * let autograd skip it. Same result (the same conv kernel), class name, config and weights.
 */
const imageConv2D = layerSubclass<Conv2DArgs, Conv2DLayer>(
  () => tfl.layers.conv2d({ name: 'lw_conv_probe', filters: 1, kernelSize: 1 }),
  (Base) =>
    class ImageConv2D extends Base {
      override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
        const self = this as unknown as Conv2DInternals;
        if (self.bias || self.activation.getClassName() !== 'linear' || self.dataFormat !== 'channelsLast') return super.call(inputs, kwargs);
        const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
        return tf.conv2d(x, self.kernel.read() as tf.Tensor4D, self.strides, self.padding, 'NHWC', self.dilationRate);
      }
    },
);

type ActivationLayer = ReturnType<typeof tfl.layers.activation>;
type ActivationArgs = Parameters<typeof tfl.layers.activation>[0];

/**
 * tfjs-layers' Activation layer that returns its input as it is when the batch-norm layer before
 * it has already applied the activation (a training-mode call of a fused pair, `activatedOutputs`),
 * else the stock call. Same class name, config and (no) weights as the stock layer.
 */
const passThroughActivation = layerSubclass<ActivationArgs, ActivationLayer>(
  () => tfl.layers.activation({ name: 'lw_act_probe', activation: 'linear' }),
  (Base) =>
    class PassThroughActivation extends Base {
      override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        return activatedOutputs.has(x) ? x : super.call(inputs, kwargs);
      }
    },
);

/**
 * Batch-norm nodes whose only consumer is a ReLU / ReLU6 activation node (conv → BN → ReLU:
 * every block of VGG-, ResNet- and MobileNet-style nets), by BN node name → activation node name.
 * In training, such a BN layer applies the activation in its own kernel (one pass each way
 * instead of two, src/engine/kernels/batch-norm.ts) and the activation layer passes its input
 * through; the model keeps both nodes, and inference runs them as written. LAYERWISE_BN_FUSE=0:
 * no pairs (A/B).
 */
export function fusedActivationPairs(nodes: readonly GraphNode[], output: string): Map<string, string> {
  const pairs = new Map<string, string>();
  if (process.env.LAYERWISE_BN_FUSE === '0') return pairs;
  const consumers = new Map<string, GraphNode[]>();
  for (const n of nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  for (const n of nodes) {
    if (n.layer.type !== 'batchNormalization' || n.name === output) continue;
    const c = consumers.get(n.name) ?? [];
    if (c.length !== 1 || c[0].inputs.length !== 1) continue;
    const a = c[0].layer;
    if (a.type === 'activation' && (a.activation === 'relu' || a.activation === 'relu6')) pairs.set(n.name, c[0].name);
  }
  return pairs;
}

const initializer = (kind: Initializer, seed: number): ReturnType<typeof tfl.initializers.glorotUniform> =>
  kind === 'heNormal'
    ? // He et al. 2015, "Delving deep into rectifiers", §2.2: std √(2/fan_in), drawn as Keras draws it: a normal
      // truncated at 2σ whose σ is divided by 0.87962566103423978 (the std of a unit normal truncated at ±2), so the
      // draws have std √(2/fan_in). tfjs' heNormal leaves the correction out (std 0.88·√(2/fan_in)); hence the scale.
      tfl.initializers.varianceScaling({ scale: 2 / 0.87962566103423978 ** 2, mode: 'fanIn', distribution: 'normal', seed })
    : // Glorot & Bengio 2010, "Understanding the difficulty of training deep feedforward neural networks", §4.2, eq. 16 (Keras' default).
      tfl.initializers.glorotUniform({ seed });

/** The tfjs layer of one graph node, named as the node; weights seeded from (seed, node.kernelSeedKey). */
function buildLayer(node: GraphNode, seed: number): tfl.layers.Layer {
  const { name, layer } = node;
  const kernelSeed = deriveSeed(seed, 'kernel', node.kernelSeedKey);
  switch (layer.type) {
    case 'conv2d':
      return (node.inputs.length === 1 && node.inputs[0] === INPUT_NAME ? imageConv2D : tfl.layers.conv2d)({
        name,
        filters: layer.filters,
        kernelSize: layer.kernelSize,
        strides: layer.strides,
        padding: layer.padding,
        activation: layer.activation,
        useBias: layer.useBias,
        kernelInitializer: initializer(layer.kernelInitializer, kernelSeed),
        biasInitializer: 'zeros',
      });
    case 'depthwiseConv2d':
      return tfl.layers.depthwiseConv2d({
        name,
        kernelSize: layer.kernelSize,
        strides: layer.strides,
        padding: layer.padding,
        depthMultiplier: layer.depthMultiplier,
        activation: layer.activation,
        useBias: layer.useBias,
        depthwiseInitializer: initializer(layer.depthwiseInitializer, kernelSeed),
        biasInitializer: 'zeros',
      });
    case 'maxPooling2d':
      return tfl.layers.maxPooling2d({ name, poolSize: layer.poolSize, strides: layer.strides ?? layer.poolSize, padding: layer.padding });
    case 'averagePooling2d':
      return tfl.layers.averagePooling2d({ name, poolSize: layer.poolSize, strides: layer.strides ?? layer.poolSize, padding: layer.padding });
    case 'globalAveragePooling2d':
      return tfl.layers.globalAveragePooling2d({ name });
    case 'globalMaxPooling2d':
      return tfl.layers.globalMaxPooling2d({ name });
    case 'zeroPadding2d':
      return tfl.layers.zeroPadding2d({ name, padding: zeroPaddingSides(layer.padding) });
    case 'dense':
      return tfl.layers.dense({ name, units: layer.units, activation: layer.activation, useBias: layer.useBias, kernelInitializer: initializer(layer.kernelInitializer, kernelSeed), biasInitializer: 'zeros' });
    case 'flatten':
      return tfl.layers.flatten({ name });
    case 'dropout':
      // The seed is replaced before every training step (setDropoutSeeds): a fixed seed
      // would draw the same mask at every step.
      return tfl.layers.dropout({ name, rate: layer.rate, seed: deriveSeed(seed, 'dropout', node.kernelSeedKey) });
    case 'batchNormalization':
      return nativeBatchNormalization({ name, momentum: layer.momentum, epsilon: layer.epsilon });
    case 'activation':
      if (layer.activation === 'leakyRelu') return tfl.layers.leakyReLU({ name, alpha: layer.alpha ?? 0.3 });
      return tfl.layers.activation({ name, activation: layer.activation });
    case 'add':
      return tfl.layers.add({ name });
    case 'concatenate':
      return tfl.layers.concatenate({ name, axis: -1 });
  }
}

/** Dropout seed keys of a built model's layers, by layer name (see setDropoutSeeds). */
const dropoutKeys = new WeakMap<tfl.LayersModel, Map<string, string>>();

/**
 * Build the network of a ModelSpec as a tfjs functional model (`tf.model`) with exactly the
 * graph's nodes (./../shared/graph.ts toGraph: a layer list's implicit flatten is a node
 * there), each tfjs layer named as its node; weights initialised from `seed` (same seed →
 * same weights; a layer list seeds as the layer-list code did, so stored runs rebuild identically).
 * Input [batch, h, w, c] float32 in [0, 1]; output logits [batch, numClasses].
 * @throws SpecError (from describeModel) when the graph does not fit the input or does not end in numClasses logits.
 */
export function buildModel(spec: ModelSpec, seed: number): tfl.LayersModel {
  describeModel(spec);
  const graph = toGraph(spec);
  const input = tfl.input({ name: INPUT_NAME, shape: spec.inputShape });
  const tensors = new Map<string, tfl.SymbolicTensor>([[INPUT_NAME, input]]);
  const keys = new Map<string, string>();
  const pairs = fusedActivationPairs(graph.nodes, graph.output);
  const pairedActivations = new Set(pairs.values());
  for (const node of graph.nodes) {
    const ins = node.inputs.map((n) => tensors.get(n) as tfl.SymbolicTensor);
    const layer =
      pairedActivations.has(node.name) && node.layer.type === 'activation' ? passThroughActivation({ name: node.name, activation: node.layer.activation as 'relu' | 'relu6' }) : buildLayer(node, seed);
    const act = pairs.get(node.name);
    if (act) fusedActivationOf.set(layer, (graph.nodes.find((n) => n.name === act)!.layer as { activation: BatchNormActivation }).activation);
    const out = layer.apply(ins.length === 1 ? ins[0] : ins) as tfl.SymbolicTensor;
    tensors.set(node.name, out);
    keys.set(node.name, node.dropoutSeedKey);
  }
  const model = tfl.model({ name: 'layerwise', inputs: input, outputs: tensors.get(graph.output) as tfl.SymbolicTensor });
  dropoutKeys.set(model, keys);
  return model;
}

/** Kernels of conv2d and dense layers: the weights the L1/L2 penalty covers (not biases, not batch-norm). */
export function penalisedKernels(model: tfl.LayersModel): tf.Variable[] {
  const out: tf.Variable[] = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls !== 'Conv2D' && cls !== 'Dense') continue;
    for (const w of layer.trainableWeights) if (/kernel/.test(w.originalName)) out.push(w.read() as tf.Variable);
  }
  return out;
}

/** The model's trainable variables, in layer order. */
export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * Give every dropout layer a fresh seed for the next step, derived from (seed, step), so
 * masks differ between steps yet a run is reproducible.
 */
export function setDropoutSeeds(model: tfl.LayersModel, seed: number, step: number): void {
  const keys = dropoutKeys.get(model);
  model.layers.forEach((layer, i) => {
    if (layer.getClassName() === 'Dropout') (layer as unknown as { seed: number }).seed = deriveSeed(seed, 'dropout-step', keys?.get(layer.name) ?? i, step);
  });
}

/**
 * Mean softmax cross-entropy computed from logits, −(1/B)·Σ_b log softmax(z_b)[y_b]
 * (Bishop 2006, "Pattern Recognition and Machine Learning", §4.3.4, eq. 4.108), through
 * log-softmax so no probability is clipped.
 * @param logits [batch, numClasses]
 * @param labels [batch] int32 class indices
 * @returns scalar loss (nats)
 */
export function crossEntropyFromLogits(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const onehot = tf.oneHot(labels, logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}

/**
 * Weight penalty l1·Σ|w| + l2·Σw² over `kernels` (Goodfellow et al. 2016, "Deep Learning",
 * §7.1.1 eq. 7.2 and §7.1.2 eq. 7.18). Returns null when both coefficients are 0.
 */
export function weightPenalty(kernels: tf.Variable[], l1: number, l2: number): tf.Scalar | null {
  if ((l1 === 0 && l2 === 0) || kernels.length === 0) return null;
  return tf.tidy(() => {
    let total = tf.scalar(0);
    for (const w of kernels) {
      if (l1 > 0) total = tf.add(total, tf.mul(l1, tf.sum(tf.abs(w))));
      if (l2 > 0) total = tf.add(total, tf.mul(l2, tf.sum(tf.square(w))));
    }
    return total as tf.Scalar;
  });
}
