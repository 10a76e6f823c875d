/**
 * The baselines' learners (src/engine/baseline/classifiers.ts): our softmax regression's
 * gradient against central differences, and each learner on seeded synthetic problems whose
 * answer is known — two Gaussian blobs (linearly separable), concentric rings (a linear
 * boundary is at chance, an RBF SVM and a forest are not), one informative feature among
 * noise (the forest's importance must single it out), and PCA's first component along the
 * direction the data was stretched in.
 */
import { describe, expect, it } from 'vitest';
import { fitClassifier, fitPca, fitStandardizer, SoftmaxRegression, standardize } from '../../src/engine/baseline/classifiers';
import { ClassifierSpecSchema, type ClassifierSpecInput } from '../../src/shared/run-kinds';
import { mulberry32 } from '../../src/shared/random';

const gauss = (r: () => number): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

function blobs(n: number, seed: number): { X: number[][]; y: number[] } {
  const r = mulberry32(seed);
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    X.push([gauss(r) + [0, 4, 0][c], gauss(r) + [0, 0, 4][c], gauss(r)]);
    y.push(c);
  }
  return { X, y };
}

function rings(n: number, seed: number): { X: number[][]; y: number[] } {
  const r = mulberry32(seed);
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    const rad = (c ? 3 : 1) + 0.3 * gauss(r);
    const a = 2 * Math.PI * r();
    X.push([rad * Math.cos(a), rad * Math.sin(a)]);
    y.push(c);
  }
  return { X, y };
}

const accuracy = (P: Float32Array, y: number[], K: number): number => {
  let ok = 0;
  y.forEach((c, i) => {
    let best = 0;
    for (let k = 1; k < K; k++) if (P[i * K + k] > P[i * K + best]) best = k;
    if (best === c) ok++;
  });
  return ok / y.length;
};

const fit = (spec: ClassifierSpecInput, X: number[][], y: number[], K: number) => fitClassifier(ClassifierSpecSchema.parse(spec), X, y, K, 7);

describe('softmax regression', () => {
  it('has the gradient of its loss (central differences, max relative error < 1e-6)', () => {
    const { X, y } = blobs(30, 1);
    const m = new SoftmaxRegression(3, 3);
    const r = mulberry32(2);
    for (let j = 0; j < m.W.length; j++) m.W[j] = gauss(r) * 0.5;
    for (let k = 0; k < 3; k++) m.b[k] = gauss(r) * 0.5;
    const l2 = 0.1;
    const { dW, db } = m.gradient(X, y, l2);
    const h = 1e-5;
    const numeric = (arr: Float64Array, j: number): number => {
      const v = arr[j];
      arr[j] = v + h;
      const up = m.loss(X, y, l2);
      arr[j] = v - h;
      const down = m.loss(X, y, l2);
      arr[j] = v;
      return (up - down) / (2 * h);
    };
    let worst = 0;
    for (let j = 0; j < dW.length; j++) worst = Math.max(worst, Math.abs(dW[j] - numeric(m.W, j)) / Math.max(1e-8, Math.abs(dW[j])));
    for (let k = 0; k < db.length; k++) worst = Math.max(worst, Math.abs(db[k] - numeric(m.b, k)) / Math.max(1e-8, Math.abs(db[k])));
    expect(worst).toBeLessThan(1e-6);
  });

  it('lowers its loss and separates three blobs (held-out accuracy ≥ 95 %)', () => {
    const train = blobs(300, 3);
    const test = blobs(300, 4);
    const m = new SoftmaxRegression(3, 3);
    const before = m.loss(train.X, train.y, 1e-3);
    m.fit(train.X, train.y, { l2: 1e-3, learningRate: 0.5, epochs: 200 });
    expect(m.loss(train.X, train.y, 1e-3)).toBeLessThan(before / 4);
    expect(accuracy(Float32Array.from(m.probabilities(test.X)), test.y, 3)).toBeGreaterThanOrEqual(0.95);
  });
});

