/**
 * Adversarial training inside the training loop (../shared/attack.ts AdversarialTrainingSpec):
 * `mix` replaces part of a training batch by adversarial examples, `robustAccuracy` measures
 * PGD accuracy on the validation split for the `val_robust_accuracy` metric. train.ts calls
 * both through `adversarialTrainer` (null when the spec asks for neither).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { pgdStepSize, type AdversarialTrainingSpec } from '../shared/attack';
import { attackBatch } from './attack';
import { attackCurve } from './attack-curve';
import type { LoadedPack } from './pack-reader';
import { inputAffine, type InputRange } from './preprocess';
import { deriveSeed, Rng } from './random';

export interface AdversarialTrainer {
  /**
   * Replace the first round(ratio·n) images of the batch in `buf` (NHWC, input units) by their
   * FGSM / PGD-k examples at ε against `labels` under the current weights (inference mode;
   * PGD's random start seeded from (seed, step)). A no-op when training is off.
   */
  mix(buf: Float32Array, labels: Int32Array, n: number, step: number): Promise<void>;
  /**
   * Accuracy under PGD-robustSteps at robustEpsilon on up to robustImages images of `idx`'s
   * split (the seeded sample of attack-curve.ts), or null when not measured or `val` is empty.
   */
  robustAccuracy(pack: LoadedPack): Promise<number | null>;
}

/**
 * The trainer for `spec`, or null when it neither trains adversarially nor measures robust accuracy.
 * @param shape the model's input [h, w, c]
 */
export function adversarialTrainer(model: tfl.LayersModel, spec: AdversarialTrainingSpec | undefined, shape: [number, number, number], seed: number, range: InputRange): AdversarialTrainer | null {
  if (!spec || (spec.method === 'none' && spec.robustEpsilon === 0)) return null;
  const affine = inputAffine(range);
  const bounds = { min: affine.min, max: affine.max };
  const size = shape[0] * shape[1] * shape[2];
  return {
    async mix(buf, labels, n, step) {
      const k = Math.round(spec.ratio * n);
      if (spec.method === 'none' || k === 0 || spec.epsilon === 0) return;
      const x = tf.tensor4d(buf.subarray(0, k * size), [k, ...shape]);
      const y = tf.tensor1d(labels.subarray(0, k), 'int32');
      try {
        const adv = attackBatch(
          model,
          x,
          y,
          { method: spec.method, epsilon: spec.epsilon * affine.scale, steps: spec.steps, stepSize: pgdStepSize(spec.epsilon, spec.steps) * affine.scale, bounds, targeted: false },
          new Rng(deriveSeed(seed, 'adversarial-start', step)),
        );
        buf.set((await adv.data()) as Float32Array, 0);
        adv.dispose();
      } finally {
        tf.dispose([x, y]);
      }
    },
    async robustAccuracy(pack) {
      if (spec.robustEpsilon === 0 || pack.indices.val.length === 0) return null;
      const r = await attackCurve(
        model,
        pack,
        { methods: ['pgd'], epsilons: [spec.robustEpsilon], steps: spec.robustSteps, target: 'none', split: 'val', maxImages: spec.robustImages, galleryCount: 0, seed, inputRange: range },
        { range },
      );
      return r ? r.points[0].accuracy : null;
    },
  };
}
