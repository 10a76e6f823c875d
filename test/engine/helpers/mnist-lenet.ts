/**
 * Test helper: the MNIST test set (../shared/data/mnist-test-idx, 10,000 images) as a pack
 * split 80/10/10 (seeded), and a LeNet-5 trained on its train split through the real
 * training function (wasm backend), loaded back from its last checkpoint.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { readCheckpoint } from '../../../src/engine/checkpoint';
import { readPack, type LoadedPack } from '../../../src/engine/pack-reader';
import { Rng } from '../../../src/engine/random';
import { train } from '../../../src/engine/train';
import { SPLIT_CODE } from '../../../src/shared/pack';
import { buildPreset, parseRunSpec, type RunSpec } from '../../../src/shared/spec';
import { readIdxGz, writePack } from './pack';

export const MNIST_DIR = process.env.MNIST_TEST_DIR ?? join(__dirname, '..', '..', '..', '..', 'shared', 'data', 'mnist-test-idx');
export const haveMnist = existsSync(join(MNIST_DIR, 't10k-images-idx3-ubyte.gz'));

/** Write the MNIST test set as a pack in `dir`, splits 80 % train / 10 % val / 10 % test of a seeded shuffle. */
export function writeMnistPack(dir: string, seed = 1): string {
  const x = readIdxGz(join(MNIST_DIR, 't10k-images-idx3-ubyte.gz'));
  const y = readIdxGz(join(MNIST_DIR, 't10k-labels-idx1-ubyte.gz'));
  const [n, h, w] = x.dims;
  const order = new Rng(seed).shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const splits = new Uint8Array(n);
  order.forEach((item, r) => (splits[item] = r < 0.8 * n ? SPLIT_CODE.train : r < 0.9 * n ? SPLIT_CODE.val : SPLIT_CODE.test));
  return writePack(dir, { height: h, width: w, channels: 1, numClasses: 10, pixels: x.data.slice(), labels: Int32Array.from(y.data), splits });
}

/** The run spec of the helper's LeNet-5 (Adam 1e-3, batch 64); `training` overrides fields. */
export function lenetSpec(epochs: number, training: Record<string, unknown> = {}): RunSpec {
  return parseRunSpec({
    datasetId: 1,
    seed: 42,
    backend: 'cpu',
    model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }),
    training: { optimizer: { type: 'adam', learningRate: 1e-3 }, batchSize: 64, epochs, ...training },
  });
}

/**
 * Train `spec` on the pack in `packDir` (outputs under `outDir`) and load the last epoch's checkpoint.
 * The tfjs backend must be initialised. @returns the model (caller disposes) and the pack.
 */
export async function trainAndLoad(spec: RunSpec, packDir: string, outDir: string): Promise<{ model: tfl.LayersModel; pack: LoadedPack }> {
  await train({ type: 'train', runId: 1, spec, packDir, outDir }, () => undefined);
  const model = await readCheckpoint(join(outDir, `epoch-${spec.training.epochs - 1}`));
  return { model, pack: readPack(packDir) };
}
