/**
 * The one seeded generator (src/shared/random.ts) draws Mulberry32's stream exactly, as an
 * independent Python implementation of the C original gives it (mulberry32_reference.py,
 * beside this test, printed these values), and the engine's Rng and main's split
 * assignment draw that same stream: a seed means the same numbers in both processes.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/random';
import { mulberry32 as splitGenerator } from '../../src/main/services/datasets-split';
import { mulberry32 } from '../../src/shared/random';

/** python3 test/shared/mulberry32_reference.py */
const REFERENCE: [number, number[]][] = [
  [0, [0.26642920868471265, 0.0003297457005828619, 0.2232720274478197, 0.1462021479383111, 0.46732782293111086]],
  [1, [0.6270739405881613, 0.002735721180215478, 0.5274470399599522, 0.9810509674716741, 0.9683778982143849]],
  [42, [0.6011037519201636, 0.44829055899754167, 0.8524657934904099, 0.6697340414393693, 0.17481389874592423]],
  [2024, [0.811762373894453, 0.7108214949257672, 0.6505258858669549, 0.6853262642398477, 0.5189407933503389]],
  [2 ** 32 - 1, [0.8964226141106337, 0.189478256739676, 0.7156526781618595, 0.9440599093213677, 0.8452364315744489]],
];

describe('mulberry32', () => {
  it.each(REFERENCE)('seed %d gives the reference stream', (seed, want) => {
    const draw = mulberry32(seed);
    expect(want.map(() => draw())).toEqual(want);
  });

  it("the engine's Rng and the split's generator draw the same stream for a seed", () => {
    for (const seed of [0, 7, 123_456_789]) {
      const rng = new Rng(seed);
      const split = splitGenerator(seed);
      const shared = mulberry32(seed);
      const a = Array.from({ length: 1000 }, () => rng.next());
      expect(Array.from({ length: 1000 }, () => split())).toEqual(a);
      expect(Array.from({ length: 1000 }, () => shared())).toEqual(a);
      expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
    }
  });
});
