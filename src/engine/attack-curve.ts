/**
 * Accuracy vs ε on a split of a pack, FGSM and PGD in one pass over the images, with a gallery
 * (original, amplified perturbation, adversarial image, predictions before and after), as the
 * `attack` job answers it (../shared/attack.ts `AttackResult`). ε arrives in pixel units (/255)
 * and is converted to the model's input units here (./preprocess.ts `inputAffine`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { pgdStepSize, type AttackGalleryItem, type AttackMethod, type AttackParams, type AttackPoint, type AttackResult } from '../shared/attack';
import { attackBatch, attackCost, fgsmFromSign, gradientSign, type AttackSpec } from './attack';
import { compileInference, type InferencePlan } from './infer';
import type { LoadedPack } from './pack-reader';
import { inputAffine, preprocessInto, type InputRange } from './preprocess';
import { deriveSeed, Rng } from './random';
import { yieldToEventLoop } from './event-loop';

/** Progress in gradient evaluations per image summed over the sample (`done` of `total`). */
export type AttackProgress = (done: number, total: number) => void;

/** Images per attacked batch at most (LeNet-5 at 28×28: a few MB of activations for the backward pass). */
export const ATTACK_BATCH_SIZE = 100;

/** The default batch for images of `size` values: ATTACK_BATCH_SIZE, fewer for large images (≤ 4 M input values a batch, at least 8), so a backward pass through a 224-px network stays in memory. */
export function attackBatchSize(size: number): number {
  return Math.max(8, Math.min(ATTACK_BATCH_SIZE, Math.floor(4_000_000 / size)));
}

/**
 * The images an attack job uses: `maxImages` (0: all) of `split` in a seeded shuffle (pack
 * order usually runs class by class, so the first images would be one class).
 * @throws Error when the split has no images.
 */
export function attackSample(pack: LoadedPack, params: Pick<AttackParams, 'split' | 'maxImages' | 'seed'>): Int32Array {
  const all = pack.indices[params.split];
  if (all.length === 0) throw new Error(`attack: the ${params.split} split has no images`);
  const order = new Rng(deriveSeed(params.seed, 'attack-sample')).shuffle(Int32Array.from(all));
  return params.maxImages > 0 && params.maxImages < order.length ? order.slice(0, params.maxImages) : order;
}

/** The target of each label: the label itself (untargeted), (label + 1) mod K ('next') or a fixed class. */
function targetsOf(labels: Int32Array, n: number, target: AttackParams['target'], numClasses: number): Int32Array {
  if (target === 'none') return labels.slice(0, n);
  if (typeof target === 'number' && target >= numClasses) throw new Error(`attack: target class ${target} is outside 0…${numClasses - 1}`);
  return Int32Array.from(labels.subarray(0, n), (y) => (target === 'next' ? (y + 1) % numClasses : (target as number)));
}

/** Logits [n, K] of `x` (NHWC, input units): the native plan when there is one (as `evaluate` does), else the tfjs graph. */
function logitsOf(model: tfl.LayersModel, plan: InferencePlan | null, x: Float32Array, n: number, shape: [number, number, number], numClasses: number): Float32Array {
  if (plan) return plan.run(x, n).slice(0, n * numClasses);
  return tf.tidy(() => (model.apply(tf.tensor4d(x.subarray(0, n * shape[0] * shape[1] * shape[2]), [n, ...shape]), { training: false }) as tf.Tensor).dataSync() as Float32Array);
}

/** Per image: argmax and its softmax probability. */
function predictions(logits: Float32Array, n: number, k: number): { predicted: Int32Array; confidence: Float32Array } {
  const predicted = new Int32Array(n);
  const confidence = new Float32Array(n);
  for (let b = 0; b < n; b++) {
    const row = logits.subarray(b * k, (b + 1) * k);
    let best = 0;
    for (let j = 1; j < k; j++) if (row[j] > row[best]) best = j;
    let z = 0;
    for (let j = 0; j < k; j++) z += Math.exp(row[j] - row[best]);
    predicted[b] = best;
    confidence[b] = 1 / z;
  }
  return { predicted, confidence };
}

