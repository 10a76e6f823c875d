/**
 * Benchmark (not a test): per-kernel time of one LeNet-5 training step (Adam, batch 64)
 * on the wasm backend with our kernels. Run: npx tsx test/engine/bench-step.ts [batch]
 * Kernel times come from tf.profile (synchronous on wasm), as the median of 20 steps.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { buildModel, crossEntropyFromLogits, trainableVariables } from '../../src/engine/model';
import { buildPreset } from '../../src/shared/spec';

async function main(): Promise<void> {
  const batch = Number(process.argv[2] ?? 64);
  const info = await initBackend('cpu');
  const model = buildModel(buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }), 1);
  const opt = tf.train.adam(1e-3);
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 3);
  const y = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32');
  const vars = trainableVariables(model);
  const step = (): void =>
    tf.tidy(() => {
      opt.minimize(() => crossEntropyFromLogits(model.apply(x, { training: true }) as tf.Tensor2D, y), false, vars);
    });
  for (let i = 0; i < 10; i++) step();
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1];
  console.log(`${info.detail}: LeNet-5 step at batch ${batch}: median ${median.toFixed(1)} ms → ${((batch * 1000) / median).toFixed(0)} samples/s`);
  const per = new Map<string, number[]>();
  for (let r = 0; r < 20; r++) {
    const prof = await tf.profile(() => step());
    const acc = new Map<string, number>();
    for (const k of prof.kernels) {
      const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
      acc.set(key, (acc.get(key) ?? 0) + (k.kernelTimeMs as number));
    }
    for (const [k, v] of acc) per.set(k, [...(per.get(k) ?? []), v]);
  }
  const rows = [...per.entries()].map(([k, v]) => [k, v.sort((a, b) => a - b)[v.length >> 1]] as const).sort((a, b) => b[1] - a[1]);
  for (const [k, v] of rows.slice(0, 15)) console.log(`${v.toFixed(2).padStart(7)} ms  ${k}`);
}

void main();
