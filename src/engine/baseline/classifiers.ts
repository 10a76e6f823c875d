/**
 * The baselines' learners (issue 11), run in the engine process: standardization, PCA
 * (ml-pca), SVM (libsvm-js, asm build: C-SVC, linear or RBF, Platt probabilities), random
 * forest (ml-random-forest, with feature importance) and multinomial logistic regression
 * (our own, below). Features are rows: `X[i]` is the vector of item i.
 */
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { PCA } from 'ml-pca';
import { RandomForestClassifier } from 'ml-random-forest';
import type { ClassifierSpec, PcaSpec } from '../../shared/run-kinds';

/** Per-dimension mean and standard deviation of the training rows (sd 0 → 1, so a constant feature becomes 0). */
export interface Standardizer {
  mean: Float64Array;
  sd: Float64Array;
}

/** Fit the standardizer on `X` (n rows × d). @throws Error when X is empty. */
export function fitStandardizer(X: readonly ArrayLike<number>[]): Standardizer {
  if (X.length === 0) throw new Error('standardize: no training rows');
  const d = X[0].length;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const x of X) for (let j = 0; j < d; j++) mean[j] += x[j];
  for (let j = 0; j < d; j++) mean[j] /= X.length;
  for (const x of X) for (let j = 0; j < d; j++) sd[j] += (x[j] - mean[j]) ** 2;
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(sd[j] / X.length);
    sd[j] = s > 1e-12 ? s : 1;
  }
  return { mean, sd };
}

/** (x − mean) / sd per row, as plain arrays (what ml-pca, libsvm-js and ml-random-forest take). */
export function standardize(s: Standardizer, X: readonly ArrayLike<number>[]): number[][] {
  return X.map((x) => Array.from({ length: s.mean.length }, (_, j) => (x[j] - s.mean[j]) / s.sd[j]));
}

/**
 * PCA fitted on the (standardized) training rows by ml-pca's SVD, keeping
 * min(components, n, d) components.
 * @returns the projection for any rows and the number of components kept
 */
export function fitPca(spec: PcaSpec, Xtrain: number[][]): { components: number; explained: number; project(X: number[][]): number[][] } {
  const k = Math.min(spec.components, Xtrain.length, Xtrain[0].length);
  const pca = new PCA(Xtrain, { center: true, scale: false });
  const explained = pca.getExplainedVariance().slice(0, k).reduce((a, b) => a + b, 0);
  return { components: k, explained, project: (X) => pca.predict(X, { nComponents: k }).to2DArray() };
}

/** A fitted classifier: class probabilities per row (n × numClasses, row-major), and per-feature importance where the learner gives one. */
export interface FittedClassifier {
  predictProba(X: number[][]): Float32Array;
  featureImportance?: number[];
  /** Numbers the fitted learner keeps: SVM support vectors × (inputs + 1) for their coefficients; forest: tree nodes (split feature + threshold, or a leaf's class); logistic: (inputs + 1) × classes. */
  parameters: number;
}

interface LibSvm {
  train(samples: number[][], labels: number[]): void;
  predict(samples: number[][]): number[];
  getSVIndices(): number[];
  predictProbability(samples: number[][]): { prediction: number; estimates: { label: number; probability: number }[] }[];
  free(): void;
}
interface LibSvmClass {
  new (options: Record<string, unknown>): LibSvm;
  KERNEL_TYPES: { LINEAR: number; RBF: number };
  SVM_TYPES: { C_SVC: number };
}
let svmClass: LibSvmClass | null = null;
/** libsvm-js's synchronous asm build (the wasm one loads asynchronously and needs its .wasm beside the bundle). */
// `__filename` does not exist in ESM (Vitest): a require anchored at the cwd still resolves node_modules.
const loadSvm = (): LibSvmClass => (svmClass ??= createRequire(typeof __filename === 'string' ? __filename : `${process.cwd()}${sep}index.js`)('libsvm-js/asm') as LibSvmClass);

