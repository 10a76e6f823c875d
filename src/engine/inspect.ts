/**
 * The `inspect` engine job (issue 10): a stored checkpoint's filters, its weight histograms
 * over the run's epochs, every node's activations for one image, and saliency maps
 * (./saliency.ts). Schemas and the wire encodings in src/shared/inspect.ts. Images arrive
 * as uint8 HWC at the model's input shape (main decodes them as the pack does) and are
 * preprocessed here as in training (./preprocess.ts, into the job's input range: x / 255, or
 * x / 127.5 − 1 for a pre-trained backbone trained so).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { EngineToMain, InspectJob } from '../shared/engine-protocol';
import type { EngineInspectOp, InspectResult, Kernel, NodeActivation, WeightHistogram } from '../shared/inspect';
import { readCheckpoint, readCheckpointArtifacts } from './checkpoint';
import { modelNodes, nodeOutputsModel, outputNode, type ModelNode } from './model-graph';
import { inputAffine, preprocess, type InputRange } from './preprocess';
import { defaultCamNode, gradCam, gradientMap, inputGradients, smoothGradients } from './saliency';
import { yieldToEventLoop } from './event-loop';

type Post = (msg: EngineToMain) => void;

/** Values of one kernel sent at most (larger convolutions send their first filters only). */
const MAX_KERNEL_VALUES = 1 << 20;

const b64 = (a: Float32Array | Uint8Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const fromB64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/** Epoch number of a checkpoint folder `…/epoch-<n>`, else -1. */
function epochOf(dir: string): number {
  const m = /epoch-(\d+)\/?$/.exec(dir.replace(/\\/g, '/'));
  return m ? Number(m[1]) : -1;
}

/**
 * Kernels of every Conv2D and DepthwiseConv2D node, [kh, kw, inChannels, filters | depthMultiplier],
 * as float32 base64 (a kernel over MAX_KERNEL_VALUES values keeps its first filters).
 */
export function convKernels(model: tfl.LayersModel): Kernel[] {
  const out: Kernel[] = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls !== 'Conv2D' && cls !== 'DepthwiseConv2D') continue;
    const w = layer.getWeights()[0] as tf.Tensor4D;
    const [kh, kw, cin] = w.shape;
    let cout = w.shape[3];
    let values = w.dataSync() as Float32Array;
    const perFilter = kh * kw * cin;
    if (values.length > MAX_KERNEL_VALUES) {
      const keep = Math.max(1, Math.floor(MAX_KERNEL_VALUES / perFilter));
      const sliced = tf.tidy(() => tf.slice(w, [0, 0, 0, 0], [kh, kw, cin, keep]));
      values = sliced.dataSync() as Float32Array;
      sliced.dispose();
      cout = keep;
    }
    out.push({ node: layer.name, type: cls === 'Conv2D' ? 'conv2d' : 'depthwiseConv2d', shape: [kh, kw, cin, cout], dataBase64: b64(values) });
  }
  return out;
}

/**
 * Histograms of every weight (kernels, biases, batch-norm γ, β and moving statistics) across
 * `checkpoints`: per weight one [min, max] over all epochs split into `bins` equal bins (the
 * maximum falls in the last), counts per epoch, and per epoch mean, std, Σ|w| and √Σw² (what
 * L1 and L2 penalties shrink). Reads only the weight files (no model is built).
 * @throws CheckpointError naming a missing or damaged file.
 */
export async function weightHistograms(checkpoints: { epoch: number; dir: string }[], bins: number, onEpoch?: (done: number) => void, signal?: AbortSignal): Promise<WeightHistogram[]> {
  const byName = new Map<string, WeightHistogram & { values: Float32Array[] }>();
  const sorted = [...checkpoints].sort((a, b) => a.epoch - b.epoch);
  for (const [i, c] of sorted.entries()) {
    if (signal?.aborted) break;
    const { artifacts } = await readCheckpointArtifacts(c.dir);
    const named = tf.io.decodeWeights(artifacts.weightData as ArrayBuffer, artifacts.weightSpecs ?? []);
    for (const [name, t] of Object.entries(named)) {
      const v = Float32Array.from(t.dataSync());
      t.dispose();
      let h = byName.get(name);
      if (!h) {
        const slash = name.lastIndexOf('/');
        h = { node: slash > 0 ? name.slice(0, slash) : name, weight: slash > 0 ? name.slice(slash + 1) : name, shape: t.shape, min: Infinity, max: -Infinity, epochs: [], counts: [], stats: [], values: [] };
        byName.set(name, h);
      }
      let s = 0;
      let s2 = 0;
      let l1 = 0;
      for (const x of v) {
        h.min = Math.min(h.min, x);
        h.max = Math.max(h.max, x);
        s += x;
        s2 += x * x;
        l1 += Math.abs(x);
      }
      const mean = v.length ? s / v.length : 0;
      h.epochs.push(c.epoch);
      h.stats.push({ mean, std: Math.sqrt(Math.max(0, (v.length ? s2 / v.length : 0) - mean * mean)), l1, l2: Math.sqrt(s2) });
      h.values.push(v);
    }
    onEpoch?.(i + 1);
  }
  return [...byName.values()].map(({ values, ...h }) => {
    const width = h.max > h.min ? (h.max - h.min) / bins : 1;
    h.counts = values.map((v) => {
      const counts = new Array<number>(bins).fill(0);
      for (const x of v) counts[Math.min(bins - 1, Math.floor((x - h.min) / width))]++;
      return counts;
    });
    if (!Number.isFinite(h.min)) [h.min, h.max] = [0, 0];
    return h;
  });
}

