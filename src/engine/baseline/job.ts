/**
 * The `baseline` job (issue 11): a features or classic run on its pack. Features for every
 * item (./features.ts, cached), standardization and PCA fitted on the training split only,
 * the classifier fitted on train (./classifiers.ts), then the same messages a network run
 * ends with, so main stores it as any run: one `metrics` row (epoch 0: train and validation
 * log loss and accuracy, the fit's seconds), `predictions` (class probabilities of every
 * item in pack order, `<outDir>/predictions.f32`), `done` (test loss and accuracy; samples/s
 * = images classified per second, features included). `<outDir>/baseline.json` records the
 * pipeline's sizes and times (BaselineReport). `jobProgress` phases: features, fit, predict.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BaselineJob, EngineToMain } from '../../shared/engine-protocol';
import type { BaselineReport } from '../../shared/run-kinds';
import { readPack } from '../pack-reader';
import { PREDICTIONS_FILE } from '../predict';
import { fitClassifier, fitPca, fitStandardizer, standardize, type FittedClassifier } from './classifiers';
import { packFeatures } from './features';

const rowsOf = (values: Float32Array, dim: number, idx: ArrayLike<number>): Float32Array[] => Array.from(idx, (i) => values.subarray(i * dim, (i + 1) * dim));

/** Mean −log p(true class) (floored at 1e-7) and accuracy of probabilities P (rows of `idx`) against `labels`. */
function lossAndAccuracy(P: Float32Array, K: number, idx: ArrayLike<number>, labels: Int32Array): { loss: number; accuracy: number } | null {
  if (idx.length === 0) return null;
  let loss = 0;
  let ok = 0;
  for (let r = 0; r < idx.length; r++) {
    const i = idx[r];
    const y = labels[i];
    loss -= Math.log(Math.max(P[i * K + y], 1e-7));
    let best = 0;
    for (let k = 1; k < K; k++) if (P[i * K + k] > P[i * K + best]) best = k;
    if (best === y) ok++;
  }
  return { loss: loss / idx.length, accuracy: ok / idx.length };
}

/** Parameters a fitted pipeline holds: the backbone's weights up to its node (features runs), standardizer 2d, PCA d×k + d, and the classifier's (SVM: support vectors × inputs + coefficients; forest: tree nodes; logistic: (inputs + 1)·K). */
function parameterCount(c: FittedClassifier, d: number, k: number | null, backbone: number): number {
  return backbone + 2 * d + (k ? d * k + d : 0) + c.parameters;
}

/**
 * Run the job: post `ready` first (the caller does), then progress, metrics, predictions and `done`.
 * A `cancel` (signal) stops between items or before the fit and posts `done` with cancelled.
 * @throws Error for an unreadable pack or backbone file (the caller posts `failed`).
 */
export async function runBaselineJob(job: BaselineJob, post: (m: EngineToMain) => void, signal: AbortSignal): Promise<void> {
  const spec = job.spec;
  const pack = readPack(job.packDir);
  const K = pack.meta.numClasses;
  const cancelled = (): void => post({ type: 'done', testLoss: null, testAccuracy: null, samplesPerSec: 0, cancelled: true });
  const t0 = performance.now();
  const feats = await packFeatures(spec, pack, job.cacheDir, signal, (done, total) => post({ type: 'jobProgress', phase: 'features', done, total }));
  if (!feats) return cancelled();
  const featureSeconds = (performance.now() - t0) / 1000;
  if (signal.aborted) return cancelled();

  const t1 = performance.now();
  post({ type: 'jobProgress', phase: 'fit', done: 0, total: 1 });
  const { train, val, test } = pack.indices;
  const all = Array.from({ length: pack.meta.count }, (_, i) => i);
  const std = fitStandardizer(rowsOf(feats.values, feats.dim, train));
  let Z = standardize(std, rowsOf(feats.values, feats.dim, all));
  const pca = spec.pca ? fitPca(spec.pca, Array.from(train, (i) => Z[i])) : null;
  if (pca) Z = pca.project(Z);
  const Xtrain = Array.from(train, (i) => Z[i]);
  const ytrain = Array.from(train, (i) => pack.labels[i]);
  const clf = fitClassifier(spec.classifier, Xtrain, ytrain, K, spec.seed, (f) => post({ type: 'jobProgress', phase: 'fit', done: f, total: 1 }));
  const fitSeconds = (performance.now() - t1) / 1000;
  if (signal.aborted) return cancelled();

  post({ type: 'jobProgress', phase: 'predict', done: 0, total: 1 });
  const t2 = performance.now();
  const P = clf.predictProba(Z);
  const predictSeconds = (performance.now() - t2) / 1000;
  const trainM = lossAndAccuracy(P, K, train, pack.labels)!;
  const valM = lossAndAccuracy(P, K, val, pack.labels);
  const testM = lossAndAccuracy(P, K, test, pack.labels);
  post({ type: 'metrics', epoch: 0, trainLoss: trainM.loss, trainAccuracy: trainM.accuracy, valLoss: valM?.loss ?? null, valAccuracy: valM?.accuracy ?? null, learningRate: 0, seconds: featureSeconds + fitSeconds });
  const path = join(job.outDir, PREDICTIONS_FILE);
  writeFileSync(path, Buffer.from(P.buffer, P.byteOffset, P.byteLength));
  post({ type: 'predictions', path, count: pack.meta.count, numClasses: K });
  // Per image: its features' extraction (measured when computed, kept with the cache) plus the classifier.
  const classifierPerImage = predictSeconds / pack.meta.count;
  const perImage = feats.extractSecondsPerImage + classifierPerImage;
  const report: BaselineReport = {
    featureDim: feats.dim,
    pcaComponents: pca?.components ?? null,
    pcaExplained: pca?.explained ?? null,
    parameters: parameterCount(clf, feats.dim, pca?.components ?? null, feats.backboneParameters),
    backboneParameters: feats.backboneParameters,
    featureSeconds,
    featuresCached: feats.cached,
    fitSeconds,
    inferenceSecondsPerImage: perImage,
    classifierSecondsPerImage: classifierPerImage,
    trainCount: train.length,
    ...(clf.featureImportance ? { featureImportance: clf.featureImportance } : {}),
  };
  writeFileSync(join(job.outDir, 'baseline.json'), JSON.stringify(report));
  post({ type: 'done', testLoss: testM?.loss ?? null, testAccuracy: testM?.accuracy ?? null, samplesPerSec: perImage > 0 ? 1 / perImage : 0, cancelled: false, testedEpoch: 0, stoppedEarly: false });
}
