/**
 * Training-batch augmentation on float32 NHWC images in [0, 1], seeded by an Rng.
 * Same definitions as Keras' preprocessing layers (RandomFlip('horizontal'),
 * RandomTranslation with fill_mode 'constant', fill 0, GaussianNoise).
 */
import type { Rng } from './random';

export interface AugmentOptions {
  horizontalFlip: boolean;
  /** Max shift as a fraction of height/width, in [0, 0.5]. */
  randomTranslation: number;
  /** Stddev of additive N(0, σ²) noise on [0, 1] pixels (not clipped, as Keras). */
  gaussianNoise: number;
}

/** True when the options change nothing. */
export function isIdentity(a: AugmentOptions): boolean {
  return !a.horizontalFlip && a.randomTranslation === 0 && a.gaussianNoise === 0;
}

/**
 * Augment `n` images of h×w×c in `x` (length n·h·w·c) in place: per image, a flip with
 * probability ½, a shift by integers dy ∈ [−round(f·h), round(f·h)], dx likewise, with
 * zero fill, then Gaussian noise per pixel.
 */
export function augmentBatch(x: Float32Array, n: number, h: number, w: number, c: number, opt: AugmentOptions, rng: Rng): void {
  if (isIdentity(opt)) return;
  const size = h * w * c;
  const tmp = new Float32Array(size);
  const maxDy = Math.round(opt.randomTranslation * h);
  const maxDx = Math.round(opt.randomTranslation * w);
  for (let b = 0; b < n; b++) {
    const base = b * size;
    const flip = opt.horizontalFlip && rng.next() < 0.5;
    const dy = maxDy > 0 ? rng.int(2 * maxDy + 1) - maxDy : 0;
    const dx = maxDx > 0 ? rng.int(2 * maxDx + 1) - maxDx : 0;
    if (flip || dy !== 0 || dx !== 0) {
      tmp.set(x.subarray(base, base + size));
      for (let y = 0; y < h; y++) {
        const sy = y - dy;
        for (let xx = 0; xx < w; xx++) {
          const o = base + (y * w + xx) * c;
          let sx = xx - dx;
          if (flip) sx = w - 1 - sx;
          if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
            for (let k = 0; k < c; k++) x[o + k] = 0;
          } else {
            const s = (sy * w + sx) * c;
            for (let k = 0; k < c; k++) x[o + k] = tmp[s + k];
          }
        }
      }
    }
    if (opt.gaussianNoise > 0) {
      const sd = opt.gaussianNoise;
      for (let i = base; i < base + size; i++) x[i] += sd * rng.normal();
    }
  }
}
