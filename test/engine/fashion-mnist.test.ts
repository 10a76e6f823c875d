/**
 * End-to-end accuracy: LeNet-5 on Fashion-MNIST (Debian's IDX files), 2 epochs, fixed
 * seed, on the wasm backend through the real training function. Train = 60,000 − 10 %
 * val, test = the 10,000 t10k images. Defaults: Adam (lr 1e-3), batch 64.
 * Skipped when the IDX files are not installed.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/engine/backend';
import { train } from '../../src/engine/train';
import type { EngineToMain } from '../../src/shared/engine-protocol';
import { buildPreset, parseRunSpec } from '../../src/shared/spec';
import { writeIdxPack } from './helpers/pack';

const IDX = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
const have = existsSync(join(IDX, 'train-images-idx3-ubyte.gz'));
const dir = mkdtempSync(join(tmpdir(), 'lw-engine-fmnist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!have)('Fashion-MNIST', () => {
  it('LeNet-5, 2 epochs, seed 42: test accuracy ≥ 0.85', { timeout: 600_000 }, async () => {
    const info = await initBackend('cpu');
    const pack = writeIdxPack(IDX, join(dir, 'pack'));
    const spec = parseRunSpec({
      datasetId: 1,
      seed: 42,
      backend: 'cpu',
      model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }),
      training: { optimizer: { type: 'adam', learningRate: 1e-3 }, batchSize: 64, epochs: 2 },
    });
    const msgs: EngineToMain[] = [];
    const t0 = performance.now();
    await train({ type: 'train', runId: 1, spec, packDir: pack, outDir: join(dir, 'out') }, (m) => {
      if (m.type !== 'progress') msgs.push(m);
    });
    const seconds = (performance.now() - t0) / 1000;
    const done = msgs[msgs.length - 1] as Extract<EngineToMain, { type: 'done' }>;
    const epochs = msgs.filter((m): m is Extract<EngineToMain, { type: 'metrics' }> => m.type === 'metrics');
    console.log(
      `Fashion-MNIST LeNet-5 on ${info.detail}: ${seconds.toFixed(1)} s for 2 epochs (${epochs.map((e) => `${e.seconds.toFixed(1)} s`).join(', ')}), ` +
        `${done.samplesPerSec.toFixed(0)} training samples/s, val acc ${epochs.map((e) => e.valAccuracy?.toFixed(4)).join(' → ')}, ` +
        `test loss ${done.testLoss?.toFixed(4)}, test accuracy ${done.testAccuracy?.toFixed(4)}`,
    );
    expect(done.type).toBe('done');
    expect(done.testAccuracy).toBeGreaterThanOrEqual(0.85);
  });
});
