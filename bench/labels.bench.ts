/**
 * Labeling speed on a Fashion-MNIST-sized dataset (70,000 items, 10 classes) in a real
 * SQLite file (WAL, as the app opens it): assign a label to 1,000 selected images (one
 * transaction, one undo group), undo, redo, and an item page deep in the grid (offset
 * 60,000) with filters. Rows are inserted directly (no image decoding). Target: assign
 * 1,000 persisted in under 100 ms (median). Run: `npm run bench labels`.
 * `--quick`: 5,000 items, 5 runs, pages at offset 4,000 (every operation, a second or two;
 * the target is printed, not enforced, at that size).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/main/db/db';
import { dataPaths } from '../src/main/paths';
import { DatasetService } from '../src/main/services/datasets';
import { LabelService } from '../src/main/services/labels';

const QUICK = process.argv.includes('--quick');
const N_ITEMS = QUICK ? 5_000 : 70_000;
const N_CLASSES = 10;
const REPS = QUICK ? 5 : 40;
/** Offset of the deep item pages (the last 10,000 in full mode). */
const DEEP = QUICK ? 4_000 : 60_000;
/** Splits in Fashion-MNIST's proportions: 54,000 train, 6,000 val, 10,000 test of 70,000. */
const TRAIN_END = (N_ITEMS * 54) / 70, VAL_END = (N_ITEMS * 60) / 70;

function stats(xs: number[]): { median: number; p95: number } {
  const s = xs.slice().sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p95: s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)] };
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'layerwise-bench-'));
  try {
    const paths = dataPaths(root);
    const db = openDatabase(paths.db);
    const t0 = performance.now();
    db.transaction(() => {
      db.prepare(`INSERT INTO datasets (id, name, created_at, split_config) VALUES (1, 'fashion-sized', 0, ?)`).run(JSON.stringify({ mode: 'given', train: 80, val: 10, test: 10, valFromTrain: 10, seed: 42 }));
      for (let c = 0; c < N_CLASSES; c++) db.prepare('INSERT INTO classes (id, dataset_id, idx, name) VALUES (?, 1, ?, ?)').run(c + 1, c, `class ${c}`);
      const blob = db.prepare(`INSERT INTO blobs (hash, size, width, height, channels, format) VALUES (?, 800, 28, 28, 1, 'png')`);
      const item = db.prepare('INSERT INTO items (id, dataset_id, blob_hash, original_name, class_id, split, given_split, excluded, created_at) VALUES (?, 1, ?, ?, ?, ?, ?, 0, 0)');
      const ev = db.prepare(`INSERT INTO label_events (item_id, old_class_id, new_class_id, time, source) VALUES (?, NULL, ?, 0, 'import')`);
      for (let i = 1; i <= N_ITEMS; i++) {
        const hash = i.toString(16).padStart(64, '0');
        const split = i <= TRAIN_END ? 'train' : i <= VAL_END ? 'val' : 'test';
        blob.run(hash);
        item.run(i, hash, `#${i}`, (i % N_CLASSES) + 1, split, split === 'val' ? 'train' : split);
        ev.run(i, (i % N_CLASSES) + 1);
      }
    })();
    console.log(`setup: ${N_ITEMS.toLocaleString('en-US')} items, ${N_CLASSES} classes, ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

    const datasets = new DatasetService({ db, paths });
    const labels = new LabelService({ db, blobs: datasets.blobs, classInfo: (d, c) => datasets.get(d).classes.find((x) => x.id === c)! });
    let seed = 1;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const pick = (n: number): number[] => {
      const s = new Set<number>();
      while (s.size < n) s.add(1 + Math.floor(rand() * N_ITEMS));
      return [...s];
    };

    const times: Record<string, number[]> = {};
    const time = (k: string, f: () => unknown): void => {
      const t = performance.now();
      f();
      (times[k] ??= []).push(performance.now() - t);
    };
    for (let r = 0; r < REPS; r++) {
      const ids = pick(1000);
      const classId = 1 + (r % N_CLASSES);
      time('assign 1,000', () => labels.assign({ datasetId: 1, itemIds: ids, classId }));
      time('undo', () => labels.undo(1));
      time('redo', () => labels.redo(1));
      time(`items page @${DEEP.toLocaleString('en-US')} (excluded:false, unlabeled:false)`, () => datasets.items({ datasetId: 1, offset: DEEP, limit: 200, excluded: false, unlabeled: false }));
      time(`items page @${DEEP.toLocaleString('en-US')} (no filter)`, () => datasets.items({ datasetId: 1, offset: DEEP, limit: 200 }));
      time('items page @2,000 (split train, class 3)', () => datasets.items({ datasetId: 1, offset: 2_000, limit: 200, split: 'train', classId: 3 }));
      time('items.ids (split train)', () => datasets.itemIds({ datasetId: 1, split: 'train' }));
    }
    console.log(`| operation (${N_ITEMS.toLocaleString('en-US')} items, ${REPS} runs, real SQLite file, WAL) | median ms | p95 ms |`);
    console.log('|---|---:|---:|');
    for (const [k, xs] of Object.entries(times)) {
      const s = stats(xs);
      console.log(`| ${k} | ${s.median.toFixed(1)} | ${s.p95.toFixed(1)} |`);
    }
    const assign = stats(times['assign 1,000']);
    console.log(`\nassign 1,000 (persisted, one transaction, one undo group): median ${assign.median.toFixed(1)} ms — target < 100 ms: ${assign.median < 100 ? 'PASS' : 'FAIL'}${QUICK ? ' (quick mode: reported, not enforced)' : ''}`);
    labels.dispose();
    datasets.dispose();
    db.close();
    if (assign.median >= 100 && !QUICK) process.exitCode = 1;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