/**
 * The RBF kernel's default γ = 1 / (features · variance of all training values), scikit-learn's
 * `gamma='scale'` (SVC docs): 1 / features on standardized features, and still the right scale
 * after PCA, whose leading components carry far more than unit variance (libsvm's 1 / features
 * there gave 78 % instead of 94 % on MobileNet v2 features of hymenoptera).
 */
export function scaleGamma(X: readonly ArrayLike<number>[]): number {
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (const x of X)
    for (let j = 0; j < x.length; j++) {
      sum += x[j];
      sq += x[j] * x[j];
      n++;
    }
  const variance = sq / n - (sum / n) ** 2;
  return variance > 1e-12 ? 1 / ((n / X.length) * variance) : 1 / (n / X.length);
}

const oneHot = (pred: readonly number[], numClasses: number): Float32Array => {
  const out = new Float32Array(pred.length * numClasses);
  pred.forEach((c, i) => (out[i * numClasses + c] = 1));
  return out;
};

/**
 * Multinomial logistic regression: W (d × K), b (K) from zero by full-batch gradient descent
 * on L = mean_i −log softmax(x_i W + b)[y_i] + ½·l2·‖W‖²; ∂L/∂W = Xᵀ(P − Y)/n + l2·W,
 * ∂L/∂b = mean(P − Y) (Bishop 2006, PRML §4.3.4, eq. 4.109).
 */
export class SoftmaxRegression {
  readonly W: Float64Array;
  readonly b: Float64Array;
  constructor(readonly d: number, readonly numClasses: number) {
    this.W = new Float64Array(d * numClasses);
    this.b = new Float64Array(numClasses);
  }

  /** Softmax probabilities of each row (n × K, row-major). */
  probabilities(X: readonly ArrayLike<number>[]): Float64Array {
    const K = this.numClasses;
    const P = new Float64Array(X.length * K);
    X.forEach((x, i) => {
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        let z = this.b[k];
        for (let j = 0; j < this.d; j++) z += x[j] * this.W[j * K + k];
        P[i * K + k] = z;
        if (z > max) max = z;
      }
      let sum = 0;
      for (let k = 0; k < K; k++) sum += P[i * K + k] = Math.exp(P[i * K + k] - max);
      for (let k = 0; k < K; k++) P[i * K + k] /= sum;
    });
    return P;
  }

  /** The loss L above. */
  loss(X: readonly ArrayLike<number>[], y: readonly number[], l2: number): number {
    const P = this.probabilities(X);
    let l = 0;
    y.forEach((c, i) => (l -= Math.log(Math.max(P[i * this.numClasses + c], 1e-300))));
    let w2 = 0;
    for (const w of this.W) w2 += w * w;
    return l / X.length + 0.5 * l2 * w2;
  }

  /** ∂L/∂W (d × K) and ∂L/∂b. */
  gradient(X: readonly ArrayLike<number>[], y: readonly number[], l2: number): { dW: Float64Array; db: Float64Array } {
    const K = this.numClasses;
    const P = this.probabilities(X);
    const dW = new Float64Array(this.W.length);
    const db = new Float64Array(K);
    const n = X.length;
    X.forEach((x, i) => {
      for (let k = 0; k < K; k++) {
        const g = (P[i * K + k] - (y[i] === k ? 1 : 0)) / n;
        db[k] += g;
        for (let j = 0; j < this.d; j++) dW[j * K + k] += x[j] * g;
      }
    });
    for (let j = 0; j < dW.length; j++) dW[j] += l2 * this.W[j];
    return { dW, db };
  }

  /** `epochs` steps of gradient descent with rate `learningRate`; `onStep` after each (return false to stop). */
  fit(X: readonly ArrayLike<number>[], y: readonly number[], o: { l2: number; learningRate: number; epochs: number }, onStep?: (step: number) => boolean | void): void {
    for (let s = 0; s < o.epochs; s++) {
      const { dW, db } = this.gradient(X, y, o.l2);
      for (let j = 0; j < dW.length; j++) this.W[j] -= o.learningRate * dW[j];
      for (let k = 0; k < db.length; k++) this.b[k] -= o.learningRate * db[k];
      if (onStep?.(s) === false) return;
    }
  }
}

