/**
 * Seeded pseudo-random numbers for everything the engine draws in JS (shuffling,
 * augmentation) and for deriving the seeds handed to TensorFlow.js (initialisers, dropout).
 */
import { mulberry32 } from '../shared/random';

/** 32-bit integer hash (MurmurHash3 finaliser, Appleby 2008) used to mix seed parts. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A seed in [0, 2³¹ − 1) derived from a base seed and any parts (strings or integers);
 * different parts give unrelated seeds.
 */
export function deriveSeed(seed: number, ...parts: (string | number)[]): number {
  let h = mix32(seed >>> 0 ^ 0x9e3779b9);
  for (const p of parts) {
    const s = String(p);
    for (let i = 0; i < s.length; i++) h = mix32(h ^ s.charCodeAt(i)) + 0x6d2b79f5;
    h = mix32(h ^ 0x27d4eb2f);
  }
  return h % 0x7fffffff;
}

/**
 * Seeded draws over the Mulberry32 generator (`src/shared/random.ts`, the one main's
 * splits use): uniform floats in [0, 1), period 2³². Plenty for shuffling and
 * augmentation noise.
 */
export class Rng {
  private readonly draw: () => number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.draw = mulberry32(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.draw();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal N(0, 1) by the Box–Muller transform (Box & Muller 1958). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle in place (Knuth, TAOCP vol. 2, Algorithm 3.4.2P). */
  shuffle<T extends { [i: number]: number; length: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}
