/**
 * Where the time goes (not a benchmark table; `npm run bench -- engine` is): per-kernel time
 * of one training step and one inference batch of the benchmark models M1–M4 (bench/models.ts,
 * batch 64) on our engine, from tf.profile (synchronous on wasm), medians over repeats,
 * and the step's wall time next to the sum of kernel times (the rest is tfjs dispatch,
 * autograd and tidy bookkeeping). Inference runs through the native executor
 * (src/engine/infer.ts) when it can, as the engine does, and through tfjs as well.
 * Executor A/B switches: LAYERWISE_INFER_PER_OP=1 (one native call per op), LAYERWISE_INFER_NO_FUSE=1
 * (one call, without the fused conv + pool and direct 16-output conv), LAYERWISE_INFER_CHUNK=n (images per task).
 * Run: npx tsx bench/profile.ts [M1|M2|M3|M4] [train|infer] [repeats] [--stock-bn] [--stock-relu] [--stock-opt]
 * --stock-bn: unregister the native training batch-norm kernels (src/engine/kernels/batch-norm.ts),
 * so batch-norm layers train through tfjs' moments + FusedBatchNorm and its op-built gradient (A/B).
 * --stock-opt: tf.train.adam's own update instead of the engine's (src/engine/train.ts makeOptimizer: one native kernel per variable).
 * --stock-relu: unregister LwReluGrad (src/engine/kernels/relu.ts), so the Relu gradient is tfjs' Step · Cast · Multiply (A/B).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BN_TRAIN, BN_TRAIN_GRAD } from '../src/engine/kernels/batch-norm';
import { RELU_GRAD } from '../src/engine/kernels/relu';
import { initBackend } from '../src/engine/backend';
import { compileInference } from '../src/engine/infer';
import { buildModel, crossEntropyFromLogits, trainableVariables } from '../src/engine/model';
import { makeOptimizer } from '../src/engine/train';
import { BATCH, benchModel, type ModelName } from './models';

const med = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];

async function main(): Promise<void> {
  const stockBn = process.argv.includes('--stock-bn');
  const stockRelu = process.argv.includes('--stock-relu');
  const stockOpt = process.argv.includes('--stock-opt');
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--stock-'));
  const name = (args[0] ?? 'M1') as ModelName;
  const mode = args[1] ?? 'train';
  const reps = Number(args[2] ?? 20);
  const info = await initBackend('cpu');
  if (stockBn) for (const k of [BN_TRAIN, BN_TRAIN_GRAD]) if (tf.getKernel(k, 'wasm')) tf.unregisterKernel(k, 'wasm');
  if (stockRelu && tf.getKernel(RELU_GRAD, 'wasm')) tf.unregisterKernel(RELU_GRAD, 'wasm');
  const { spec } = benchModel(name);
  const model = buildModel(spec, 1);
  const opt = stockOpt ? tf.train.adam(1e-3) : makeOptimizer({ type: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
  const x = tf.randomUniform([BATCH, ...spec.inputShape], 0, 1, 'float32', 3) as tf.Tensor4D;
  const y = tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % 10), 'int32');
  const vars = trainableVariables(model);
  const step =
    mode === 'train'
      ? (): void =>
          tf.tidy(() => {
            opt.minimize(() => crossEntropyFromLogits(model.apply(x, { training: true }) as tf.Tensor2D, y), false, vars);
          })
      : (): void => tf.tidy(() => void (model.apply(x, { training: false }) as tf.Tensor).dataSync());
  for (let i = 0; i < 5; i++) step();
  const times: number[] = [];
  for (let i = 0; i < reps * 2; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  const wall = med(times);
  console.log(`${info.detail}\n${name} ${mode} (tfjs graph), batch ${BATCH}: median ${wall.toFixed(2)} ms → ${((BATCH * 1000) / wall).toFixed(0)} samples/s`);
  const per = new Map<string, number[]>();
  const totals: number[] = [];
  let count = 0;
  for (let r = 0; r < reps; r++) {
    const prof = await tf.profile(() => step());
    const acc = new Map<string, number>();
    let tot = 0;
    count = prof.kernels.length;
    for (const k of prof.kernels) {
      const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
      acc.set(key, (acc.get(key) ?? 0) + (k.kernelTimeMs as number));
      tot += k.kernelTimeMs as number;
    }
    totals.push(tot);
    for (const [k, v] of acc) per.set(k, [...(per.get(k) ?? []), v]);
  }
  console.log(`${count} kernel calls, kernel time ${med(totals).toFixed(2)} ms of ${wall.toFixed(2)} ms wall (rest: dispatch, autograd, tidy)`);
  const rows = [...per.entries()].map(([k, v]) => [k, med(v)] as const).sort((a, b) => b[1] - a[1]);
  for (const [k, v] of rows.slice(0, 20)) console.log(`${v.toFixed(3).padStart(8)} ms  ${k}`);
  // By kernel name (all shapes together); *__op entries are tfjs' op wrappers around the kernels they call, counted twice.
  const byName = new Map<string, number>();
  for (const [k, v] of rows) byName.set(k.split(' ')[0], (byName.get(k.split(' ')[0]) ?? 0) + v);
  console.log('by kernel: ' + [...byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, 16).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ') + ' (ms)');
  if (mode !== 'train') {
    const plan = compileInference(model, BATCH);
    if (!plan) return console.log('native executor: not available for this model');
    const xs = x.dataSync() as Float32Array;
    for (let i = 0; i < 5; i++) plan.run(xs, BATCH);
    const ts: number[] = [];
    for (let i = 0; i < reps * 5; i++) {
      const t0 = performance.now();
      plan.run(xs, BATCH);
      ts.push(performance.now() - t0);
    }
    const w = med(ts);
    console.log(`${name} inference (native executor: ${plan.describe()}): median ${w.toFixed(3)} ms → ${((BATCH * 1000) / w).toFixed(0)} samples/s`);
    console.log('per op (the per-op path: each op over the whole batch, one native call and pool dispatch each; the one-call executor above fuses conv + pool and runs chunks of images per thread):');
    const prof = plan.profile(xs, BATCH, reps);
    for (const [op, ms, cpu] of prof) console.log(`${ms.toFixed(3).padStart(8)} ms wall ${cpu.toFixed(3).padStart(8)} ms CPU  ${op}`);
  }
}

void main();
