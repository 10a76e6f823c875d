/**
 * Adversarial examples on a trained model (issue 10): the input gradient of the softmax
 * cross-entropy, FGSM (Goodfellow, Shlens & Szegedy 2015, "Explaining and harnessing
 * adversarial examples", §3, eq. x̃ = x + ε·sign(∇ₓJ(θ, x, y))), PGD with a random start
 * (Madry et al. 2018, "Towards deep learning models resistant to adversarial attacks", §2.1:
 * x^{t+1} = Π_{x+S}(x^t + α·sign(∇ₓL(θ, x^t, y))), S the L∞ ball of radius ε), untargeted or
 * targeted (Kurakin, Goodfellow & Bengio 2017, §2.2: step down the loss of the target class),
 * the accuracy-vs-ε curve of a split with its gallery, and the batches of adversarial training.
 *
 * Everything here works in the model's input units (NHWC float32; [0, 1] or [−1, 1], see
 * ./preprocess.ts `inputAffine`); callers convert ε from pixel units (/255) with
 * `epsilon·scale`. The loss is our softmax cross-entropy on logits (./model.ts
 * `crossEntropyFromLogits`), not tfjs-layers' clipped categorical cross-entropy, whose
 * gradient vanishes on confidently classified images (../shared/design/TOOLCHAIN.md).
 * The model runs in inference mode (dropout off, batch-norm moving statistics), so each
 * image's gradient is that of its own loss.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { AttackMethod } from '../shared/attack';
import { crossEntropyFromLogits } from './model';
import type { Rng } from './random';

/** Where adversarial inputs must stay: the model's input range (input units). */
export interface InputBounds {
  min: number;
  max: number;
}

/**
 * ∂/∂x of Σ_b CE(f(x_b), y_b): per image, the gradient of its own softmax cross-entropy
 * with respect to its input (the model in inference mode).
 * @param x [n, h, w, c] inputs in input units
 * @param labels [n] int32 classes whose loss is differentiated
 * @returns [n, h, w, c] float32 (the caller disposes it)
 */
export function inputGradient(model: tfl.LayersModel, x: tf.Tensor4D, labels: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const n = x.shape[0];
    const loss = (xi: tf.Tensor): tf.Scalar => tf.mul(crossEntropyFromLogits(model.apply(xi, { training: false }) as tf.Tensor2D, labels), n) as tf.Scalar;
    return tf.grad(loss)(x) as tf.Tensor4D;
  });
}

/** One signed gradient step from `adv`, clipped to [lo, hi] (per coordinate; the ε-ball ∩ the input range). */
function signStep(model: tfl.LayersModel, adv: tf.Tensor4D, labels: tf.Tensor1D, alpha: number, targeted: boolean, lo: tf.Tensor4D | number, hi: tf.Tensor4D | number): tf.Tensor4D {
  return tf.tidy(() => {
    const g = tf.sign(inputGradient(model, adv, labels));
    const next = tf.add(adv, tf.mul(g, targeted ? -alpha : alpha));
    return tf.minimum(tf.maximum(next, lo), hi) as tf.Tensor4D;
  });
}

/**
 * FGSM: x̃ = clip(x + ε·sign(∇ₓ CE(f(x), y)), min, max), one gradient. Targeted (`labels`
 * the targets): x̃ = clip(x − ε·sign(∇ₓ CE(f(x), target))), toward the target class.
 * ε = 0 returns x exactly.
 * @param epsilon L∞ radius in input units (≥ 0)
 * @returns [n, h, w, c] adversarial inputs (the caller disposes them)
 */
export function fgsm(model: tfl.LayersModel, x: tf.Tensor4D, labels: tf.Tensor1D, epsilon: number, bounds: InputBounds, targeted = false): tf.Tensor4D {
  if (epsilon === 0) return tf.clone(x);
  return signStep(model, x, labels, epsilon, targeted, bounds.min, bounds.max);
}

/**
 * FGSM from a gradient sign already computed, sign(∇ₓ CE(f(x), y)) [n, h, w, c]: one gradient
 * serves every ε of a curve (the step is the same direction scaled). Same result as `fgsm`.
 * @returns clip(x ± ε·sign, min, max) (the caller disposes it)
 */
export function fgsmFromSign(x: tf.Tensor4D, gradientSign: tf.Tensor4D, epsilon: number, bounds: InputBounds, targeted = false): tf.Tensor4D {
  if (epsilon === 0) return tf.clone(x);
  return tf.tidy(() => tf.minimum(tf.maximum(tf.add(x, tf.mul(gradientSign, targeted ? -epsilon : epsilon)), bounds.min), bounds.max) as tf.Tensor4D);
}

