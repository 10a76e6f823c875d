/**
 * How engine tests and the benchmark compare numbers with a reference: the largest absolute
 * difference relative to the largest reference magnitude, max|a − ref| / max|ref| (one
 * scale per tensor, so elements near zero do not blow the ratio up).
 */
import * as tf from '@tensorflow/tfjs-core';

/** max|a − ref| / max|ref| over two equally long arrays. @throws Error when the lengths differ. */
export function maxRelErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (a.length !== ref.length) throw new Error(`maxRelErr: lengths differ (${a.length} vs ${ref.length})`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

/** Run `f` on `backend` (made current) with fresh tensors; returns the output's values. */
export async function on(backend: string, f: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const v = (await out.data()) as Float32Array;
  out.dispose();
  return v;
}