/** Logits → probabilities (softmax) and the arg-max class, per image. */
export function classScores(logits: Float32Array, numClasses: number): { logits: number[]; probabilities: number[]; predicted: number }[] {
  const out = [];
  for (let b = 0; b < logits.length / numClasses; b++) {
    const z = Array.from(logits.subarray(b * numClasses, (b + 1) * numClasses));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, v) => a + v, 0);
    out.push({ logits: z, probabilities: e.map((v) => v / s), predicted: z.indexOf(m) });
  }
  return out;
}

/** A feature map quantized around zero: q = round(v / maxAbs · 127) + 128 (128 ↔ 0; maxAbs 0 → all 128). */
export function quantizeAroundZero(v: Float32Array): { data: Uint8Array; min: number; max: number; maxAbs: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (v.length === 0) [min, max] = [0, 0];
  const maxAbs = Math.max(Math.abs(min), Math.abs(max));
  const k = maxAbs > 0 ? 127 / maxAbs : 0;
  const data = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) data[i] = Math.round(v[i] * k) + 128;
  return { data, min, max, maxAbs };
}

/**
 * Every node's output for one image (float32 [h, w, c] in the model's input range), computed by
 * ONE functional model that outputs all nodes (model-graph.ts nodeOutputsModel) in one predict.
 * @returns per node (the input first) its values (float32, batch axis dropped) and shape, and the logits
 */
export function nodeActivations(model: tfl.LayersModel, image: Float32Array): { nodes: ModelNode[]; values: Float32Array[]; logits: Float32Array } {
  const nodes = modelNodes(model);
  const shape = (model.inputs[0].shape as number[]).slice(1);
  const multi = nodeOutputsModel(model, nodes.map((n) => n.name));
  const outs = tf.tidy(() => {
    const r = multi.predict(tf.tensor4d(image, [1, ...shape] as [number, number, number, number]));
    return Array.isArray(r) ? r : [r];
  });
  const values = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  const logits = values[nodes.findIndex((n) => n.name === outputNode(model))];
  return { nodes, values, logits };
}

/** Pixels of a job image → float32 NHWC batch in the model's input range (as training saw them). */
function inputBatch(images: { dataBase64: string }[], shape: number[], range: InputRange): tf.Tensor4D {
  const size = shape[0] * shape[1] * shape[2];
  const buf = new Float32Array(images.length * size);
  images.forEach((im, i) => {
    const px = fromB64(im.dataBase64);
    if (px.length !== size) throw new Error(`inspect: image ${i} has ${px.length} values, the model takes ${shape.join('×')} = ${size}`);
    buf.set(preprocess(px, range), i * size);
  });
  return tf.tensor4d(buf, [images.length, shape[0], shape[1], shape[2]]);
}

/** Scale a map to uint8 by its maximum (all zero when the maximum is 0). */
function mapBytes(m: Float32Array): { map: string; mapMax: number } {
  let mx = 0;
  for (const v of m) if (v > mx) mx = v;
  const q = Uint8Array.from(m, (v) => (mx > 0 ? Math.round((Math.max(0, v) / mx) * 255) : 0));
  return { map: b64(q), mapMax: mx };
}

/**
 * Answer one inspect op on a loaded model (filters, activations, saliency; histograms need no
 * model: `weightHistograms`). Progress per image through `progress`; stops between images
 * when `signal` aborts (then resolves with null). Images are preprocessed into `range` (the run's; default [0, 1]).
 * @throws Error for a node or class the model does not have.
 */
