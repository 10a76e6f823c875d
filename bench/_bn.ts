import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend';
import { batchNormTraining } from '../src/engine/kernels/batch-norm';
const med = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];
function time(f: () => tf.Tensor | tf.Tensor[] | void, reps = 15): number {
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) { const t0 = performance.now(); const o = f(); ts.push(performance.now() - t0); if (o) tf.dispose(o as tf.Tensor); }
  return med(ts);
}
void (async () => {
  await initBackend('cpu', { threads: Number(process.env.T ?? 2) });
  for (const shape of [[64, 64, 64, 8], [64, 32, 32, 32], [64, 8, 8, 128]]) {
    const x = tf.randomNormal(shape); const C = shape[3];
    const g = tf.ones([C]), b = tf.zeros([C]);
    const fw = time(() => { const r = batchNormTraining(x, g, b, 1e-3); return [r.y, r.mean, r.variance]; });
    const relu = time(() => tf.relu(x));
    const add = time(() => tf.add(x, x));
    const dy = tf.randomNormal(shape);
    const bw = time(() => tf.tidy(() => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(batchNormTraining(v, g, b, 1e-3).y, dy)))(x)));
    console.log(shape.join('x'), `bnTrain ${fw.toFixed(2)} relu ${relu.toFixed(2)} add ${add.toFixed(2)} bn fwd+grad(+mul,sum) ${bw.toFixed(2)} ms`);
  }
})();
