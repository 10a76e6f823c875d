/**
 * Before / after of the kernels added for the deep presets (issue 8), on bench M4's shapes, batch 64:
 * each timed with the kernel it wraps (wasm built-in depthwise forward, the plain-JS depthwise
 * gradients, the copying Identity) and with ours; ReLU6 as tfjs-layers computed it (minimum(6,
 * relu(x)) and its gradient) vs the 'relu6' activation now. Medians; not a benchmark table.
 * Run: npx tsx bench/kernels-ab.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../src/engine/backend';
import { engineKernelLayers, replacedKernels } from '../src/engine/kernels';
const med = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];
function time(f: () => tf.Tensor | tf.Tensor[], reps = 9): number {
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) { const t0 = performance.now(); const o = f(); ts.push(performance.now() - t0); tf.dispose(o); }
  return med(ts);
}
void (async () => {
  await initBackend('cpu', { threads: 2 });
  const swap = (k: string, to: 'inner' | 'ours'): void => {
    const layers = engineKernelLayers.get(`${k}/wasm`)!;
    const cfg = to === 'ours' ? (layers.native ?? layers.wasm)! : (k === 'DepthwiseConv2dNative' || k === 'Identity' ? replacedKernels.get(`${k}/wasm`)! : layers.wasm!);
    tf.unregisterKernel(k, 'wasm'); tf.registerKernel(cfg);
  };
  const cases: [[number, number, number, number], [number, number, number, number], 1 | 2][] = [
    [[64, 64, 64, 8], [3, 3, 8, 1], 1],
    [[64, 64, 64, 16], [3, 3, 16, 1], 2],
    [[64, 8, 8, 128], [3, 3, 128, 1], 1],
  ];
  for (const [x, f, s] of cases) {
    const xt = tf.randomNormal(x) as tf.Tensor4D;
    const ft = tf.randomNormal(f) as tf.Tensor4D;
    const y = tf.depthwiseConv2d(xt, ft, s, 'same');
    const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
    const row: string[] = [];
    for (const k of ['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter']) {
      const run = (): tf.Tensor => k === 'DepthwiseConv2dNative' ? tf.depthwiseConv2d(xt, ft, s, 'same')
        : k.endsWith('Input') ? (tf.engine().runKernel(k, { dy, filter: ft }, { strides: s, pad: 'same', dilations: 1, inputShape: x } as never) as tf.Tensor)
        : (tf.engine().runKernel(k, { x: xt, dy }, { strides: s, pad: 'same', dilations: 1, filterShape: f } as never) as tf.Tensor);
      swap(k, 'inner'); const a = time(run, k === 'DepthwiseConv2dNative' ? 9 : 3); swap(k, 'ours'); const b = time(run);
      row.push(`${k.replace('DepthwiseConv2dNative', 'dw')} ${a.toFixed(2)} → ${b.toFixed(2)} ms`);
    }
    console.log(`x ${x.join('×')} s${s}: ${row.join('; ')}`);
  }
  const act = tfl.layers.activation({ activation: 'relu6' });
  for (const shape of [[64, 64, 64, 8], [64, 8, 8, 128]]) {
    const x = tf.randomNormal(shape), g = tf.randomNormal(shape);
    const step = (): tf.Tensor => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(act.apply(v) as tf.Tensor, g)))(x);
    const stock = (): tf.Tensor => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.minimum(6, tf.relu(v)), g)))(x);
    console.log(`relu6 forward + gradient ${shape.join('×')}: stock ${time(stock).toFixed(2)} → ours ${time(step).toFixed(2)} ms (incl. the Sum·Mul of the test loss)`);
    swap('Identity', 'inner'); const a = time(() => tf.clone(x), 15); swap('Identity', 'ours'); const b = time(() => tf.clone(x), 15);
    console.log(`Identity (clone) ${shape.join('×')}: ${a.toFixed(3)} → ${b.toFixed(3)} ms`);
  }
})();