/** Nodes of the trees in a serialized forest (objects with a `left` / `right` or a leaf `distribution`). */
function countNodes(o: unknown): number {
  if (!o || typeof o !== 'object') return 0;
  if (Array.isArray(o)) return o.reduce((a: number, x) => a + countNodes(x), 0);
  const r = o as Record<string, unknown>;
  const here = 'splitColumn' in r || 'distribution' in r ? 1 : 0;
  // The forest's JSON is { baseModel: { estimators: [{ root: { left, right } }] } }.
  return here + countNodes(r.baseModel) + countNodes(r.estimators) + countNodes(r.root) + countNodes(r.left) + countNodes(r.right);
}

/**
 * Fit the classifier of `spec` on the rows `X` with class indices `y` (0 … numClasses−1).
 * @param seed the random forest's seed (libsvm's probability cross-validation uses its own fixed generator, the same in every fresh engine process)
 * @param progress called with a fraction done where the learner reports one (logistic regression)
 * @throws Error for fewer than two classes in `y`.
 */
export function fitClassifier(spec: ClassifierSpec, X: number[][], y: number[], numClasses: number, seed: number, progress?: (fraction: number) => void): FittedClassifier {
  if (new Set(y).size < 2) throw new Error('classifier: the training split has fewer than two classes');
  const d = X[0].length;
  switch (spec.type) {
    case 'svm': {
      const SVM = loadSvm();
      const svm = new SVM({
        type: SVM.SVM_TYPES.C_SVC,
        kernel: spec.kernel === 'rbf' ? SVM.KERNEL_TYPES.RBF : SVM.KERNEL_TYPES.LINEAR,
        cost: spec.C,
        gamma: spec.gamma ?? scaleGamma(X),
        probabilityEstimates: spec.probability,
        quiet: true,
      });
      svm.train(X, y);
      return {
        parameters: svm.getSVIndices().length * (d + 1),
        predictProba: (rows) => {
          if (!spec.probability) return oneHot(svm.predict(rows), numClasses);
          const out = new Float32Array(rows.length * numClasses);
          svm.predictProbability(rows).forEach((r, i) => {
            for (const e of r.estimates) out[i * numClasses + e.label] = e.probability;
          });
          return out;
        },
      };
    }
    case 'randomForest': {
      const rf = new RandomForestClassifier({
        nEstimators: spec.nEstimators,
        // ml-random-forest reads an integer as a count and a non-integer as a fraction: 1.0 would be one feature / one sample.
        maxFeatures: spec.maxFeatures === undefined ? Math.max(1, Math.round(Math.sqrt(d))) : spec.maxFeatures >= 1 ? d : spec.maxFeatures,
        replacement: true,
        useSampleBagging: true,
        ...(spec.maxSamples < 1 ? { maxSamples: spec.maxSamples } : {}),
        noOOB: true,
        seed,
        treeOptions: spec.maxDepth ? { maxDepth: spec.maxDepth } : {},
      } as unknown as ConstructorParameters<typeof RandomForestClassifier>[0]);
      rf.train(X, y);
      return {
        // Votes of the trees per class (one predictionValues pass, not one per class as rf.predictProbability does).
        predictProba: (rows) => {
          const votes = rf.predictionValues(rows).to2DArray();
          const out = new Float32Array(rows.length * numClasses);
          votes.forEach((v, i) => {
            for (const c of v) out[i * numClasses + c] += 1 / v.length;
          });
          return out;
        },
        featureImportance: (rf as unknown as { featureImportance(): number[] }).featureImportance(),
        parameters: 2 * countNodes(rf.toJSON()),
      };
    }
    case 'logisticRegression': {
      const lr = new SoftmaxRegression(d, numClasses);
      lr.fit(X, y, spec, (s) => progress?.((s + 1) / spec.epochs));
      return { predictProba: (rows) => Float32Array.from(lr.probabilities(rows)), parameters: (d + 1) * numClasses };
    }
  }
}
