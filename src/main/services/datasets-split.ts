/**
 * Seeded stratified split assignment. Items are grouped by class (unlabelled items form
 * their own group), ordered by blob hash (so the result depends on content, not import
 * order), shuffled with a PRNG seeded from (seed, class index), and cut by per-class
 * counts rounded with the largest-remainder method, so that each class's train/val/test
 * counts are within one item of the target percentages.
 */
import type { Split, SplitConfig } from '../../shared/api';
import type { Db } from '../db/db';

/** mulberry32: a small, fast, seeded 32-bit PRNG; returns floats in [0, 1). */
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

/** Fisher–Yates shuffle in place with `rand`. */
export function shuffle<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Split `n` into parts proportional to `weights` (summing to 100), each within 1 of its exact share (largest remainder). */
export function apportion(n: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((s, w) => s + w, 0) || 1;
  const exact = weights.map((w) => (n * w) / sum);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((s, c) => s + c, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) counts[order[k].i]++;
  return counts;
}

function classSeed(seed: number, classIdx: number): number {
  let h = (seed ^ Math.imul(classIdx + 2, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

interface Row {
  id: number;
  hash: string;
  classIdx: number | null;
  split: Split | null;
  givenSplit: Split | null;
}

/**
 * Which items keep their current split when splits are (re)assigned:
 * 'new-items' — every item that has a split (only items without one are assigned: new
 * imports and uploads; a first import has none, so it is a full split);
 * 'keep-test' — items now in test stay in test (a user's re-split: a test image never
 * leaves test silently); 'all' — nothing is kept (an explicit full re-split).
 */
export type SplitScope = 'new-items' | 'keep-test' | 'all';

function isFixed(r: Row, scope: SplitScope): boolean {
  return scope === 'new-items' ? r.split !== null : scope === 'keep-test' ? r.split === 'test' : false;
}

const SPLITS: readonly Split[] = ['train', 'val', 'test'];

/**
 * Compute the split of every item of `datasetId` under `config`. Pure: returns item id → split.
 * 'random': per class, train/val/test by the percentages. 'given': the source's splits
 * (none given counts as train); when the dataset has no given val split, `valFromTrain`%
 * of each class's train items become val.
 *
 * Items fixed by `scope` keep their split and count towards the per-class targets; the
 * others fill what is missing: per class, target counts are apportioned over all its
 * items, each split's need is its target minus the fixed items already in it (at least
 * 0), and the free items (sorted by hash, seeded shuffle) are apportioned by those needs.
 * With nothing fixed this is exactly the plain stratified split.
 */
export function computeSplits(rows: readonly Row[], config: SplitConfig, scope: SplitScope = 'all'): Map<number, Split> {
  const groups = new Map<number, Row[]>();
  for (const r of rows) {
    const k = r.classIdx ?? -1;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(r);
  }
  const out = new Map<number, Split>();
  const hasVal = rows.some((r) => r.givenSplit === 'val');
  for (const [k, group] of groups) {
    const rand = mulberry32(classSeed(config.seed, k));
    const free: Row[] = [];
    const fixedCount = { train: 0, val: 0, test: 0 };
    for (const r of group) {
      if (isFixed(r, scope)) {
        out.set(r.id, r.split!);
        fixedCount[r.split!]++;
      } else free.push(r);
    }
    if (config.mode === 'random') {
      const items = shuffle(free.sort((a, b) => (a.hash < b.hash ? -1 : 1)), rand);
      const target = apportion(group.length, [config.train, config.val, config.test]);
      const need = target.map((t, i) => Math.max(0, t - fixedCount[SPLITS[i]]));
      const counts = need.some((n) => n > 0) ? apportion(items.length, need) : apportion(items.length, [config.train, config.val, config.test]);
      items.forEach((r, i) => out.set(r.id, i < counts[0] ? 'train' : i < counts[0] + counts[1] ? 'val' : 'test'));
    } else {
      const train: Row[] = [];
      let poolFixed = 0;
      let poolFixedVal = 0;
      for (const r of group) {
        const given = r.givenSplit ?? 'train';
        if (isFixed(r, scope)) {
          if (given === 'train' && r.split !== 'test') {
            poolFixed++;
            if (r.split === 'val') poolFixedVal++;
          }
        } else if (given === 'train') train.push(r);
        else out.set(r.id, given);
      }
      const nVal = hasVal ? 0 : Math.max(0, apportion(train.length + poolFixed, [100 - config.valFromTrain, config.valFromTrain])[1] - poolFixedVal);
      shuffle(train.sort((a, b) => (a.hash < b.hash ? -1 : 1)), rand).forEach((r, i) => out.set(r.id, i < nVal ? 'val' : 'train'));
    }
  }
  return out;
}

/**
 * Apply `config` to the items of `datasetId`, keeping the items `scope` fixes (see
 * SplitScope; only changed rows are written, in one transaction). Returns the number of
 * items whose split changed.
 */
export function applySplits(db: Db, datasetId: number, config: SplitConfig, scope: SplitScope = 'all'): number {
  const rows = db
    .prepare('SELECT i.id, i.blob_hash AS hash, c.idx AS classIdx, i.split, i.given_split AS givenSplit FROM items i LEFT JOIN classes c ON c.id = i.class_id WHERE i.dataset_id = ?')
    .all(datasetId) as Row[];
  const splits = computeSplits(rows, config, scope);
  const update = db.prepare('UPDATE items SET split = ? WHERE id = ?');
  let changed = 0;
  db.transaction(() => {
    for (const r of rows) {
      const s = splits.get(r.id)!;
      if (s !== r.split) {
        update.run(s, r.id);
        changed++;
      }
    }
  })();
  return changed;
}
