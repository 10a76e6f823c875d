/**
 * The one seeded generator of the project: the engine's `Rng` (shuffling, augmentation)
 * and main's split assignment draw from it, so a seed means the same stream everywhere.
 */

/**
 * Mulberry32 (Tommy Ettinger, 2017): a 32-bit state, period 2³², uniform floats in [0, 1)
 * with 32 random bits each. Plenty for shuffling, splits and augmentation noise; not for
 * cryptography.
 * @param seed any number; its low 32 bits (as unsigned) are the initial state.
 * @returns a function giving the next float in [0, 1) at each call.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
