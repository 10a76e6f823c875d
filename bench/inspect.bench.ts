/**
 * `npm run bench -- inspect [-- --quick]`: issue 10's "fast enough to explore" figure for
 * saliency: Grad-CAM for one image (src/engine/saliency.ts gradCam, at the default node: the
 * last with feature maps larger than 1 × 1) on M2 (bench/models.ts: the small VGG on 32×32×3),
 * on the CPU backend the inspect jobs use (wasm with our kernels), in the engine process itself
 * (checkpoint load and process start are not counted: they happen once per job). Target
 * < 200 ms. Beside it, for scale: the vanilla input gradient and every node's activations of
 * one image, and (full mode) the same on M3 (ResNet-20). Median of N runs after one warm-up.
 * --quick: M2 only, 3 runs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend';
import { nodeActivations } from '../src/engine/inspect';
import { buildModel } from '../src/engine/model';
import { modelNodes } from '../src/engine/model-graph';
import { Rng } from '../src/engine/random';
import { defaultCamNode, gradCam, inputGradients } from '../src/engine/saliency';
import { benchModel, type ModelName } from './models';

const QUICK = process.argv.includes('--quick');
const RUNS = QUICK ? 3 : 20;
const TARGET_MS = 200;

async function median(f: () => Promise<unknown>): Promise<number> {
  await f();
  const t: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

async function main(): Promise<number> {
  const info = await initBackend('cpu');
  console.log(`backend ${info.backend}${info.detail ? ` (${info.detail})` : ''}, median of ${RUNS} runs after a warm-up`);
  console.log('| model | Grad-CAM node | Grad-CAM ms | gradient ms | activations ms | target |');
  console.log('|---|---|---|---|---|---|');
  let miss = false;
  for (const name of (QUICK ? ['M2'] : ['M2', 'M3']) as ModelName[]) {
    const { spec } = benchModel(name, false);
    const model = buildModel(spec, 1);
    const nodes = modelNodes(model);
    const camNode = defaultCamNode(nodes)!;
    const [h, w, c] = spec.inputShape;
    const rng = new Rng(2);
    const image = Float32Array.from({ length: h * w * c }, () => rng.next());
    const x = tf.tensor4d(image, [1, h, w, c]);
    const cam = await median(() => gradCam(model, nodes, x, [3], camNode));
    const grad = await median(() => inputGradients(model, x, [3]));
    const acts = await median(async () => nodeActivations(model, image));
    const ok = name !== 'M2' || cam < TARGET_MS;
    miss ||= !ok;
    console.log(`| ${name} | ${camNode} | ${cam.toFixed(1)} | ${grad.toFixed(1)} | ${acts.toFixed(1)} | ${name === 'M2' ? `< ${TARGET_MS} ms ${ok ? 'met' : 'MISSED'}` : '—'} |`);
    x.dispose();
    model.dispose();
  }
  // Speed is reported, never judged in quick mode (a loaded CI machine).
  return miss && !QUICK ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
