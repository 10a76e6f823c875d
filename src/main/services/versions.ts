/**
 * Dataset versions as the user sees them: the list (with the runs trained on each) and
 * the diff between two frozen versions, or between a version and the current state.
 *
 * A version is frozen by prepareTraining (./pack.ts): its manifest (a JSON blob, never
 * modified) holds the class names and [blob hash, class index, split] per item, so a
 * version survives any later change to the dataset (relabels, moves, class renames and
 * deletions). Diffs compare by blob hash and by class *name*.
 *
 * The "current state" side of a diff holds the dataset's non-excluded items: labelled or
 * not, with or without a split. An item that is excluded now counts as removed; an item
 * made unlabeled counts as relabeled to null; an unlabeled item that already existed when
 * the version was frozen is no change (it was not in the version and still is not trainable).
 */
import { readFileSync } from 'node:fs';
import type { DatasetVersion, Split, VersionDiff } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import type { BlobStore } from '../blobs';
import type { Db } from '../db/db';
import type { VersionManifest } from './pack';

/** One item of either side of a diff. */
interface Entry {
  className: string | null;
  split: Split | null;
}

interface VersionRow {
  id: number;
  dataset_id: number;
  content_hash: string;
  item_count: number;
  manifest_hash: string;
  created_at: number;
}

/** Reads version manifests (immutable, so cached by version id). */
export class VersionStore {
  private readonly cache = new Map<number, VersionManifest>();

  constructor(
    private readonly db: Db,
    private readonly blobs: BlobStore,
  ) {}

  /** The version row. @throws Error `<field>: version N not found`. */
  row(versionId: number, field = 'versionId'): VersionRow {
    const row = this.db.prepare('SELECT * FROM dataset_versions WHERE id = ?').get(versionId) as VersionRow | undefined;
    if (!row) throw new ApiError('not_found', `${field}: version ${versionId} not found`, field);
    return row;
  }

  /** The frozen manifest of a version. @throws Error when the version or its manifest blob is missing. */
  manifest(versionId: number, field = 'versionId'): VersionManifest {
    const hit = this.cache.get(versionId);
    if (hit) return hit;
    const row = this.row(versionId, field);
    let m: VersionManifest;
    try {
      m = JSON.parse(readFileSync(this.blobs.blobPath(row.manifest_hash), 'utf8')) as VersionManifest;
    } catch (err) {
      throw new ApiError('invalid_params', `${field}: the manifest of version ${versionId} cannot be read: ${(err as Error).message}`, field);
    }
    this.cache.set(versionId, m);
    return m;
  }

  /** Versions of a dataset, newest first, each with the runs trained on it (ascending ids). */
  list(datasetId: number): DatasetVersion[] {
    const rows = this.db.prepare('SELECT * FROM dataset_versions WHERE dataset_id = ? ORDER BY id DESC').all(datasetId) as VersionRow[];
    const runs = this.db.prepare('SELECT id, dataset_version_id AS v FROM runs WHERE dataset_id = ? AND dataset_version_id IS NOT NULL ORDER BY id').all(datasetId) as { id: number; v: number }[];
    const byVersion = new Map<number, number[]>();
    for (const r of runs) {
      let l = byVersion.get(r.v);
      if (!l) byVersion.set(r.v, (l = []));
      l.push(r.id);
    }
    return rows.map((r) => ({ id: r.id, datasetId: r.dataset_id, contentHash: r.content_hash, itemCount: r.item_count, createdAt: r.created_at, runIds: byVersion.get(r.id) ?? [] }));
  }

