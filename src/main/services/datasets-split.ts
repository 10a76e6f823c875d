/**
 * Seeded stratified split assignment. Items are grouped by class (unlabelled items form
 * their own group), ordered by blob hash (so the result depends on content, not import
 * order), shuffled with a PRNG seeded from (seed, class index), and cut by per-class
 * counts rounded with the largest-remainder method, so that each class's train/val/test
 * counts are within one item of the target percentages.
 */
import type { Split, SplitConfig } from '../../shared/api';
import { mulberry32 } from '../../shared/random';
import type { Db } from '../db/db';

/** The split's generator, for callers that shuffle as the split does (tests). */
export { mulberry32 };

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

/** What split assignment needs to know of one class: its items without a fixed split, and counts of those with one. */
interface Group {
  free: Row[];
  /** Fixed items per split. */
  fixed: Record<Split, number>;
  /** Fixed items whose given split is train (or none) and that are not in test: the pool val is carved from, and those of them in val. */
  poolFixed: number;
  poolFixedVal: number;
}

function emptyGroup(): Group {
  return { free: [], fixed: { train: 0, val: 0, test: 0 }, poolFixed: 0, poolFixedVal: 0 };
}

/** Add `n` fixed items in `split` with given split `given` to `g`. */
function addFixed(g: Group, split: Split, given: Split | null, n: number): void {
  g.fixed[split] += n;
  if ((given ?? 'train') === 'train' && split !== 'test') {
    g.poolFixed += n;
    if (split === 'val') g.poolFixedVal += n;
  }
}

/** Splits of the free items of every group (see computeSplits), into `out`. */
function assignGroups(groups: Map<number, Group>, config: SplitConfig, hasVal: boolean, out: Map<number, Split>): void {
  for (const [k, g] of groups) {
    const rand = mulberry32(classSeed(config.seed, k));
    const size = g.free.length + g.fixed.train + g.fixed.val + g.fixed.test;
    if (config.mode === 'random') {
      const items = shuffle(g.free.sort((a, b) => (a.hash < b.hash ? -1 : 1)), rand);
      const target = apportion(size, [config.train, config.val, config.test]);
      const need = target.map((t, i) => Math.max(0, t - g.fixed[SPLITS[i]]));
      const counts = need.some((n) => n > 0) ? apportion(items.length, need) : apportion(items.length, [config.train, config.val, config.test]);
      items.forEach((r, i) => out.set(r.id, i < counts[0] ? 'train' : i < counts[0] + counts[1] ? 'val' : 'test'));
    } else {
      const train: Row[] = [];
      for (const r of g.free) {
        const given = r.givenSplit ?? 'train';
        if (given === 'train') train.push(r);
        else out.set(r.id, given);
      }
      const nVal = hasVal ? 0 : Math.max(0, apportion(train.length + g.poolFixed, [100 - config.valFromTrain, config.valFromTrain])[1] - g.poolFixedVal);
      shuffle(train.sort((a, b) => (a.hash < b.hash ? -1 : 1)), rand).forEach((r, i) => out.set(r.id, i < nVal ? 'val' : 'train'));
    }
  }
}

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
  const groups = new Map<number, Group>();
  const out = new Map<number, Split>();
  for (const r of rows) {
    const k = r.classIdx ?? -1;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = emptyGroup()));
    if (isFixed(r, scope)) {
      out.set(r.id, r.split!);
      addFixed(g, r.split!, r.givenSplit, 1);
    } else g.free.push(r);
  }
  assignGroups(groups, config, rows.some((r) => r.givenSplit === 'val'), out);
  return out;
}

/** Fixed-split counts of a dataset's items per class (classIdx, -1 = unlabelled) and whether any has a given val split. */
interface FixedCounts {
  groups: Map<number, Group>;
  hasVal: boolean;
}

function loadFixed(db: Db, datasetId: number): FixedCounts {
  const fixed = db
    .prepare('SELECT c.idx AS classIdx, i.split, i.given_split AS givenSplit, COUNT(*) AS n FROM items i LEFT JOIN classes c ON c.id = i.class_id WHERE i.dataset_id = ? AND i.split IS NOT NULL GROUP BY i.class_id, i.split, i.given_split')
    .all(datasetId) as { classIdx: number | null; split: Split; givenSplit: Split | null; n: number }[];
  const groups = new Map<number, Group>();
  for (const f of fixed) {
    const k = f.classIdx ?? -1;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = emptyGroup()));
    addFixed(g, f.split, f.givenSplit, f.n);
  }
  return { groups, hasVal: fixed.some((f) => f.givenSplit === 'val') };
}

/**
 * Give the items of `datasetId` that have no split one, as applySplits(…, 'new-items')
 * does, reading only those items and counts of the others. `counts` (from a previous call
 * of the same caller) saves re-counting the dataset: the import passes it from batch to
 * batch, and it is updated with what this call assigned. `sourceHasVal`: treat the dataset
 * as having a given val split even before any item with one is stored. Returns the number
 * of items assigned.
 */
export function assignNewSplits(db: Db, datasetId: number, config: SplitConfig, opts: { sourceHasVal?: boolean; counts?: FixedCounts } = {}): number {
  const free = db
    .prepare('SELECT i.id, i.blob_hash AS hash, c.idx AS classIdx, i.split, i.given_split AS givenSplit FROM items i LEFT JOIN classes c ON c.id = i.class_id WHERE i.dataset_id = ? AND i.split IS NULL')
    .all(datasetId) as Row[];
  if (free.length === 0) return 0;
  const counts = opts.counts ?? loadFixed(db, datasetId);
  const groups = new Map<number, Group>();
  for (const r of free) {
    const k = r.classIdx ?? -1;
    let g = groups.get(k);
    if (!g) {
      const known = counts.groups.get(k) ?? emptyGroup();
      groups.set(k, (g = { free: [], fixed: { ...known.fixed }, poolFixed: known.poolFixed, poolFixedVal: known.poolFixedVal }));
    }
    g.free.push(r);
  }
  counts.hasVal ||= opts.sourceHasVal === true || free.some((r) => r.givenSplit === 'val');
  const out = new Map<number, Split>();
  assignGroups(groups, config, counts.hasVal, out);
  const update = db.prepare('UPDATE items SET split = ? WHERE id = ?');
  db.transaction(() => {
    for (const r of free) update.run(out.get(r.id)!, r.id);
  })();
  for (const r of free) {
    const k = r.classIdx ?? -1;
    let g = counts.groups.get(k);
    if (!g) counts.groups.set(k, (g = emptyGroup()));
    addFixed(g, out.get(r.id)!, r.givenSplit, 1);
  }
  return free.length;
}

/**
 * A split assigner for one import into `datasetId`: each call gives the items without a
 * split theirs (assignNewSplits), counting the dataset's other items once and then keeping
 * the counts up to date itself, so a batch costs its own items, not the dataset's size.
 */
export function newSplitAssigner(db: Db, datasetId: number): (config: SplitConfig, sourceHasVal: boolean) => number {
  let counts: FixedCounts | undefined;
  return (config, sourceHasVal) => {
    counts ??= loadFixed(db, datasetId);
    return assignNewSplits(db, datasetId, config, { sourceHasVal, counts });
  };
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