describe('classifiers', () => {
  const train = rings(400, 5);
  const test = rings(400, 6);

  it('linear SVM separates blobs; its probabilities sum to 1', () => {
    const a = blobs(300, 8);
    const b = blobs(300, 9);
    const c = fit({ type: 'svm', kernel: 'linear', C: 1, probability: true }, a.X, a.y, 3);
    const P = c.predictProba(b.X);
    expect(accuracy(P, b.y, 3)).toBeGreaterThanOrEqual(0.95);
    for (let i = 0; i < b.y.length; i++) expect(P[i * 3] + P[i * 3 + 1] + P[i * 3 + 2]).toBeCloseTo(1, 5);
  });

  it('on rings a linear SVM stays near chance (< 70 %) and an RBF SVM does not (≥ 95 %)', () => {
    const linear = fit({ type: 'svm', kernel: 'linear', C: 1, probability: false }, train.X, train.y, 2);
    const rbf = fit({ type: 'svm', kernel: 'rbf', C: 1, gamma: 0.5, probability: true }, train.X, train.y, 2);
    expect(accuracy(linear.predictProba(test.X), test.y, 2)).toBeLessThan(0.7);
    expect(accuracy(rbf.predictProba(test.X), test.y, 2)).toBeGreaterThanOrEqual(0.95);
  });

  it('random forest fits rings (≥ 90 %), is reproducible from its seed, and finds the informative feature', () => {
    const rf = fit({ type: 'randomForest', nEstimators: 30 }, train.X, train.y, 2);
    expect(accuracy(rf.predictProba(test.X), test.y, 2)).toBeGreaterThanOrEqual(0.9);
    // Rings need several splits per tree: at least a root and two leaves in each of the 30 trees, two numbers a node.
    expect(rf.parameters).toBeGreaterThanOrEqual(2 * 30 * 3);
    expect(Array.from(fit({ type: 'randomForest', nEstimators: 30 }, train.X, train.y, 2).predictProba(test.X))).toEqual(Array.from(rf.predictProba(test.X)));
    const r = mulberry32(11);
    const X = Array.from({ length: 300 }, () => [gauss(r), gauss(r), gauss(r), gauss(r)]);
    const y = X.map((x) => (x[2] > 0 ? 1 : 0));
    const imp = fit({ type: 'randomForest', nEstimators: 15, maxFeatures: 1 }, X, y, 2).featureImportance!;
    expect(imp.indexOf(Math.max(...imp))).toBe(2);
    expect(imp[2]).toBeGreaterThan(1.5 * Math.max(imp[0], imp[1], imp[3]));
  });

  it('standardizes with training statistics; PCA finds the stretched direction', () => {
    const r = mulberry32(12);
    const u = [1 / Math.sqrt(2), 1 / Math.sqrt(2), 0];
    const X = Array.from({ length: 200 }, () => {
      const t = 5 * gauss(r);
      return [t * u[0] + 0.3 * gauss(r), t * u[1] + 0.3 * gauss(r), 0.3 * gauss(r)];
    });
    const s = fitStandardizer(X);
    const Z = standardize(s, X);
    for (let j = 0; j < 3; j++) {
      const m = Z.reduce((a, z) => a + z[j], 0) / Z.length;
      const v = Z.reduce((a, z) => a + (z[j] - m) ** 2, 0) / Z.length;
      expect(m).toBeCloseTo(0, 10);
      expect(v).toBeCloseTo(1, 10);
    }
    const p = fitPca({ components: 1 }, X);
    expect(p.components).toBe(1);
    const proj = p.project(X).map((row) => row[0]);
    // The first component's score is ±(x · u) up to centring: correlation |ρ| > 0.99.
    const dot = X.map((x) => x[0] * u[0] + x[1] * u[1]);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const [ma, mb] = [mean(proj), mean(dot)];
    const cov = proj.reduce((acc, a, i) => acc + (a - ma) * (dot[i] - mb), 0);
    const rho = cov / Math.sqrt(proj.reduce((a, x) => a + (x - ma) ** 2, 0) * dot.reduce((a, x) => a + (x - mb) ** 2, 0));
    expect(Math.abs(rho)).toBeGreaterThan(0.99);
    expect(p.explained).toBeGreaterThan(0.95);
  });
});
