/**
 * The learning-rate range test in the engine (src/shared/lr-range.ts has the schemas, the
 * rate per step and the suggestion): a fresh model of the spec, its optimizer, batches of
 * the spec's batch size from seeded shuffles of the training items (augmented as the spec
 * says), one step per rate, the loss smoothed by a debiased EMA, stopped on divergence.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { LrRangeParams, LrRangeResult } from '../shared/lr-range';
import { lrRangeRate, suggestLearningRate } from '../shared/lr-range';
import type { RunSpec } from '../shared/spec';
import { augmentBatch, isIdentity } from './augment';
import { buildModel, penalisedKernels, setDropoutSeeds, trainableVariables } from './model';
import { readPack } from './pack-reader';
import { inputRangeOf, loadPretrained } from './pretrained';
import { deriveSeed, Rng } from './random';
import { checkPackFits, fillBatch, makeOptimizer, setLearningRate, trainStep, type CancelSignal } from './train';
import { yieldToEventLoop } from './event-loop';

/**
 * Run the test on the pack in `packDir` for `spec` (its model, optimizer, batch size,
 * regularization, augmentation, seed). `onStep(done, total)` after each step.
 * @returns the points, the suggestion, whether it diverged; null when cancelled.
 * @throws Error on a pack that does not fit the spec.
 */
export async function lrRangeTest(spec: RunSpec, packDir: string, p: LrRangeParams, onStep: (done: number, total: number) => void = () => undefined, signal: CancelSignal = { aborted: false }): Promise<LrRangeResult | null> {
  const pack = readPack(packDir);
  checkPackFits(pack, spec);
  const t = spec.training;
  const { height, width, channels } = pack.meta;
  const model = buildModel(spec.model, spec.seed);
  const optimizer: tf.Optimizer = makeOptimizer(t.optimizer);
  try {
    await loadPretrained(model, spec);
    const target = { vars: trainableVariables(model), kernels: penalisedKernels(model), ...t.regularization };
    const range = inputRangeOf(spec);
    const buf = new Float32Array(t.batchSize * height * width * channels);
    const lab = new Int32Array(t.batchSize);
    const points: LrRangeResult['points'] = [];
    let ema = 0;
    let best = Infinity;
    let diverged = false;
    let order = Int32Array.from(pack.indices.train);
    let epoch = -1;
    let from = order.length;
    for (let i = 0; i < p.steps; i++) {
      await yieldToEventLoop();
      if (signal.aborted) return null;
      if (from + 1 > order.length) {
        epoch++;
        order = new Rng(deriveSeed(spec.seed, 'shuffle', epoch)).shuffle(Int32Array.from(pack.indices.train));
        from = 0;
      }
      const n = Math.min(t.batchSize, order.length - from);
      fillBatch(pack, order, from, n, buf, lab, range);
      from += n;
      if (!isIdentity(t.augmentation)) augmentBatch(buf, n, height, width, channels, t.augmentation, new Rng(deriveSeed(spec.seed, 'lr-range-augment', i)));
      setDropoutSeeds(model, spec.seed, i);
      const lr = lrRangeRate(p, i);
      setLearningRate(optimizer, lr);
      const [loss] = await trainStep(model, optimizer, target, buf, lab, n, pack.meta);
      onStep(i + 1, p.steps);
      if (!Number.isFinite(loss)) {
        diverged = true;
        break;
      }
      // Debiased EMA (Kingma & Ba 2015's bias correction, as TensorBoard's smoothing).
      ema = p.smoothing * ema + (1 - p.smoothing) * loss;
      const smoothed = ema / (1 - Math.pow(p.smoothing, i + 1));
      points.push({ step: i, learningRate: lr, loss, smoothed });
      best = Math.min(best, smoothed);
      if (smoothed > p.divergence * best) {
        diverged = true;
        break;
      }
    }
    return { points, ...suggestLearningRate(points), diverged };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