const b64 = (a: Uint8Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

export interface AttackCurveOptions {
  range?: InputRange;
  batchSize?: number;
  onProgress?: AttackProgress;
  /** Checked between attacks; when it turns true the curve stops and returns null. */
  signal?: { readonly aborted: boolean };
  /** Receives each attack's adversarial inputs (input units, NHWC) of sample images from…from+n−1 (ε in pixel units). */
  onAdversarial?: (method: AttackMethod, epsilon: number, from: number, n: number, adv: Float32Array) => void;
}

/**
 * Accuracy of `model` under each method × ε of `params` on a sample of a split (see
 * `attackSample`): per batch the clean logits once, then every (ε, method) attack on the same
 * images (PGD's random starts drawn from one Rng seeded by params.seed, in that order). ε = 0
 * is the clean prediction (an attack at ε = 0 returns its input exactly), so those points
 * equal `cleanAccuracy`. Adversarial images are classified by the same path as train.ts
 * `evaluate` (the native plan, else the tfjs graph) from float32 inputs: nothing is rounded to
 * 8 bits. The gallery holds the first `galleryCount` images of the sample.
 * @returns the result, or null when cancelled.
 * @throws Error when the split is empty, the target class does not exist, or the backend fails.
 */
export async function attackCurve(model: tfl.LayersModel, pack: LoadedPack, params: AttackParams, opts: AttackCurveOptions = {}): Promise<AttackResult | null> {
  const t0 = performance.now();
  const { height, width, channels, numClasses, classNames } = pack.meta;
  const shape: [number, number, number] = [height, width, channels];
  const size = height * width * channels;
  const affine = inputAffine(opts.range ?? 'unit');
  const bounds = { min: affine.min, max: affine.max };
  const targeted = params.target !== 'none';
  const batchSize = opts.batchSize ?? attackBatchSize(size);
  const sample = attackSample(pack, params);
  const epsilons = [...new Set(params.epsilons)].sort((a, b) => a - b);
  const specs: AttackSpec[] = epsilons.flatMap((eps) =>
    params.methods.map((method) => ({ method, epsilon: eps * affine.scale, steps: params.steps, stepSize: pgdStepSize(eps, params.steps, params.stepSize) * affine.scale, bounds, targeted })),
  );
  // Gradient evaluations per image: PGD K per ε; FGSM one for all its ε (the first it needs).
  const firstFgsm = specs.findIndex((a) => a.method === 'fgsm' && a.epsilon > 0);
  const cost = (s: number): number => (specs[s].method === 'fgsm' ? (s === firstFgsm ? 1 : 0) : attackCost(specs[s]));
  const total = sample.length * specs.reduce((sum, _, s) => sum + cost(s), 0);
  const hits = specs.map(() => ({ correct: 0, target: 0 }));
  const rng = new Rng(deriveSeed(params.seed, 'pgd-start'));
  const plan = compileInference(model, batchSize);
  const buf = new Float32Array(batchSize * size);
  const lab = new Int32Array(batchSize);
  const gallery: AttackGalleryItem[] = [];
  let cleanCorrect = 0;
  let done = 0;

  for (let from = 0; from < sample.length; from += batchSize) {
    const n = Math.min(batchSize, sample.length - from);
    for (let b = 0; b < n; b++) {
      const item = sample[from + b];
      preprocessInto(pack.pixels.subarray(item * size, (item + 1) * size), buf, b * size, opts.range ?? 'unit');
      lab[b] = pack.labels[item];
    }
    const targets = targetsOf(lab, n, params.target, numClasses);
    const clean = predictions(logitsOf(model, plan, buf, n, shape, numClasses), n, numClasses);
    for (let b = 0; b < n; b++) if (clean.predicted[b] === lab[b]) cleanCorrect++;
    const shown = Math.max(0, Math.min(n, params.galleryCount - from));
    for (let b = 0; b < shown; b++) {
      const item = sample[from + b];
      gallery.push({
        packIndex: item,
        label: lab[b],
        target: targeted ? targets[b] : null,
        clean: { predicted: clean.predicted[b], confidence: clean.confidence[b] },
        original: b64(pack.pixels.subarray(item * size, (item + 1) * size)),
        entries: [],
      });
    }
    const x = tf.tensor4d(buf.subarray(0, n * size), [n, ...shape]);
    const y = tf.tensor1d(targets, 'int32');
    // FGSM's gradient sign at x, computed once for every ε of the batch.
    let sign: tf.Tensor4D | null = null;
    try {
      for (let s = 0; s < specs.length; s++) {
        await yieldToEventLoop();
        if (opts.signal?.aborted) return null;
        const spec = specs[s];
        let adv: Float32Array = buf.subarray(0, n * size);
        let pred = clean;
        if (spec.epsilon > 0) {
          if (spec.method === 'fgsm') sign ??= gradientSign(model, x, y);
          const t = spec.method === 'fgsm' ? fgsmFromSign(x, sign!, spec.epsilon, bounds, targeted) : attackBatch(model, x, y, spec, rng);
          adv = (await t.data()) as Float32Array;
          t.dispose();
          pred = predictions(logitsOf(model, plan, adv, n, shape, numClasses), n, numClasses);
        }
        opts.onAdversarial?.(spec.method, epsilons[Math.floor(s / params.methods.length)], from, n, adv);
        for (let b = 0; b < n; b++) {
          if (pred.predicted[b] === lab[b]) hits[s].correct++;
          if (pred.predicted[b] === targets[b]) hits[s].target++;
        }
        for (let b = 0; b < shown; b++) gallery[from + b].entries.push(galleryEntry(spec, epsilons[Math.floor(s / params.methods.length)], adv, buf, b, size, affine, pred));
        done += n * cost(s);
        opts.onProgress?.(done, total);
        // Let a queued `cancel` in between attacks.
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      tf.dispose([x, y, ...(sign ? [sign] : [])]);
    }
  }
  const points: AttackPoint[] = specs.map((spec, s) => ({
    method: spec.method,
    epsilon: epsilons[Math.floor(s / params.methods.length)],
    accuracy: hits[s].correct / sample.length,
    targetRate: targeted ? hits[s].target / sample.length : null,
    count: sample.length,
  }));
  return {
    params,
    cleanAccuracy: cleanCorrect / sample.length,
    count: sample.length,
    points,
    gallery: { height, width, channels, classNames, items: gallery },
    seconds: (performance.now() - t0) / 1000,
  };
}

/** One gallery entry: the adversarial image rounded to 8 bits and the perturbation amplified so ±ε spans 0…255. */
function galleryEntry(
  spec: AttackSpec,
  epsPixels: number,
  adv: Float32Array,
  clean: Float32Array,
  b: number,
  size: number,
  affine: { scale: number; shift: number },
  pred: { predicted: Int32Array; confidence: Float32Array },
): AttackGalleryItem['entries'][number] {
  const image = new Uint8Array(size);
  const perturbation = new Uint8Array(size);
  const amplification = epsPixels > 0 ? 127.5 / epsPixels : 0;
  for (let i = 0; i < size; i++) {
    const a = adv[b * size + i];
    image[i] = Math.max(0, Math.min(255, Math.round((a - affine.shift) / affine.scale)));
    const d = (a - clean[b * size + i]) / affine.scale; // pixel units
    perturbation[i] = Math.max(0, Math.min(255, Math.round(127.5 + amplification * d)));
  }
  return { method: spec.method, epsilon: epsPixels, predicted: pred.predicted[b], confidence: pred.confidence[b], adversarial: b64(image), perturbation: b64(perturbation), amplification };
}
