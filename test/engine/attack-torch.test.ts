/**
 * FGSM and PGD (fixed random start) on our LeNet-5, trained on the MNIST test set's train
 * split, against the same attacks written in PyTorch (test/engine/attack_reference.py, beside
 * this file) on the same weights (our graph built by bench/torch_graph.py): on the 1,000 test
 * images, per method and ε, the adversarial predictions agree on ≥ 99 % of the images and the
 * accuracies lie within 0.5 points. Skipped, with the reason, without python3-torch or the data.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { toB64 } from '../../bench/common';
import { fgsm, pgd, uniformStart } from '../../src/engine/attack';
import { initBackend } from '../../src/engine/backend';
import { Rng } from '../../src/engine/random';
import { toGraph } from '../../src/shared/spec';
import { haveMnist, lenetSpec, trainAndLoad, writeMnistPack } from './helpers/mnist-lenet';

const python = (process.env.LAYERWISE_PYTHON ? [process.env.LAYERWISE_PYTHON] : ['/usr/bin/python3', 'python3']).find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
if (!python) console.warn('[tests] skipped: test/engine/attack_reference.py needs python3-torch (apt-get install -y python3-torch)');
if (!haveMnist) console.warn('[tests] skipped: the attack reference needs ../shared/data/mnist-test-idx');

const dir = mkdtempSync(join(tmpdir(), 'lw-attack-torch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!python || !haveMnist)('FGSM and PGD against PyTorch on the same LeNet-5', () => {
  it('agree on ≥ 99 % of adversarial predictions, accuracy per ε within 0.5 points', { timeout: 900_000 }, async () => {
    await initBackend('cpu');
    const spec = lenetSpec(1);
    const { model, pack } = await trainAndLoad(spec, writeMnistPack(join(dir, 'pack')), join(dir, 'run'));
    const idx = pack.indices.test;
    const n = idx.length;
    const size = 28 * 28;
    const xs = new Float32Array(n * size);
    idx.forEach((item, b) => {
      for (let i = 0; i < size; i++) xs[b * size + i] = pack.pixels[item * size + i] / 255;
    });
    const labels = Array.from(idx, (i) => pack.labels[i]);
    const epsPixels = [0, 2, 4, 8, 16, 32];
    const steps = 10;
    const epsilons = epsPixels.map((e) => e / 255);
    const stepSizes = epsilons.map((e) => (2.5 * e) / steps);
    const starts = epsPixels.map((_, i) => uniformStart(new Rng(100 + i), n * size));

    const x = tf.tensor4d(xs, [n, 28, 28, 1]);
    const y = tf.tensor1d(labels, 'int32');
    const bounds = { min: 0, max: 1 };
    const argmax = (a: tf.Tensor4D): number[] => {
      const p = tf.tidy(() => Array.from((tf.argMax(model.apply(a, { training: false }) as tf.Tensor2D, 1).dataSync() as Int32Array)));
      a.dispose();
      return p;
    };
    const ours = { fgsm: [] as number[][], pgd: [] as number[][] };
    epsilons.forEach((eps, i) => {
      ours.fgsm.push(argmax(fgsm(model, x, y, eps, bounds)));
      const start = tf.tensor4d(starts[i], x.shape);
      ours.pgd.push(argmax(pgd(model, x, y, { epsilon: eps, steps, stepSize: stepSizes[i], bounds, start })));
      start.dispose();
    });

    const weights: Record<string, { shape: number[]; data: string }[]> = {};
    for (const layer of model.layers) {
      const ws = layer.getWeights();
      if (ws.length) weights[layer.name] = ws.map((t) => ({ shape: t.shape, data: toB64(t.dataSync() as Float32Array) }));
    }
    const g = toGraph(spec.model);
    const req = {
      graph: { inputShape: g.inputShape, numClasses: g.numClasses, nodes: g.nodes.map((d) => ({ name: d.name, layer: d.layer, inputs: d.inputs })), output: g.output },
      weights,
      x: toB64(xs),
      labels,
      epsilons,
      steps,
      stepSizes,
      starts: starts.map(toB64),
    };
    const r = spawnSync(python!, [join(__dirname, 'attack_reference.py')], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } });
    expect(r.status, r.stderr).toBe(0);
    const theirs = JSON.parse(r.stdout) as { fgsm: number[][]; pgd: number[][] };
    const acc = (p: number[]): number => p.filter((v, b) => v === labels[b]).length / n;
    const lines: string[] = [];
    for (const method of ['fgsm', 'pgd'] as const) {
      epsPixels.forEach((e, i) => {
        const a = ours[method][i];
        const b = theirs[method][i];
        const agree = a.filter((v, k) => v === b[k]).length / n;
        lines.push(`${method}@${e}/255: ours ${(100 * acc(a)).toFixed(1)} %, PyTorch ${(100 * acc(b)).toFixed(1)} %, agree ${(100 * agree).toFixed(1)} %`);
        expect(agree, lines.at(-1)).toBeGreaterThanOrEqual(0.99);
        expect(Math.abs(acc(a) - acc(b)), lines.at(-1)).toBeLessThanOrEqual(0.005);
      });
    }
    console.log(`attacks vs PyTorch on ${n} MNIST test images (LeNet-5, 1 epoch, PGD-${steps}, α = 2.5ε/${steps}):\n  ${lines.join('\n  ')}`);
    tf.dispose([x, y]);
    model.dispose();
  });
});