/** sign(∇ₓ Σ CE(f(x), labels)) (see inputGradient). @returns [n, h, w, c] of −1, 0, 1 (the caller disposes it) */
export function gradientSign(model: tfl.LayersModel, x: tf.Tensor4D, labels: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => tf.sign(inputGradient(model, x, labels)) as tf.Tensor4D);
}

export interface PgdOptions {
  /** L∞ radius in input units. */
  epsilon: number;
  /** Iterations K. */
  steps: number;
  /** α in input units. */
  stepSize: number;
  bounds: InputBounds;
  targeted?: boolean;
  /**
   * The random start as u ∈ [−1, 1]^shape(x): x⁰ = clip(x + ε·u, min, max) (Madry et al. 2018,
   * §5: "starting from a random point inside the ε-ball"). Absent: start at x.
   */
  start?: tf.Tensor4D;
}

/**
 * PGD: x⁰ = clip(x + ε·u), then K times x ← clip(x + α·sign(∇ₓ CE(f(x), y)), max(x_clean − ε, min),
 * min(x_clean + ε, max)) — the projection onto the L∞ ball intersected with the input range,
 * per coordinate. Targeted: −α. ε = 0 returns x exactly.
 * @returns [n, h, w, c] adversarial inputs (the caller disposes them)
 * @throws RangeError when steps < 1 or ε, α < 0.
 */
export function pgd(model: tfl.LayersModel, x: tf.Tensor4D, labels: tf.Tensor1D, o: PgdOptions): tf.Tensor4D {
  if (!(o.steps >= 1) || !(o.epsilon >= 0) || !(o.stepSize >= 0)) throw new RangeError(`pgd: steps ${o.steps} must be ≥ 1, epsilon ${o.epsilon} and stepSize ${o.stepSize} ≥ 0`);
  if (o.epsilon === 0) return tf.clone(x);
  const { min, max } = o.bounds;
  const lo = tf.tidy(() => tf.maximum(tf.sub(x, o.epsilon), min) as tf.Tensor4D);
  const hi = tf.tidy(() => tf.minimum(tf.add(x, o.epsilon), max) as tf.Tensor4D);
  let adv = o.start ? tf.tidy(() => tf.clipByValue(tf.add(x, tf.mul(o.start!, o.epsilon)), min, max) as tf.Tensor4D) : tf.clone(x);
  try {
    for (let k = 0; k < o.steps; k++) {
      const next = signStep(model, adv, labels, o.stepSize, o.targeted ?? false, lo, hi);
      adv.dispose();
      adv = next;
    }
    return adv;
  } catch (e) {
    adv.dispose();
    throw e;
  } finally {
    lo.dispose();
    hi.dispose();
  }
}

/** `n` draws of u ∈ [−1, 1) from `rng` (PGD's random start, `PgdOptions.start`). */
export function uniformStart(rng: Rng, n: number): Float32Array {
  const u = new Float32Array(n);
  for (let i = 0; i < n; i++) u[i] = 2 * rng.next() - 1;
  return u;
}

/** How an attack is run, in input units (see ./attack-curve.ts for pixel units). */
export interface AttackSpec {
  method: AttackMethod;
  epsilon: number;
  /** PGD only. */
  steps: number;
  /** PGD only. */
  stepSize: number;
  bounds: InputBounds;
  targeted: boolean;
}

/**
 * Run `spec` on a batch: FGSM, or PGD with a random start drawn from `rng` (when given; PGD
 * without `rng` starts at x).
 * @param labels the true labels (untargeted) or the targets (targeted)
 * @returns [n, h, w, c] adversarial inputs (the caller disposes them)
 */
export function attackBatch(model: tfl.LayersModel, x: tf.Tensor4D, labels: tf.Tensor1D, spec: AttackSpec, rng?: Rng): tf.Tensor4D {
  if (spec.method === 'fgsm') return fgsm(model, x, labels, spec.epsilon, spec.bounds, spec.targeted);
  const start = rng && spec.epsilon > 0 ? tf.tensor4d(uniformStart(rng, x.size), x.shape) : undefined;
  try {
    return pgd(model, x, labels, { epsilon: spec.epsilon, steps: spec.steps, stepSize: spec.stepSize, bounds: spec.bounds, targeted: spec.targeted, start });
  } finally {
    start?.dispose();
  }
}

/**
 * Gradient evaluations `spec` costs per image (FGSM 1, PGD K; 0 at ε = 0), for progress.
 */
export function attackCost(spec: Pick<AttackSpec, 'method' | 'epsilon' | 'steps'>): number {
  if (spec.epsilon === 0) return 0;
  return spec.method === 'fgsm' ? 1 : spec.steps;
}
