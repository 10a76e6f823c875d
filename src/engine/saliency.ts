/**
 * Saliency: which input pixels, or which places of a node's feature maps, a class score
 * depends on. Scores are the logits y_c (before softmax), as in all three papers.
 *  - Vanilla gradient (Simonyan, Vedaldi & Zisserman 2014, "Deep inside convolutional
 *    networks", §3.1): M_ij = max_k |∂y_c/∂x_ijk|.
 *  - SmoothGrad (Smilkov et al. 2017, "SmoothGrad: removing noise by adding noise", eq. 3):
 *    the gradient averaged over n copies x + N(0, σ²), σ = noise level × (x_max − x_min); then
 *    the same map.
 *  - Grad-CAM (Selvaraju et al. 2017, "Grad-CAM: visual explanations from deep networks via
 *    gradient-based localization", eqs. 1–2): α_k = (1/Z) Σ_ij ∂y_c/∂A^k_ij,
 *    L = ReLU(Σ_k α_k A^k), bilinearly upsampled to the input size.
 * Images are float32 NHWC in the model's input range; every function works on a batch, each
 * image with its own class.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyWithOffset, type ModelNode } from './model-graph';
import { Rng } from './random';

/** Σ_b y_{b, classes[b]} of a batch of logits [n, numClasses]. */
function pickedScore(logits: tf.Tensor, classes: number[]): tf.Scalar {
  const oneHot = tf.oneHot(tf.tensor1d(classes, 'int32'), logits.shape[1] as number);
  return tf.sum(tf.mul(logits, oneHot));
}

/**
 * ∂y_{b, classes[b]}/∂x for every image b of `x` ([n, h, w, c]), the model in inference mode.
 * (Images do not interact in inference mode, so the gradient of the summed scores is each image's own.)
 * @returns float32 [n, h, w, c]
 */
export async function inputGradients(model: tfl.LayersModel, x: tf.Tensor4D, classes: number[]): Promise<Float32Array> {
  const g = tf.tidy(() => tf.grad((input: tf.Tensor) => pickedScore(model.apply(input, { training: false }) as tf.Tensor, classes))(x));
  const data = (await g.data()) as Float32Array;
  g.dispose();
  return data;
}

/**
 * SmoothGrad: the mean of `inputGradients` over `samples` noisy copies x + ε, ε ~ N(0, σ²) per
 * value, σ = noise × range (range = x_max − x_min of the model's input range, 1 for [0, 1]),
 * drawn from `seed` (the same seed, the same map).
 * @returns float32 [n, h, w, c]
 */
export async function smoothGradients(
  model: tfl.LayersModel,
  x: tf.Tensor4D,
  classes: number[],
  opts: { samples: number; noise: number; seed: number; range?: number; signal?: AbortSignal },
): Promise<Float32Array> {
  const sigma = opts.noise * (opts.range ?? 1);
  const rng = new Rng(opts.seed);
  const base = (await x.data()) as Float32Array;
  const sum = new Float64Array(base.length);
  const noisy = new Float32Array(base.length);
  for (let s = 0; s < opts.samples; s++) {
    if (opts.signal?.aborted) break;
    for (let i = 0; i < base.length; i++) noisy[i] = base[i] + sigma * rng.normal();
    const xi = tf.tensor4d(noisy, x.shape);
    const g = await inputGradients(model, xi, classes);
    xi.dispose();
    for (let i = 0; i < g.length; i++) sum[i] += g[i];
  }
  return Float32Array.from(sum, (v) => v / opts.samples);
}

/**
 * The saliency map of gradients [n, h, w, c]: per pixel the largest |gradient| over channels (Simonyan 2014 §3.1).
 * @returns float32 [n, h, w]
 */
export function gradientMap(grad: Float32Array, channels: number): Float32Array {
  const out = new Float32Array(grad.length / channels);
  for (let p = 0; p < out.length; p++) {
    let m = 0;
    for (let k = 0; k < channels; k++) m = Math.max(m, Math.abs(grad[p * channels + k]));
    out[p] = m;
  }
  return out;
}

/**
 * Grad-CAM maps of `node` (any node with an [h', w', k] output) for a batch: α_k = mean over
 * h'·w' of ∂y_c/∂A^k, L = ReLU(Σ_k α_k A^k), upsampled to the input's [h, w] by bilinear
 * interpolation (half-pixel centres). The gradient is taken by adding a zero offset to the
 * node's output in an eager walk of the model's graph (model-graph.ts applyWithOffset), so a
 * node inside a residual block works too.
 * @returns the maps, float32 [n, h, w], and the same at the node's resolution [n, h', w']
 * @throws Error when the node is missing or its output is not [h', w', k].
 */
export async function gradCam(model: tfl.LayersModel, nodes: ModelNode[], x: tf.Tensor4D, classes: number[], node: string): Promise<{ maps: Float32Array; coarse: Float32Array; nodeShape: number[] }> {
  const info = nodes.find((n) => n.name === node);
  if (!info) throw new Error(`inspect: the model has no node ${JSON.stringify(node)}`);
  if (info.shape.length !== 3) throw new Error(`inspect: Grad-CAM needs a node with an [h, w, channels] output; ${node} gives [${info.shape.join(', ')}]`);
  const [n, h, w] = x.shape;
  const [coarseT, mapsT] = tf.tidy(() => {
    const offset = tf.zeros([n, ...info.shape]);
    let activation: tf.Tensor | null = null;
    const dOffset = tf.grad((o: tf.Tensor) => {
      const [a, logits] = applyWithOffset(model, nodes, x, node, o);
      activation = tf.keep(a);
      return pickedScore(logits, classes);
    })(offset);
    const alpha = tf.mean(dOffset, [1, 2], true); // [n, 1, 1, k]
    const cam = tf.relu(tf.sum(tf.mul(alpha, activation as unknown as tf.Tensor), 3, true)) as tf.Tensor4D; // [n, h', w', 1]
    (activation as unknown as tf.Tensor).dispose();
    return [tf.reshape(cam, [n, info.shape[0], info.shape[1]]), tf.reshape(tf.image.resizeBilinear(cam, [h, w], false, true), [n, h, w])];
  });
  const [coarse, maps] = [(await coarseT.data()) as Float32Array, (await mapsT.data()) as Float32Array];
  tf.dispose([coarseT, mapsT]);
  return { maps, coarse, nodeShape: info.shape };
}

/**
 * The node Grad-CAM explains by default: the last node with a spatial output larger than 1 × 1
 * (the last convolutional stage, as in Selvaraju 2017 §3), dropout left out (the identity at
 * inference: its input is the same map under its own name); else null.
 */
export function defaultCamNode(nodes: ModelNode[]): string | null {
  for (let i = nodes.length - 1; i > 0; i--) {
    const s = nodes[i].shape;
    if (s.length === 3 && s[0] * s[1] > 1 && nodes[i].type !== 'Dropout') return nodes[i].name;
  }
  return null;
}
