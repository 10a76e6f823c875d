/**
 * A/B of the M1 training-step kernels changed in the fused-optimizer round (docs/ENGINE.md): MaxPoolGrad on
 * non-overlapping 2×2 / 2 windows, the bias Add of a conv / dense layer, and one Adam update of LeNet-5's largest
 * kernel (fused kernel vs tf.train.adam's ops; with an addon that predates the kernel both run tfjs' ops); CPU ms of one
 * call after 5 untimed, batch 64, median of 41 (checksums compare builds).
 * Run: LAYERWISE_THREADS=1 [LAYERWISE_NATIVE_ADDON=/path/other.node] npx tsx bench/ops-ab.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend';
import { FusedAdamOptimizer } from '../src/engine/kernels/optimizer';

function cpuMs(label: string, run: () => tf.Tensor | void): void {
  for (let i = 0; i < 5; i++) {
    const o = run(); // warm-up (JIT, first-use allocations), untimed
    if (o) o.dispose();
  }
  const ts: number[] = [];
  let sum = 0;
  for (let i = 0; i < 41; i++) {
    const c0 = process.cpuUsage();
    const o = run();
    const c = process.cpuUsage(c0);
    ts.push((c.user + c.system) / 1000);
    if (o) {
      if (i === 0) sum = (o.dataSync() as Float32Array).reduce((a, b) => a + Math.abs(b), 0);
      o.dispose();
    }
  }
  ts.sort((a, b) => a - b);
  console.log(`${label}: CPU ms median ${ts[20].toFixed(3)} min ${ts[0].toFixed(3)}${sum ? ` checksum ${sum.toFixed(3)}` : ''}`);
}

void (async () => {
  await initBackend('cpu', { threads: Number(process.env.T ?? 1) });
  for (const x of [[64, 28, 28, 6], [64, 10, 10, 16], [64, 32, 32, 32]] as [number, number, number, number][]) {
    const xt = tf.randomNormal(x, 0, 1, 'float32', 1) as tf.Tensor4D;
    const dy = tf.randomNormal(tf.maxPool(xt, 2, 2, 'valid').shape, 0, 1, 'float32', 2);
    const attrs = { filterSize: 2, strides: 2, pad: 'valid', dimRoundingMode: undefined } as never;
    const output = tf.maxPool(xt, 2, 2, 'valid');
    cpuMs(`MaxPoolGrad ${x.join('×')} 2×2/2`, () => tf.engine().runKernel('MaxPoolGrad', { dy, input: xt, output }, attrs) as tf.Tensor);
    const bias = tf.randomNormal([1, 1, 1, x[3]], 0, 1, 'float32', 3);
    cpuMs(`Add ${x.join('×')} + bias [${x[3]}]`, () => tf.add(xt, bias));
  }
  for (const [name, opt] of [['tf.train.adam', tf.train.adam(1e-3)], ['FusedAdamOptimizer', new FusedAdamOptimizer(1e-3, 0.9, 0.999, 1e-7)]] as const) {
    const v = tf.variable(tf.randomNormal([400, 120], 0, 1, 'float32', 4));
    const g = tf.randomNormal([400, 120], 0, 1, 'float32', 5);
    cpuMs(`${name} update of a 400×120 kernel`, () => opt.applyGradients([{ name: v.name, tensor: g }]));
  }
})();