export async function answerInspectOp(model: tfl.LayersModel | null, op: EngineInspectOp, epoch: number, progress: (done: number, total: number) => void, signal?: AbortSignal, range: InputRange = 'unit'): Promise<InspectResult | null> {
  if (op.op === 'histograms') {
    const histograms = await weightHistograms(op.checkpoints, op.bins, (d) => progress(d, op.checkpoints.length), signal);
    return signal?.aborted ? null : { op: 'histograms', histograms };
  }
  if (!model) throw new Error('inspect: no model loaded');
  const shape = (model.inputs[0].shape as number[]).slice(1);
  if (op.op === 'filters') return { op: 'filters', epoch, kernels: convKernels(model) };
  const numClasses = model.outputs[0].shape[1] as number;
  if (op.op === 'activations') {
    const x = inputBatch([op.image], shape, range);
    const image = Float32Array.from(x.dataSync());
    x.dispose();
    const { nodes, values, logits } = nodeActivations(model, image);
    const acts: NodeActivation[] = nodes.map((n, i) => {
      const q = quantizeAroundZero(values[i]);
      return { node: n.name, type: n.type, inputs: n.inputs, depth: n.depth, shape: n.shape, min: q.min, max: q.max, maxAbs: q.maxAbs, dataBase64: b64(q.data) };
    });
    progress(1, 1);
    return { op: 'activations', epoch, inputShape: shape, input: op.image.dataBase64, preprocessing: `resized to ${shape[0]}×${shape[1]}, ${shape[2] === 1 ? 'greyscale' : 'RGB'}, ${range === 'unit' ? 'x / 255' : 'x / 127.5 − 1'} ∈ [${inputAffine(range).min}, ${inputAffine(range).max}]`, scores: classScores(logits, numClasses)[0], nodes: acts };
  }
  // saliency
  const nodes = modelNodes(model);
  const convNodes = nodes.slice(1).filter((n) => n.shape.length === 3).map((n) => ({ node: n.name, shape: n.shape }));
  const camNode = op.method === 'gradcam' ? (op.node ?? defaultCamNode(nodes)) : null;
  if (op.method === 'gradcam' && !camNode) throw new Error('inspect: the model has no node with a spatial output for Grad-CAM');
  if (op.classIndex !== undefined && op.classIndex >= numClasses) throw new Error(`classIndex: the model has ${numClasses} classes (0–${numClasses - 1}), not ${op.classIndex}`);
  const maps: Extract<InspectResult, { op: 'saliency' }>['maps'] = [];
  let nodeShape: number[] | null = null;
  for (const [i, im] of op.images.entries()) {
    await yieldToEventLoop();
    if (signal?.aborted) return null;
    const x = inputBatch([im], shape, range);
    const logits = tf.tidy(() => model.predict(x) as tf.Tensor);
    const scores = classScores((await logits.data()) as Float32Array, numClasses)[0];
    logits.dispose();
    const c = op.classIndex ?? scores.predicted;
    let m: Float32Array;
    if (op.method === 'gradcam') {
      const r = await gradCam(model, nodes, x, [c], camNode as string);
      nodeShape = r.nodeShape;
      m = r.maps;
    } else {
      const g = op.method === 'gradient' ? await inputGradients(model, x, [c]) : await smoothGradients(model, x, [c], { samples: op.samples, noise: op.noise, seed: op.seed, signal });
      m = gradientMap(g, shape[2]);
    }
    x.dispose();
    maps.push({ label: im.label, input: im.dataBase64, classIndex: c, scores, ...mapBytes(m) });
    progress(i + 1, op.images.length);
  }
  return { op: 'saliency', epoch, method: op.method, inputShape: shape, node: camNode, nodeShape, convNodes, maps };
}

/**
 * Run an `inspect` job: load the checkpoint (not for histograms), answer the op, post
 * `jobProgress` messages, then `jobResult` — or `jobCancelled` when `signal` aborted first.
 * @throws CheckpointError naming a damaged file; Error for a bad op.
 */
export async function runInspectJob(job: InspectJob, post: Post, signal: AbortSignal): Promise<void> {
  const model = job.op.op === 'histograms' ? null : await readCheckpoint(job.checkpointDir);
  try {
    const phase = job.op.op === 'histograms' ? 'epochs' : job.op.op === 'saliency' ? 'images' : job.op.op;
    const result = await answerInspectOp(model, job.op, epochOf(job.checkpointDir), (done, total) => post({ type: 'jobProgress', phase, done, total }), signal, job.inputRange ?? 'unit');
    post(result && !signal.aborted ? { type: 'jobResult', result } : { type: 'jobCancelled' });
  } finally {
    model?.dispose();
  }
}
