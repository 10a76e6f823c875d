/**
 * QualityService: looking at a dataset's quality — versions and their diffs, near-duplicate
 * images (and train/test leakage), a run's confusion matrix, and likely label errors.
 *
 * Predictions: at the end of training the engine writes the final model's softmax output
 * for every pack item (pack order = the version manifest's item order) and posts
 * `predictions`; ingestPredictions maps each row to its item (by blob hash) and class (by
 * name), stores it, and computes the run's label-error suggestions.
 *
 * Suggestions follow confident learning (Northcutt, Jiang & Chuang 2021, "Confident
 * Learning: Estimating Uncertainty in Dataset Labels", JAIR 70: 1373–1411) on the
 * out-of-sample (val + test) rows: the per-class threshold t_j is the mean predicted
 * probability of class j over the items labelled j; an item labelled i is counted in the
 * confident joint at j* = argmax { p_k : p_k ≥ t_k }, and is a likely error when j* ≠ i
 * and p_j* > p_i (the model also prefers j*: cleanlab's `filter_by='both'`).
 * Ranking: the normalized margin p_j* − p_i (the paper's "prune by noise rate" order;
 * higher = more likely an error). Suggestions are stored only when the model is clearly
 * better than chance on its held-out images (./quality-gate.ts); otherwise none, and
 * listSuggestions says why with the gate's figures.
 */
import { readFileSync } from 'node:fs';
import type { ConfusionMatrix, DatasetVersion, Item, LabelSuggestion, Split, SuggestionGate, VersionDiff } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import type { BlobStore } from '../blobs';
import type { Db } from '../db/db';
import { hashWords, popcount32 } from '../images/phash';
import { dhashFile } from '../images/stored';
import { mapPool } from '../images/pool';
import { itemsByIds } from './item-query';
import { suggestionGate } from './quality-gate';
import type { VersionStore } from './versions';
import type { Previews } from '../import/previews';

/** Most candidate pairs compared by one near-duplicate search. */
export const MAX_PAIR_COMPARISONS = 50_000_000;
/** Perceptual hashes computed at once when filling in missing ones. */
const HASH_CONCURRENCY = 8;

export interface QualityServiceOptions {
  db: Db;
  blobs: BlobStore;
  versions: VersionStore;
  /** The data directory's maker of pending previews (DatasetService.previews); without it missing hashes are computed here alone. */
  previews?: Previews;
}

type NearPair = { a: Item; b: Item; distance: number; leakage: boolean };

export class QualityService {
  private readonly db: Db;
  private readonly blobs: BlobStore;
  private readonly previews: Previews | null;
  readonly versions: VersionStore;

  constructor(opts: QualityServiceOptions) {
    this.db = opts.db;
    this.blobs = opts.blobs;
    this.versions = opts.versions;
    this.previews = opts.previews ?? null;
  }

  /** Versions of a dataset, newest first, with their runs. @throws Error `datasetId: N not found`. */
  listVersions(datasetId: number): DatasetVersion[] {
    this.assertDataset(datasetId);
    return this.versions.list(datasetId);
  }

  /** See VersionStore.diff. */
  diff(fromVersionId: number, toVersionId?: number): VersionDiff {
    return this.versions.diff(fromVersionId, toVersionId);
  }

  // ---- near-duplicates ---------------------------------------------------------

  /**
   * Compute the perceptual hash of the dataset's blobs that have none yet (photos whose
   * import is still making them, or that a crashed import left: through the shared
   * Previews, so nothing is decoded twice; older imports), and wait for them. Returns how
   * many were missing.
   */
  async fillPerceptualHashes(datasetId: number): Promise<number> {
    const pending = this.previews?.pending(datasetId) ?? [];
    if (this.previews && pending.length > 0) await this.previews.fill(pending, { concurrency: HASH_CONCURRENCY });
    const missing = this.db
      .prepare('SELECT DISTINCT b.hash FROM items i JOIN blobs b ON b.hash = i.blob_hash WHERE i.dataset_id = ? AND b.phash IS NULL')
      .pluck()
      .all(datasetId) as string[];
    if (missing.length === 0) return pending.length;
    const hashes = await mapPool(missing, HASH_CONCURRENCY, async (h) => dhashFile(this.blobs.blobPath(h)).catch(() => null));
    const set = this.db.prepare('UPDATE blobs SET phash = ? WHERE hash = ?');
    this.db.transaction(() => missing.forEach((h, i) => hashes[i] && set.run(hashes[i], h)))();
    return new Set([...pending, ...missing]).size;
  }

