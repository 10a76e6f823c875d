/**
 * The training core: one job in, a stream of EngineToMain messages out. No transport
 * here (see entry.ts), so tests call it in-process.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { EngineToMain, TrainJob } from '../shared/engine-protocol';
import { learningRateAt, type OptimizerSpec, type RunSpec } from '../shared/spec';
import { adversarialTrainer } from './attack-train';
import { augmentBatch, isIdentity } from './augment';
import { loadCheckpointWeights, loadTrainState, saveCheckpoint, saveTrainState } from './checkpoint';
import { compileInference } from './infer';
import { FusedAdamOptimizer, FusedMomentumOptimizer } from './kernels/optimizer';
import { buildModel, crossEntropyFromLogits, penalisedKernels, setDropoutSeeds, trainableVariables, weightPenalty } from './model';
import { readPack, type LoadedPack } from './pack-reader';
import { writePredictions } from './predict';
import { preprocessInto, type InputRange } from './preprocess';
import { inputRangeOf, loadPretrained } from './pretrained';
import { deriveSeed, Rng } from './random';
import { EarlyStopping, ReduceOnPlateau, type EpochValues } from './schedules';
import { yieldToEventLoop } from './event-loop';

/** Minimum interval between two `progress` messages within an epoch (the last step of an epoch is always sent). */
export const PROGRESS_INTERVAL_MS = 200;
/** Batch size for validation / test evaluation (inference only). */
export const EVAL_BATCH_SIZE = 500;

export type Post = (msg: EngineToMain) => void;

/** Watches what training does without changing it: `onBatch` sees each step's batch after augmentation (before adversarial mixing), views valid during the call. */
export interface TrainObserver {
  onBatch?(x: Float32Array, labels: Int32Array, epoch: number, step: number): void;
}

/** Cancellation: anything with an `aborted` flag (an AbortSignal works). Checked between steps. */
export interface CancelSignal {
  readonly aborted: boolean;
}

/**
 * Build the optimizer of a spec. Keras parameter names map onto TF.js:
 * sgd → SGD; momentum → Momentum (heavy ball, Polyak 1964; v ← m·v + g, w ← w − lr·v);
 * rmsprop → RMSProp (Tieleman & Hinton 2012, lecture 6.5; rho = TF.js `decay`);
 * adam → Adam (Kingma & Ba 2015, Algorithm 1). Momentum and Adam are tfjs' optimizers whose
 * update runs as one native kernel per variable on wasm (./kernels/optimizer.ts; bit-identical).
 */
export function makeOptimizer(spec: OptimizerSpec): tf.Optimizer {
  switch (spec.type) {
    case 'sgd':
      return tf.train.sgd(spec.learningRate);
    case 'momentum':
      return new FusedMomentumOptimizer(spec.learningRate, spec.momentum, false);
    case 'rmsprop':
      return tf.train.rmsprop(spec.learningRate, spec.rho, spec.momentum, spec.epsilon, false);
    case 'adam':
      return new FusedAdamOptimizer(spec.learningRate, spec.beta1, spec.beta2, spec.epsilon);
  }
}

/** Set the learning rate of any TF.js optimizer (SGD/Momentum cache −lr in a scalar, so use their setter). */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  const o = opt as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

/**
 * Fill `out` with items `idx[from … from+n)` as the model's input (NHWC float32 in `range`,
 * [0, 1] unless a pre-trained backbone asks otherwise, see ./preprocess.ts) and `labels` with their labels. Exported for the test that training,
 * evaluation and prediction feed the model identical inputs.
 */
export function fillBatch(pack: LoadedPack, idx: Int32Array, from: number, n: number, out: Float32Array, labels: Int32Array, range: InputRange = 'unit'): void {
  const { height, width, channels } = pack.meta;
  const size = height * width * channels;
  const px = pack.pixels;
  for (let b = 0; b < n; b++) {
    const item = idx[from + b];
    preprocessInto(px.subarray(item * size, (item + 1) * size), out, b * size, range);
    labels[b] = pack.labels[item];
  }
}

export interface EvalResult {
  /** Mean cross-entropy (nats). */
  loss: number;
  /** Fraction correct in [0, 1]. */
  accuracy: number;
}

/**
 * Evaluate in inference mode (dropout off, batch-norm moving statistics) on the items
 * `idx` of `pack`, inputs in `range` (see fillBatch). @returns null when `idx` is empty.
 */
