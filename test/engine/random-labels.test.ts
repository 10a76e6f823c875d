/**
 * Random labels (Zhang et al. 2017, "Understanding deep learning requires rethinking
 * generalization", §2): on a Fashion-MNIST subset (1,000 training images of Debian's IDX
 * files, 1,000 validation, 1,000 test) an MLP trained on a seeded permutation of the training
 * labels memorizes them — training accuracy far above chance — while validation accuracy stays
 * at chance (10 classes: 10 %); the same run on the true labels generalizes. Skipped when the
 * IDX files are not installed.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/engine/backend';
import { train } from '../../src/engine/train';
import type { EngineToMain } from '../../src/shared/engine-protocol';
import { SPLIT_CODE } from '../../src/shared/pack';
import { buildPreset, parseRunSpec } from '../../src/shared/spec';
import { readIdxGz, writePack } from './helpers/pack';

const IDX = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
const have = existsSync(join(IDX, 'train-images-idx3-ubyte.gz'));
const N = 1000;
let dir = '';
let pack = '';

beforeAll(async () => {
  if (!have) return;
  await initBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'lw-random-labels-'));
  const x = readIdxGz(join(IDX, 'train-images-idx3-ubyte.gz'));
  const y = readIdxGz(join(IDX, 'train-labels-idx1-ubyte.gz'));
  const size = 28 * 28;
  // The first 3,000 training images: 1,000 train, 1,000 val, 1,000 test (a fixed subset, so memorizing is possible).
  const splits = new Uint8Array(3 * N).map((_, i) => (i < N ? SPLIT_CODE.train : i < 2 * N ? SPLIT_CODE.val : SPLIT_CODE.test));
  pack = writePack(join(dir, 'pack'), { height: 28, width: 28, channels: 1, numClasses: 10, pixels: x.data.slice(0, 3 * N * size), labels: Int32Array.from(y.data.subarray(0, 3 * N)), splits });
});
afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

async function run(randomLabels: boolean, epochs: number): Promise<{ epochs: Extract<EngineToMain, { type: 'metrics' }>[]; done: Extract<EngineToMain, { type: 'done' }> }> {
  const spec = parseRunSpec({
    datasetId: 1,
    seed: 1,
    backend: 'cpu',
    model: buildPreset('mlp', { inputShape: [28, 28, 1], numClasses: 10, hiddenUnits: [512] }),
    training: { optimizer: { type: 'adam', learningRate: 1e-3 }, batchSize: 32, epochs, randomLabels, earlyStopping: { restoreBest: false } },
  });
  const msgs: EngineToMain[] = [];
  await train({ type: 'train', runId: 1, spec, packDir: pack, outDir: join(dir, `out-${randomLabels}`) }, (m) => {
    if (m.type === 'metrics' || m.type === 'done') msgs.push(m);
  });
  return { epochs: msgs.filter((m): m is Extract<EngineToMain, { type: 'metrics' }> => m.type === 'metrics'), done: msgs[msgs.length - 1] as Extract<EngineToMain, { type: 'done' }> };
}

describe.skipIf(!have)('random labels on a Fashion-MNIST subset', () => {
  it('memorizes: train accuracy far above chance, validation and test at chance; true labels generalize', { timeout: 600_000 }, async () => {
    const rnd = await run(true, 60);
    const last = rnd.epochs[rnd.epochs.length - 1];
    const real = await run(false, 10);
    const realLast = real.epochs[real.epochs.length - 1];
    const pct = (v: number | null | undefined) => `${((v ?? NaN) * 100).toFixed(1)} %`;
    console.log(
      `random labels, MLP 784-512-10, 1,000 train images, 60 epochs: train accuracy ${rnd.epochs.filter((_, i) => i % 10 === 9).map((m) => pct(m.trainAccuracy)).join(' → ')}, ` +
        `val ${pct(last.valAccuracy)}, test ${pct(rnd.done.testAccuracy)}; true labels, 10 epochs: train ${pct(realLast.trainAccuracy)}, val ${pct(realLast.valAccuracy)}, test ${pct(real.done.testAccuracy)}`,
    );
    expect(last.trainAccuracy).toBeGreaterThan(0.9);
    // Chance is 10 %; with 1,000 images one standard deviation of a chance accuracy is ≈ 0.95 points.
    expect(last.valAccuracy!).toBeLessThan(0.16);
    expect(last.valAccuracy!).toBeGreaterThan(0.04);
    expect(rnd.done.testAccuracy!).toBeLessThan(0.16);
    expect(realLast.valAccuracy!).toBeGreaterThan(0.7);
  });
});