  /**
   * Pairs of non-excluded items of a dataset whose 64-bit dHashes differ in at most
   * `maxDistance` bits, leaking pairs (one in train, the other in val or test) first, then
   * by distance; at most `limit`. Exact duplicates never form pairs (a dataset stores each
   * content once); `exactDuplicatesSkipped` is how many its imports refused as such.
   *
   * Search: multi-index hashing (Norouzi, Punjani & Fleet 2012) — the hash is cut into
   * maxDistance + 1 blocks; two hashes within the distance agree exactly on at least one
   * block (pigeonhole), so only items sharing a block value are compared. The work is
   * bounded by MAX_PAIR_COMPARISONS.
   * @throws Error `datasetId: …`; `maxDistance: …` when the search would exceed the bound.
   */
  async nearDuplicates(p: { datasetId: number; maxDistance?: number; limit?: number }): Promise<{ pairs: NearPair[]; exactDuplicatesSkipped: number; leakageCount: number }> {
    this.assertDataset(p.datasetId);
    const d = p.maxDistance ?? 4;
    const limit = p.limit ?? 500;
    await this.fillPerceptualHashes(p.datasetId);
    const rows = this.db
      .prepare('SELECT i.id, i.split, b.phash FROM items i JOIN blobs b ON b.hash = i.blob_hash WHERE i.dataset_id = ? AND i.excluded = 0 AND b.phash IS NOT NULL ORDER BY i.id')
      .all(p.datasetId) as { id: number; split: Split | null; phash: string }[];
    const n = rows.length;
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    rows.forEach((r, i) => ([hi[i], lo[i]] = hashWords(r.phash)));
    const found: { i: number; j: number; distance: number }[] = [];
    const dist = (i: number, j: number): number => popcount32((hi[i] ^ hi[j]) >>> 0) + popcount32((lo[i] ^ lo[j]) >>> 0);

    const m = Math.min(64, d + 1);
    const keys = blockKeys(rows.map((r) => r.phash), m);
    const buckets = keys.map((col) => {
      const map = new Map<number | string, number[]>();
      col.forEach((k, i) => {
        const l = map.get(k);
        if (l) l.push(i);
        else map.set(k, [i]);
      });
      return map;
    });
    let work = 0;
    for (const map of buckets) for (const l of map.values()) work += (l.length * (l.length - 1)) / 2;
    const brute = (n * (n - 1)) / 2;
    if (Math.min(work, brute) > MAX_PAIR_COMPARISONS) {
      throw new ApiError('invalid_params', `maxDistance: searching ${n.toLocaleString('en-US')} images within distance ${d} needs about ${Math.round(Math.min(work, brute) / 1e6)} million comparisons (the limit is ${MAX_PAIR_COMPARISONS / 1e6} million); use a smaller maxDistance`, 'maxDistance');
    }
    if (brute <= work) {
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
        const x = dist(i, j);
        if (x <= d) found.push({ i, j, distance: x });
      }
    } else {
      buckets.forEach((map, b) => {
        for (const l of map.values()) {
          for (let u = 0; u < l.length; u++) {
            for (let v = u + 1; v < l.length; v++) {
              const i = l[u], j = l[v];
              let seen = false; // counted already in an earlier block where they also agree
              for (let e = 0; e < b && !seen; e++) seen = keys[e][i] === keys[e][j];
              if (seen) continue;
              const x = dist(i, j);
              if (x <= d) found.push({ i, j, distance: x });
            }
          }
        }
      });
    }
    const leaks = (i: number, j: number): boolean => {
      const a = rows[i].split, b = rows[j].split;
      return (a === 'train' && (b === 'val' || b === 'test')) || (b === 'train' && (a === 'val' || a === 'test'));
    };
    const scored = found.map((f) => ({ ...f, leakage: leaks(f.i, f.j) }));
    scored.sort((x, y) => Number(y.leakage) - Number(x.leakage) || x.distance - y.distance || rows[x.i].id - rows[y.i].id || rows[x.j].id - rows[y.j].id);
    const top = scored.slice(0, limit);
    const items = itemsByIds(this.db, [...new Set(top.flatMap((t) => [rows[t.i].id, rows[t.j].id]))]);
    const exact = (this.db.prepare('SELECT COALESCE(SUM(duplicates), 0) AS n FROM import_jobs WHERE dataset_id = ?').get(p.datasetId) as { n: number }).n;
    return {
      pairs: top.map((t) => ({ a: items.get(rows[t.i].id)!, b: items.get(rows[t.j].id)!, distance: t.distance, leakage: t.leakage })),
      exactDuplicatesSkipped: exact,
      leakageCount: scored.filter((s) => s.leakage).length,
    };
  }

  // ---- predictions and suggestions ---------------------------------------------

  /**
   * Store a finished run's predictions (`path`: little-endian float32, count × numClasses,
   * pack order) and compute its suggestions, in one transaction (replacing earlier ones of
   * the run); suggestions only when the run passes the gate (quality-gate.ts). Returns how
   * many predictions and suggestions were stored.
   * @throws Error when the run has no version, or the file does not match the version.
   */
  ingestPredictions(runId: number, msg: { path: string; count: number; numClasses: number }): { predictions: number; suggestions: number } {
    const run = this.db.prepare('SELECT dataset_id, dataset_version_id FROM runs WHERE id = ?').get(runId) as { dataset_id: number; dataset_version_id: number | null } | undefined;
    if (!run || run.dataset_version_id === null) throw new ApiError('invalid_params', `runId: run ${runId} has no dataset version`, 'runId');
    const manifest = this.versions.manifest(run.dataset_version_id);
    const { count, numClasses: k } = msg;
    if (count !== manifest.items.length || k !== manifest.classNames.length) {
      throw new Error(`predictions of run ${runId}: ${count} × ${k}, but its version has ${manifest.items.length} items × ${manifest.classNames.length} classes`);
    }
    const bytes = readFileSync(msg.path);
    if (bytes.length !== count * k * 4) throw new Error(`predictions of run ${runId}: ${msg.path} has ${bytes.length} bytes, expected ${count}×${k}×4`);
    const probs = new Float32Array(count * k);
    for (let i = 0; i < count * k; i++) probs[i] = bytes.readFloatLE(i * 4);

    const liveByName = new Map((this.db.prepare('SELECT id, name FROM classes WHERE dataset_id = ? AND deleted_at IS NULL').all(run.dataset_id) as { id: number; name: string }[]).map((c) => [c.name, c.id]));
    const classOf = manifest.classNames.map((name) => liveByName.get(name) ?? null);
    const itemOf = new Map((this.db.prepare('SELECT blob_hash AS hash, id FROM items WHERE dataset_id = ?').all(run.dataset_id) as { hash: string; id: number }[]).map((r) => [r.hash, r.id]));

    // Confident-learning thresholds over the out-of-sample rows: t_j = mean p_j over items labelled j.
    const sum = new Float64Array(k);
    const cnt = new Float64Array(k);
    manifest.items.forEach(([, y, split], i) => {
      if (split === 'train') return;
      sum[y] += probs[i * k + y];
      cnt[y]++;
    });
    const thr = Array.from(sum, (s, j) => (cnt[j] > 0 ? s / cnt[j] : Infinity));

    const insPred = this.db.prepare(
      'INSERT INTO predictions (run_id, item_id, split, given_class_id, predicted_class_id, confidence, given_probability, probs) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insSug = this.db.prepare('INSERT INTO suggestions (run_id, item_id, given_class_id, suggested_class_id, score) VALUES (?, ?, ?, ?, ?)');
    const insClass = this.db.prepare('INSERT INTO run_classes (run_id, idx, class_id, name) VALUES (?, ?, ?, ?)');
    return this.db.transaction(() => {
      for (const t of ['predictions', 'suggestions', 'run_classes']) this.db.prepare(`DELETE FROM ${t} WHERE run_id = ?`).run(runId);
      manifest.classNames.forEach((name, j) => insClass.run(runId, j, classOf[j], name));
      let nPred = 0;
      const candidates: [number, number, number, number][] = [];
      manifest.items.forEach(([hash, y, split], i) => {
        const itemId = itemOf.get(hash);
        if (itemId === undefined) return; // the item left the dataset meanwhile
        const row = probs.subarray(i * k, (i + 1) * k);
        let best = 0;
        for (let j = 1; j < k; j++) if (row[j] > row[best]) best = j;
        if (classOf[best] === null) return; // its class is gone (deleted/renamed during the run)
        insPred.run(runId, itemId, split, classOf[y], classOf[best], row[best], row[y], Buffer.from(row.buffer, row.byteOffset, row.byteLength));
        nPred++;
        if (split === 'train' || classOf[y] === null) return;
        let jStar = -1;
        for (let j = 0; j < k; j++) if (row[j] >= thr[j] && (jStar < 0 || row[j] > row[jStar])) jStar = j;
        // Also require that the model prefers j* to the given label (cleanlab's filter_by='both':
        // off the confident joint's diagonal AND predicted ≠ given): a suggestion whose
        // suggested class is less likely than the given one is noise to a labeler.
        if (jStar < 0 || jStar === y || classOf[jStar] === null || row[jStar] <= row[y]) return;
        candidates.push([itemId, classOf[y]!, classOf[jStar]!, row[jStar] - row[y]]);
      });
      // Only from a model clearly better than chance: else its confident disagreements are noise.
      if (!suggestionGate(this.db, runId).passed) return { predictions: nPred, suggestions: 0 };
      for (const c of candidates) insSug.run(runId, ...c);
      return { predictions: nPred, suggestions: candidates.length };
    })();
  }

  /**
   * Confusion matrix of a run: counts[true][predicted] over its stored predictions of
   * `split`, classes in the run's class order. Without `split`, the first of test, val,
   * train that has images in the run (hymenoptera ships no test split: its matrix is val).
   * @throws ApiError not_found when the run or its predictions are missing;
   *   invalid_params (field split) when the asked split has no images in the run.
   */
  confusion(runId: number, split?: Split): ConfusionMatrix {
    this.assertRun(runId);
    const classes = (this.db.prepare('SELECT idx, class_id AS id, name FROM run_classes WHERE run_id = ? AND class_id IS NOT NULL ORDER BY idx').all(runId) as { id: number; name: string }[]);
    if (classes.length === 0) throw new ApiError('not_found', `runId: predictions of run ${runId} not found (the run has not finished, or finished before predictions were recorded)`, 'runId');
    const splitCounts = { train: 0, val: 0, test: 0 };
    for (const r of this.db.prepare('SELECT split, COUNT(*) AS n FROM predictions WHERE run_id = ? GROUP BY split').all(runId) as { split: Split; n: number }[]) splitCounts[r.split] = r.n;
    const pick = split ?? (['test', 'val', 'train'] as const).find((s) => splitCounts[s] > 0);
    if (!pick || splitCounts[pick] === 0) {
      const have = (['train', 'val', 'test'] as const).filter((s) => splitCounts[s] > 0).map((s) => `${s} (${splitCounts[s]})`);
      throw new ApiError('invalid_params', `split: run ${runId} has no ${split ? `${split} ` : ''}images${have.length ? `; its predictions cover ${have.join(', ')}` : ''}`, 'split');
    }
    const at = new Map(classes.map((c, i) => [c.id, i]));
    const counts = classes.map(() => classes.map(() => 0));
    let total = 0, right = 0;
    for (const r of this.db.prepare('SELECT given_class_id AS g, predicted_class_id AS p, COUNT(*) AS n FROM predictions WHERE run_id = ? AND split = ? GROUP BY g, p').all(runId, pick) as { g: number | null; p: number; n: number }[]) {
      const a = r.g === null ? undefined : at.get(r.g);
      const b = at.get(r.p);
      if (a === undefined || b === undefined) continue;
      counts[a][b] += r.n;
      total += r.n;
      if (a === b) right += r.n;
    }
    return { runId, split: pick, splitCounts, classIds: classes.map((c) => c.id), classNames: classes.map((c) => c.name), counts, accuracy: total > 0 ? right / total : 0 };
  }

  /**
   * A run's label-error suggestions with the given status ('all': any), highest score
   * first, at most `limit`, how many there are, and the gate that decided whether the run
   * has any (quality-gate.ts). Each item carries the run's prediction.
   * @throws ApiError not_found for an unknown run.
   */
  listSuggestions(p: { runId: number; status?: LabelSuggestion['status'] | 'all'; limit?: number }): { suggestions: LabelSuggestion[]; total: number; gate: SuggestionGate } {
    this.assertRun(p.runId);
    const status = p.status ?? 'open';
    const filter = status === 'all' ? '' : 'AND s.status = ?';
    const args = status === 'all' ? [p.runId] : [p.runId, status];
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM suggestions s WHERE s.run_id = ? ${filter}`).get(...args) as { n: number }).n;
    const rows = this.db
      .prepare(
        `SELECT s.item_id AS itemId, s.given_class_id AS given, s.suggested_class_id AS suggested, s.score, s.status,
           p.predicted_class_id AS pClass, p.confidence AS pConf, p.given_probability AS pGiven
         FROM suggestions s LEFT JOIN predictions p ON p.run_id = s.run_id AND p.item_id = s.item_id
         WHERE s.run_id = ? ${filter} ORDER BY s.score DESC, s.item_id LIMIT ?`,
      )
      .all(...args, p.limit ?? 200) as { itemId: number; given: number; suggested: number; score: number; status: LabelSuggestion['status']; pClass: number | null; pConf: number | null; pGiven: number | null }[];
    const items = itemsByIds(this.db, rows.map((r) => r.itemId));
    return {
      total,
      gate: suggestionGate(this.db, p.runId),
      suggestions: rows.map((r) => ({
        item: { ...items.get(r.itemId)!, prediction: r.pClass === null ? null : { classId: r.pClass, confidence: r.pConf!, givenProbability: r.pGiven! } },
        givenClassId: r.given,
        suggestedClassId: r.suggested,
        score: r.score,
        status: r.status,
      })),
    };
  }

  private assertDataset(datasetId: number): void {
    if (!this.db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(datasetId)) throw new ApiError('not_found', `datasetId: ${datasetId} not found`, 'datasetId');
  }

  private assertRun(runId: number): void {
    if (!this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId)) throw new ApiError('not_found', `run ${runId} not found`, 'runId');
  }
}

/**
 * Cut each 64-bit hash (16 hex digits) into `m` contiguous blocks of (nearly) equal width
 * and return, per block, every hash's block value (a number; the whole hash as a string
 * when m = 1).
 */
export function blockKeys(hexes: readonly string[], m: number): (number | string)[][] {
  if (m === 1) return [hexes.slice()];
  const bounds: number[] = [];
  for (let b = 0; b <= m; b++) bounds.push(Math.round((b * 64) / m));
  const out: number[][] = Array.from({ length: m }, () => new Array<number>(hexes.length));
  hexes.forEach((hex, i) => {
    const v = BigInt(`0x${hex}`);
    for (let b = 0; b < m; b++) {
      const width = bounds[b + 1] - bounds[b];
      out[b][i] = Number((v >> BigInt(bounds[b])) & ((1n << BigInt(width)) - 1n));
    }
  });
  return out;
}