  /**
   * What changed from version `fromVersionId` to `toVersionId` (or, when absent, to the
   * current labels and splits). Lists are sorted by hash.
   * @throws Error `fromVersionId: …` / `toVersionId: …` (not found, other dataset).
   */
  diff(fromVersionId: number, toVersionId?: number): VersionDiff {
    const fromRow = this.row(fromVersionId, 'fromVersionId');
    const from = manifestEntries(this.manifest(fromVersionId, 'fromVersionId'));
    let to: Map<string, Entry>;
    if (toVersionId !== undefined) {
      const toRow = this.row(toVersionId, 'toVersionId');
      if (toRow.dataset_id !== fromRow.dataset_id) throw new ApiError('invalid_params', `toVersionId: version ${toVersionId} is of dataset ${toRow.dataset_id}, version ${fromVersionId} of dataset ${fromRow.dataset_id}`, 'toVersionId');
      to = manifestEntries(this.manifest(toVersionId, 'toVersionId'));
    } else {
      to = new Map();
      for (const r of this.currentRows(fromRow.dataset_id)) {
        if (r.excluded) continue;
        if (!from.has(r.hash) && r.className === null && r.createdAt <= fromRow.created_at) continue;
        to.set(r.hash, { className: r.className, split: r.split });
      }
    }
    const classIds = new Map((this.db.prepare('SELECT id, name FROM classes WHERE dataset_id = ? AND deleted_at IS NULL').all(fromRow.dataset_id) as { id: number; name: string }[]).map((c) => [c.name, c.id]));
    const out: VersionDiff = { added: [], removed: [], relabeled: [], moved: [] };
    for (const [hash, t] of to) {
      const f = from.get(hash);
      if (!f) {
        out.added.push({ hash, classId: t.className === null ? null : (classIds.get(t.className) ?? null), split: t.split });
        continue;
      }
      if (f.className !== t.className) out.relabeled.push({ hash, from: f.className, to: t.className });
      if (f.split !== t.split) out.moved.push({ hash, from: f.split, to: t.split });
    }
    for (const [hash, f] of from) if (!to.has(hash)) out.removed.push({ hash, className: f.className, split: f.split });
    const byHash = (a: { hash: string }, b: { hash: string }): number => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0);
    out.added.sort(byHash);
    out.removed.sort(byHash);
    out.relabeled.sort(byHash);
    out.moved.sort(byHash);
    return out;
  }

  /**
   * Ids of the items of `datasetId` added, relabeled, moved or excluded since version
   * `versionId` was frozen (the `changedSinceVersionId` filter), ascending.
   * @throws Error `changedSinceVersionId: …` when the version is missing or of another dataset.
   */
  changedItemIds(datasetId: number, versionId: number): number[] {
    const row = this.row(versionId, 'changedSinceVersionId');
    if (row.dataset_id !== datasetId) throw new ApiError('invalid_params', `changedSinceVersionId: version ${versionId} is of dataset ${row.dataset_id}, not ${datasetId}`, 'changedSinceVersionId');
    const from = manifestEntries(this.manifest(versionId, 'changedSinceVersionId'));
    const ids: number[] = [];
    for (const r of this.currentRows(datasetId)) {
      const f = from.get(r.hash);
      if (!f) {
        if (!r.excluded && (r.className !== null || r.createdAt > row.created_at)) ids.push(r.id);
      } else if (r.excluded || f.className !== r.className || f.split !== r.split) ids.push(r.id);
    }
    return ids.sort((a, b) => a - b);
  }

  private currentRows(datasetId: number): { id: number; hash: string; className: string | null; split: Split | null; excluded: number; createdAt: number }[] {
    return this.db
      .prepare(
        `SELECT i.id, i.blob_hash AS hash, c.name AS className, i.split, i.excluded, i.created_at AS createdAt
         FROM items i LEFT JOIN classes c ON c.id = i.class_id WHERE i.dataset_id = ?`,
      )
      .all(datasetId) as { id: number; hash: string; className: string | null; split: Split | null; excluded: number; createdAt: number }[];
  }
}

function manifestEntries(m: VersionManifest): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const [hash, idx, split] of m.items) out.set(hash, { className: m.classNames[idx] ?? null, split });
  return out;
}
