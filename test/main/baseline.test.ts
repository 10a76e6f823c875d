/**
 * Baselines end to end as a user runs them (in-process runCli, real SQLite file, real engine
 * processes, real images from ../shared/data):
 * - classic: `layerwise baseline --features hog --classifier svm` on the CIFAR-10 subset
 *   (10 classes, chance 10 %) must reach ≥ 30 % test accuracy (3× chance; HoG + a linear
 *   classifier is known to land near 40-50 % on full CIFAR-10);
 * - features: MobileNet v2 1.0/224's global pooling → PCA 64 → SVM with the defaults a user gets
 *   (linear, C 1; RBF with γ 'scale') on hymenoptera must reach ≥ 90 % validation accuracy
 *   (153 images; measured 96.08 % linear, 95.42 % RBF). The smaller v1 0.5/160 sits on the bar
 *   (logistic regression 90.20 %, linear SVM 88.89 %, PCA 32 + linear SVM 90.20 %: one or two
 *   images either way), so it is not the one asserted; v1 0.75/192 + linear SVM gets 95.42 %;
 * - the same spec and seed again gives byte-identical predictions (from the feature cache);
 * - the Pipelines table of the version lists the network, features and classic runs, with
 *   per-item predictions behind each (confusion matrix) and a baseline report.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/main/host/cli-program';
import { createApp } from '../../src/main/services/app';
import { sharedData, tempDataDir, type TempDataDir } from '../helpers';
import { argv, io } from './cli-io';

const models = sharedData('mobilenet-tflite');
const hymen = sharedData('hymenoptera');
const cifar = sharedData('cifar10-subset');

const json = (lines: string[]): Record<string, unknown> => JSON.parse(lines.join('\n').slice(lines.join('\n').indexOf('{')));

describe.skipIf(!cifar)('layerwise baseline: classic HoG + linear SVM on the CIFAR-10 subset', () => {
  let dir: TempDataDir;
  beforeAll(() => (dir = tempDataDir()));
  afterAll(() => dir?.cleanup());

  it('beats chance (10 %) by at least 20 points on test', async () => {
    let o = io();
    expect(await runCli(argv('import', cifar!, '--name', 'cifar', '--data-dir', dir.root), o)).toBe(0);
    o = io();
    const code = await runCli(argv('baseline', '--dataset', 'cifar', '--features', 'hog', '--classifier', 'svm', '--set', 'classifier.probability=false', '--json', '--data-dir', dir.root), o);
    expect(o.errors).toEqual([]);
    expect(code).toBe(0);
    const r = json(o.lines);
    console.log(`[baseline] CIFAR-10 subset HoG + linear SVM: val ${r.valAccuracy}, test ${r.testAccuracy}`, JSON.stringify(r.report));
    expect(r.testAccuracy as number).toBeGreaterThanOrEqual(0.3);
    expect((r.report as { featureDim: number }).featureDim).toBe(324); // 3×3 blocks × 2×2 cells × 9 orientations at 32×32
  }, 900_000);
});

describe.skipIf(!models || !hymen)('layerwise baseline: MobileNet features + PCA + SVM on hymenoptera, beside a network', () => {
  let dir: TempDataDir;
  beforeAll(() => (dir = tempDataDir()));
  afterAll(() => dir?.cleanup());
  const model = (): string => join(models!, 'mobilenet_v2_1.0_224_quant.tflite');

  it('reaches ≥ 90 % validation accuracy; the same spec and seed gives identical predictions; the table lists every kind', async () => {
    let o = io();
    expect(await runCli(argv('import', hymen!, '--name', 'hymenoptera', '--data-dir', dir.root), o)).toBe(0);

    o = io();
    expect(await runCli(argv('baseline', '--dataset', 'hymenoptera', '--features', model(), '--pca', '64', '--classifier', 'svm', '--json', '--data-dir', dir.root), o)).toBe(0);
    expect(o.errors).toEqual([]);
    const first = json(o.lines) as { runId: number; valAccuracy: number; testAccuracy: number | null; report: { featureDim: number; featuresCached: boolean; pcaComponents: number | null; backboneParameters?: number; inferenceSecondsPerImage: number; classifierSecondsPerImage?: number } };
    console.log(`[baseline] hymenoptera MobileNet v2 1.0/224 pooling + PCA 64 + linear SVM: val ${first.valAccuracy}`, JSON.stringify(first.report));
    expect(first.valAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(first.report.featureDim).toBe(1280);
    expect(first.report.pcaComponents).toBe(64);
    // Its parameters include the backbone up to the pooling: Keras' MobileNetV2 1.0/224 has 3.54 M, 1.28 M of them the 1000-class top.
    expect(first.report.backboneParameters).toBeGreaterThan(2.0e6);
    expect(first.report.backboneParameters).toBeLessThan(2.4e6);
    expect(first.report.featuresCached).toBe(false);

    o = io();
    expect(await runCli(argv('baseline', '--dataset', 'hymenoptera', '--features', model(), '--pca', '64', '--classifier', 'svm', '--json', '--data-dir', dir.root), o)).toBe(0);
    const again = json(o.lines) as typeof first;
    expect(again.report.featuresCached).toBe(true);
    // Inference per image is the backbone's extraction + the classifier, cached features or not:
    // the two runs agree within 3×, and both are far above the classifier alone.
    const inf = (r: typeof first): number => r.report.inferenceSecondsPerImage;
    console.log(`[baseline] inference per image: first ${(1000 * inf(first)).toFixed(3)} ms, cached ${(1000 * inf(again)).toFixed(3)} ms, classifier alone ${(1000 * again.report.classifierSecondsPerImage!).toFixed(4)} ms`);
    expect(inf(again) / inf(first)).toBeGreaterThan(1 / 3);
    expect(inf(again) / inf(first)).toBeLessThan(3);
    for (const r of [first, again]) expect(inf(r)).toBeGreaterThan(10 * r.report.classifierSecondsPerImage!);
    // RBF after PCA: the default γ must follow the components' variance (libsvm's 1 / features gave 78 %).
    o = io();
    expect(await runCli(argv('baseline', '--dataset', 'hymenoptera', '--features', model(), '--pca', '64', '--classifier', 'rbf', '--json', '--data-dir', dir.root), o)).toBe(0);
    const rbf = json(o.lines) as typeof first;
    console.log(`[baseline] hymenoptera MobileNet v2 1.0/224 pooling + PCA 64 + RBF SVM: val ${rbf.valAccuracy}`);
    expect(rbf.valAccuracy).toBeGreaterThanOrEqual(0.9);
    const preds = (id: number): Buffer => readFileSync(join(dir.root, 'runs', String(id), 'predictions.f32'));
    expect(preds(again.runId).equals(preds(first.runId))).toBe(true);

    o = io();
    expect(await runCli(argv('baseline', '--dataset', 'hymenoptera', '--features', 'lbp', '--classifier', 'rf', '--input-size', '64x64x3', '--json', '--data-dir', dir.root), o)).toBe(0);
    const classic = json(o.lines) as typeof first;
    o = io();
    expect(await runCli(argv('train', '--dataset', 'hymenoptera', '--preset', 'linear', '--epochs', '1', '--input-size', '32x32x3', '--data-dir', dir.root), o)).toBe(0);

    const app = createApp({ dataDir: dir.root, host: 'headless' });
    try {
      const table = (await app.handle('runs.pipelines', { datasetId: 1 })) as { rows: { runId: number; kind: string; accuracy: number | null; macroF1: number | null; parameters: number | null; split: string | null; inferenceMsPerImage: number | null }[] };
      expect(table.rows.map((r) => r.kind).sort()).toEqual(['classic', 'features', 'features', 'features', 'network']);
      for (const r of table.rows) {
        expect(r.split).toBe('val');
        expect(r.accuracy).toBeGreaterThan(0);
        expect(r.macroF1).toBeGreaterThan(0);
        expect(r.parameters).toBeGreaterThan(0);
      }
      expect(table.rows.find((r) => r.runId === first.runId)!.accuracy).toBeCloseTo(first.valAccuracy, 10);
      // Every row has an inference time per image: a baseline's pipeline, a network's final prediction pass (inference.json).
      for (const r of table.rows) expect(r.inferenceMsPerImage, `run ${r.runId} (${r.kind})`).toBeGreaterThan(0);
      // The per-item predictions feed the confusion matrix as a network's do.
      const cm = (await app.handle('runs.confusion', { runId: classic.runId })) as { counts: number[][] };
      expect(cm.counts.flat().reduce((a, b) => a + b, 0)).toBe(153);
    } finally {
      await app.dispose();
    }
  }, 900_000);

  it('a features run reports its phases (features n / N) and cancels during the feature extraction', async () => {
    const app = createApp({ dataDir: dir.root, host: 'headless' });
    try {
      // MobileNet v1 0.75/192: not cached by the test above, so its 398 images are extracted now.
      const spec = { kind: 'features', datasetId: 1, classifier: { type: 'svm' }, backbone: { file: join(models!, 'mobilenet_v1_0.75_192_quant.tflite'), node: 'MobilenetV1/Logits/AvgPool_1a', inputRange: 'symmetric' }, inputShape: [192, 192, 3] };
      const seen: { phase: string; done: number; total: number }[] = [];
      let runId = 0;
      const cancelled = new Promise<void>((resolve) => {
        app.onEvent((e) => {
          if (e.event !== 'run.baselineProgress' || e.payload.runId !== runId) return;
          seen.push(e.payload);
          if (e.payload.phase === 'features' && seen.length === 1) void app.handle('runs.cancel', { runId }).then(() => resolve());
        });
      });
      ({ runId } = (await app.handle('runs.start', { spec })) as { runId: number });
      await cancelled;
      const final = await app.runs.waitFor(runId);
      expect(final.status).toBe('cancelled');
      expect(seen[0]).toMatchObject({ phase: 'features', total: 398 });
      expect(seen[0].done).toBeLessThan(398);
      expect(seen.some((p) => p.phase === 'fit')).toBe(false);
    } finally {
      await app.dispose();
    }
  }, 300_000);
});