export async function evaluate(model: tfl.LayersModel, pack: LoadedPack, idx: Int32Array, batchSize = EVAL_BATCH_SIZE, range: InputRange = 'unit'): Promise<EvalResult | null> {
  if (idx.length === 0) return null;
  const { height, width, channels } = pack.meta;
  const size = height * width * channels;
  const buf = new Float32Array(batchSize * size);
  const lab = new Int32Array(batchSize);
  // Native executor (./infer.ts) with the current weights when it covers the model; else the tfjs graph.
  const plan = compileInference(model, batchSize);
  let lossSum = 0;
  let correct = 0;
  for (let from = 0; from < idx.length; from += batchSize) {
    const n = Math.min(batchSize, idx.length - from);
    fillBatch(pack, idx, from, n, buf, lab, range);
    const stats = tf.tidy(() => {
      const x = tf.tensor4d(buf.subarray(0, n * size), [n, height, width, channels]);
      const y = tf.tensor1d(lab.subarray(0, n), 'int32');
      const logits = plan ? tf.tensor2d(plan.run(buf, n), [n, pack.meta.numClasses]) : (model.apply(x, { training: false }) as tf.Tensor2D);
      return tf.stack([tf.mul(crossEntropyFromLogits(logits, y), n), tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'))]);
    });
    // Asynchronous read: the webgpu backend cannot read synchronously in Node.
    const [l, c] = await stats.data();
    stats.dispose();
    lossSum += l;
    correct += c;
  }
  return { loss: lossSum / idx.length, accuracy: correct / idx.length };
}

/**
 * The pack with its training items' labels permuted among themselves by a generator seeded
 * from (seed, 'random-labels'): class counts kept, each image's label random (Zhang et al.
 * 2017, §2, "random labels"). Val and test items keep their labels. The pixels are shared.
 */
export function withRandomTrainLabels(pack: LoadedPack, seed: number): LoadedPack {
  const labels = Int32Array.from(pack.labels);
  const train = pack.indices.train;
  const values = new Rng(deriveSeed(seed, 'random-labels')).shuffle(Int32Array.from(train, (i) => labels[i]));
  train.forEach((item, k) => (labels[item] = values[k]));
  return { ...pack, labels };
}

/** What a training step minimizes over: the trainable variables, and the kernels the L1/L2 penalty covers with its weights. */
export interface StepTarget {
  vars: tf.Variable[];
  kernels: tf.Variable[];
  l1: number;
  l2: number;
}

/**
 * One optimizer step on the first `n` items of `buf` (NHWC float32, `shape` h×w×c) with
 * labels `lab`: minimize mean cross-entropy from logits + the L1/L2 penalty (dropout and
 * batch norm in training mode). @returns [the mini-batch cross-entropy without the penalty
 * (nats), the number classified correctly], read back once.
 */
export async function trainStep(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  target: StepTarget,
  buf: Float32Array,
  lab: Int32Array,
  n: number,
  shape: { height: number; width: number; channels: number },
): Promise<[number, number]> {
  const { height, width, channels } = shape;
  let stats: tf.Tensor1D | null = null;
  tf.tidy(() => {
    const x = tf.tensor4d(buf.subarray(0, n * height * width * channels), [n, height, width, channels]);
    const y = tf.tensor1d(lab.subarray(0, n), 'int32');
    optimizer.minimize(
      () => {
        const logits = model.apply(x, { training: true }) as tf.Tensor2D;
        const dataLoss = crossEntropyFromLogits(logits, y);
        stats = tf.keep(tf.stack([dataLoss, tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'))]) as tf.Tensor1D);
        const penalty = weightPenalty(target.kernels, target.l1, target.l2);
        return penalty ? tf.add(dataLoss, penalty) : dataLoss;
      },
      false,
      target.vars,
    );
  });
  const statsT = stats as unknown as tf.Tensor1D;
  // Asynchronous read: the webgpu backend cannot read synchronously in Node.
  const [loss, hits] = await statsT.data();
  statsT.dispose();
  return [loss, hits];
}


/**
 * Check that a pack fits the run's model.
 * @throws Error when the image shape or class count differ, or there is no training item.
 */
export function checkPackFits(pack: LoadedPack, spec: RunSpec): void {
  const [h, w, c] = spec.model.inputShape;
  const m = pack.meta;
  if (m.height !== h || m.width !== w || m.channels !== c) {
    throw new Error(`pack is ${m.height}×${m.width}×${m.channels} but model.inputShape is ${h}×${w}×${c}`);
  }
  if (m.numClasses !== spec.model.numClasses) throw new Error(`pack has ${m.numClasses} classes but model.numClasses is ${spec.model.numClasses}`);
  if (pack.indices.train.length === 0) throw new Error('pack has no training items');
}

/**
 * Train one job. Sends, in order: per step `progress` (throttled to one per
 * PROGRESS_INTERVAL_MS, always the last step of each epoch), per epoch `metrics` then
 * `checkpoint` (`<outDir>/epoch-<e>/model.json`, e the 0-based epoch as in the message),
 * and at the end `predictions` (see ./predict.ts) then `done` (test split evaluated; null when empty). When `signal.aborted`
 * turns true between two steps it sends `done` with cancelled: true and returns.
 *
 * Training loss per step / epoch is the mean cross-entropy of the mini-batch(es), without
 * the L1/L2 penalty (the optimised objective adds it), so train and val losses compare.
 * Train accuracy is measured on the training batches as seen (augmented, dropout on).
 * With `maxTrainSamples` > 0 each epoch uses the first that many items of its own
 * shuffle (a different subset per epoch); the last batch of an epoch may be smaller.
 *
 * After each epoch the early-stopping monitor (spec.training.earlyStopping, ./schedules.ts)
 * may end training; the test metrics and predictions then come from the best epoch's
 * checkpoint (restoreBest), reported as `done.testedEpoch`. Beside each checkpoint the
 * optimizer state and train-state.json are saved; `job.resume` continues after such a
 * checkpoint as if never interrupted (weights, optimizer slots, step count, monitors;
 * shuffles, augmentation and dropout are re-derived from seed + epoch / step).
 * With `randomLabels` the training items' labels are a seeded permutation of themselves.
 *
 * The tfjs backend must already be initialised (initBackend). Everything is seeded from
 * spec.seed: weights, per-epoch shuffles, dropout masks, augmentation, random labels.
 * @throws Error on a missing or mismatched pack, an unwritable outDir, or a backend error;
 *   nothing is posted for it (the transport sends `failed`).
 */
export async function train(job: TrainJob, post: Post, signal: CancelSignal = { aborted: false }, observe: TrainObserver = {}): Promise<void> {
  const spec = job.spec;
  const pack = readPack(job.packDir);
  checkPackFits(pack, spec);
  const { height, width, channels } = pack.meta;
  const itemSize = height * width * channels;
  const t = spec.training;
  const seed = spec.seed;

  // Zhang et al. 2017: the training labels permuted among the training items; val and test keep theirs.
  const trainPack = t.randomLabels ? withRandomTrainLabels(pack, seed) : pack;

  const model = buildModel(spec.model, seed);
  const optimizer = makeOptimizer(t.optimizer);
  // A pre-trained backbone's preprocessing ([−1, 1] for the MobileNets) in training, evaluation and predictions alike.
  const range = inputRangeOf(spec);
  try {
    // Backbone weights over the seeded ones, its frozen nodes untrainable (before trainableVariables is read).
    await loadPretrained(model, spec);
    const vars = trainableVariables(model);
    const kernels = penalisedKernels(model);
    const { l1, l2 } = t.regularization;
    const augmenting = !isIdentity(t.augmentation);
    const adversarial = adversarialTrainer(model, t.adversarial, [height, width, channels], seed, range);

    const nTrain = t.maxTrainSamples > 0 ? Math.min(t.maxTrainSamples, pack.indices.train.length) : pack.indices.train.length;
    const stepsPerEpoch = Math.ceil(nTrain / t.batchSize);
    const totalSteps = stepsPerEpoch * t.epochs;
    const buf = new Float32Array(t.batchSize * itemSize);
    const lab = new Int32Array(t.batchSize);

    let trainSeconds = 0;
    let trainSamples = 0;
    let globalStep = 0;
    const stopper = new EarlyStopping(t.earlyStopping);
    const plateau = t.learningRateSchedule.type === 'plateau' ? new ReduceOnPlateau(t.learningRateSchedule) : null;
    let firstEpoch = 0;
    let stopped = false;
    if (job.resume) {
      const dir = join(job.outDir, `epoch-${job.resume.epoch}`);
      await loadCheckpointWeights(model, dir);
      const state = await loadTrainState(dir, optimizer);
      if (state.epoch !== job.resume.epoch) throw new Error(`${join(dir, 'train-state.json')}: holds epoch ${state.epoch}, not ${job.resume.epoch}`);
      firstEpoch = state.epoch + 1;
      ({ globalStep, trainSeconds, trainSamples, stopped } = state);
      stopper.state = { ...state.earlyStopping };
      if (plateau && state.plateau) plateau.state = { ...state.plateau };
    }
    let lastEpoch = firstEpoch - 1;
    const cancelled = (): boolean => {
      if (!signal.aborted) return false;
      post({ type: 'done', testLoss: null, testAccuracy: null, samplesPerSec: trainSeconds > 0 ? trainSamples / trainSeconds : 0, cancelled: true });
      return true;
    };

    for (let epoch = firstEpoch; epoch < t.epochs && !stopped; epoch++) {
      const base = learningRateAt(t.optimizer.learningRate, t.learningRateSchedule, epoch, t.epochs);
      const lr = plateau ? plateau.rate(base) : base;
      setLearningRate(optimizer, lr);
      const order = new Rng(deriveSeed(seed, 'shuffle', epoch)).shuffle(Int32Array.from(pack.indices.train));
      const augRng = new Rng(deriveSeed(seed, 'augment', epoch));
      const epochStart = performance.now();
      let lastPost = -Infinity;
      let unsentLosses: number[] = [];
      let lossSum = 0;
      let correct = 0;
      let seen = 0;

      for (let s = 0; s < stepsPerEpoch; s++) {
        await yieldToEventLoop();
        if (cancelled()) return;
        const stepStart = performance.now();
        const from = s * t.batchSize;
        const n = Math.min(t.batchSize, nTrain - from);
        fillBatch(trainPack, order, from, n, buf, lab, range);
        if (augmenting) augmentBatch(buf, n, height, width, channels, t.augmentation, augRng);
        observe.onBatch?.(buf.subarray(0, n * itemSize), lab.subarray(0, n), epoch, s);
        await adversarial?.mix(buf, lab, n, globalStep);
        setDropoutSeeds(model, seed, globalStep);

        const [stepLoss, stepHits] = await trainStep(model, optimizer, { vars, kernels, l1, l2 }, buf, lab, n, pack.meta);
        correct += stepHits;
        if (!Number.isFinite(stepLoss)) throw new Error(`training diverged: loss is ${stepLoss} at epoch ${epoch}, step ${s}; lower the learning rate`);

        lossSum += stepLoss * n;
        seen += n;
        unsentLosses.push(stepLoss);
        const now = performance.now();
        trainSeconds += (now - stepStart) / 1000;
        trainSamples += n;
        const last = s === stepsPerEpoch - 1;
        if (last || now - lastPost >= PROGRESS_INTERVAL_MS) {
          lastPost = now;
          const sps = seen / ((now - epochStart) / 1000);
          const remaining = totalSteps - globalStep - 1;
          post({
            type: 'progress',
            epoch,
            epochs: t.epochs,
            step: globalStep,
            totalSteps,
            loss: stepLoss,
            stepLosses: unsentLosses,
            samplesPerSec: sps,
            etaSeconds: sps > 0 ? (remaining * t.batchSize) / sps : 0,
          });
          unsentLosses = [];
        }
        globalStep++;
      }

      const val = await evaluate(model, pack, pack.indices.val, EVAL_BATCH_SIZE, range);
      const values: EpochValues = { train_loss: lossSum / seen, train_accuracy: correct / seen, val_loss: val?.loss ?? null, val_accuracy: val?.accuracy ?? null };
      post({
        type: 'metrics',
        epoch,
        trainLoss: values.train_loss!,
        trainAccuracy: values.train_accuracy!,
        valLoss: values.val_loss,
        valAccuracy: values.val_accuracy,
        ...(adversarial ? { valRobustAccuracy: await adversarial.robustAccuracy(pack) } : {}),
        learningRate: lr,
        seconds: (performance.now() - epochStart) / 1000,
      });
      stopped = stopper.observe(epoch, values);
      plateau?.observe(epoch, values, base);
      lastEpoch = epoch;
      const dir = join(job.outDir, `epoch-${epoch}`);
      const path = await saveCheckpoint(model, dir);
      await saveTrainState(dir, optimizer, { epoch, globalStep, trainSeconds, trainSamples, earlyStopping: stopper.state, plateau: plateau?.state ?? null, stopped });
      post({ type: 'checkpoint', epoch, path });
    }

    await yieldToEventLoop();
    if (cancelled()) return;
    // The best epoch's weights (restoreBest) for the test metrics and predictions, else the last epoch's.
    const best = stopper.restoreEpoch;
    const testedEpoch = best ?? (lastEpoch >= 0 ? lastEpoch : null);
    if (best !== null && best !== lastEpoch) await loadCheckpointWeights(model, join(job.outDir, `epoch-${best}`));
    const test = await evaluate(model, pack, pack.indices.test, EVAL_BATCH_SIZE, range);
    // Softmax of the tested model for every pack item (pack order), for suggestions and the confusion matrix.
    post({ type: 'predictions', ...(await writePredictions(model, pack, job.outDir, 500, range)) });
    post({
      type: 'done',
      testLoss: test?.loss ?? null,
      testAccuracy: test?.accuracy ?? null,
      samplesPerSec: trainSeconds > 0 ? trainSamples / trainSeconds : 0,
      cancelled: false,
      testedEpoch,
      stoppedEarly: stopped && lastEpoch < t.epochs - 1,
    });
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
