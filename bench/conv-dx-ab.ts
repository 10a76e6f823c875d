/**
 * A/B of Conv2DBackpropInput on M1 / RGB-first-layer shapes (stride 1, few input channels), CPU ms of one call, batch 64.
 * Run: LAYERWISE_THREADS=1 [LAYERWISE_NATIVE_ADDON=/path/other.node] npx tsx bench/conv-dx-ab.ts (T=threads; checksums compare builds).
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend';
void (async () => {
  await initBackend('cpu', { threads: Number(process.env.T ?? 1) });
  type Shape4 = [number, number, number, number];
  const cases: [Shape4, Shape4, 'same' | 'valid'][] = [
    [[64, 28, 28, 1], [5, 5, 1, 6], 'same'],
    [[64, 14, 14, 6], [5, 5, 6, 16], 'valid'],
    [[64, 32, 32, 3], [3, 3, 3, 16], 'same'],
  ];
  for (const [x, f, pad] of cases) {
    const xt = tf.randomNormal(x) as tf.Tensor4D, ft = tf.randomNormal(f) as tf.Tensor4D;
    const y = tf.conv2d(xt, ft, 1, pad);
    const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
    const run = (): tf.Tensor => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: ft }, { strides: 1, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: x } as never) as tf.Tensor;
    const ts: number[] = [];
    let sum = 0;
    for (let i = 0; i < 41; i++) { const c0 = process.cpuUsage(); const o = run(); const c = process.cpuUsage(c0); ts.push((c.user + c.system) / 1000); if (i === 0) sum = (o.dataSync() as Float32Array).reduce((a, b) => a + Math.abs(b), 0); o.dispose(); }
    ts.sort((a, b) => a - b);
    console.log(`dx ${x.join('×')} f${f.join('×')} ${pad}: CPU ms median ${ts[20].toFixed(3)} min ${ts[0].toFixed(3)} checksum ${sum.toFixed(3)}`);
  }
})();
