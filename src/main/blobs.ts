/**
 * The content-addressed blob store: files named by the SHA-256 of their bytes under
 * `<data>/blobs/ab/<hash>` (ab = the first two hex digits), written once (temp file, then
 * rename) and never modified. Thumbnails (PNG, at most 128 px on the long side, never
 * upscaled) live under `<data>/thumbs/ab/<hash>.png`; images already that small have no
 * thumbnail file and the blob itself (a PNG) serves as one.
 *
 * Garbage collection across processes (several processes share one data directory):
 *   - a writer first records the hash in `blob_refs_pending` (its own committed
 *     transaction, under SQLite's write lock), then checks for the file and writes it if
 *     missing, and later commits the blob row and the item (or dataset version) that
 *     references it;
 *   - the collector, inside one IMMEDIATE transaction (holding the write lock), picks
 *     blob rows that no item, no dataset version and no live pending reference names,
 *     deletes those rows and then their files, and commits.
 * So a writer either reserved before the collector looked (the blob is kept) or after it
 * committed (the file is gone and the writer writes it again): a referenced file is never
 * deleted. Pending references end with their process (row cascade) or after PENDING_TTL_S.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Db } from './db/db';
import { now } from './db/db';
import { diskFullError } from './db/disk-full';
import type { DataPaths } from './paths';

/** Seconds a pending blob reference protects its blob (an import commits each batch within seconds; this is ample). */
export const PENDING_TTL_S = 3600;
/** Blob rows examined per garbage-collection transaction. */
export const GC_WINDOW = 500;

/** Where a BlobStore records the blobs it is about to reference: the database and this process's owner id (src/main/db/owners.ts). */
export interface BlobRefs {
  db: Db;
  ownerId: string;
}

/** Longest side of a thumbnail, pixels. */
export const THUMB_SIZE = 128;

const HASH_RE = /^[0-9a-f]{64}$/;

/** True when `hash` is a SHA-256 in lowercase hex (64 characters). */
export function isHash(hash: string): boolean {
  return HASH_RE.test(hash);
}

/** SHA-256 of `bytes`, lowercase hex. */
export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class BlobStore {
  private readonly madeDirs = new Set<string>();
  private readonly reserveStmt;
  private readonly releaseStmt;
  /** Reservations of this process not yet released, per hash (several operations may hold one). */
  private readonly held = new Map<string, number>();

  /** Without `refs` the store records no pending references (then it must not share a data directory with a collector). */
  constructor(
    private readonly paths: Pick<DataPaths, 'blobs' | 'thumbs'>,
    private readonly refs?: BlobRefs,
  ) {
    this.reserveStmt = refs?.db.prepare('INSERT INTO blob_refs_pending (hash, owner_id, at) VALUES (?, ?, ?) ON CONFLICT (hash, owner_id) DO UPDATE SET at = excluded.at');
    this.releaseStmt = refs?.db.prepare('DELETE FROM blob_refs_pending WHERE hash = ? AND owner_id = ?');
  }

  /** Absolute path of the blob `hash` (whether or not it exists). @throws Error when `hash` is not 64 hex digits. */
  blobPath(hash: string): string {
    if (!isHash(hash)) throw new Error(`hash: ${JSON.stringify(hash)} is not a SHA-256 hex digest`);
    return join(this.paths.blobs, hash.slice(0, 2), hash);
  }

  /** Absolute path of the thumbnail of `hash` (whether or not it exists). @throws Error when `hash` is not 64 hex digits. */
  thumbPath(hash: string): string {
    if (!isHash(hash)) throw new Error(`hash: ${JSON.stringify(hash)} is not a SHA-256 hex digest`);
    return join(this.paths.thumbs, hash.slice(0, 2), `${hash}.png`);
  }

  /**
   * Store `bytes` once. Returns its hash and whether it was new. Safe against concurrent
   * writers of the same content (each writes its own temp file; the rename is atomic).
   */
  async put(bytes: Buffer): Promise<{ hash: string; created: boolean }> {
    const hash = sha256(bytes);
    const file = this.blobPath(hash);
    // Reserve before looking at the disk: from here on no collector deletes this blob.
    this.reserve(hash);
    if (existsSync(file)) return { hash, created: false };
    await this.writeAtomic(file, bytes);
    return { hash, created: true };
  }

  /**
   * Record that this process is about to reference blob `hash` (committed at once), so
   * that no collector in any process deletes it for PENDING_TTL_S seconds or until this
   * process is gone. A no-op without `refs`.
   * @throws Error "disk full while writing <database>" when SQLite is full.
   */
  reserve(hash: string): void {
    if (!this.reserveStmt || !this.refs) return;
    try {
      this.reserveStmt.run(hash, this.refs.ownerId, now());
    } catch (err) {
      throw diskFullError(err, this.refs.db.name);
    }
    this.held.set(hash, (this.held.get(hash) ?? 0) + 1);
  }

  /**
   * End reservations made by put()/reserve() once the rows that reference those blobs are
   * committed (or the operation gave up): the pending row goes when the last holder in
   * this process releases it. Unreleased reservations end with the process or after
   * PENDING_TTL_S. Never throws (a failed delete only delays garbage collection).
   */
  release(hashes: Iterable<string>): void {
    const { releaseStmt, refs } = this;
    if (!releaseStmt || !refs) return;
    const last: string[] = [];
    for (const hash of hashes) {
      const n = (this.held.get(hash) ?? 0) - 1;
      if (n > 0) {
        this.held.set(hash, n);
        continue;
      }
      this.held.delete(hash);
      last.push(hash);
    }
    if (last.length === 0) return;
    try {
      refs.db.transaction(() => {
        for (const hash of last) releaseStmt.run(hash, refs.ownerId);
      })();
    } catch {
      // kept until the process ends or the reservation expires
    }
  }

  /**
   * Delete the blobs (rows, files and thumbnails) that no item, no dataset version and no
   * live pending reference names, GC_WINDOW rows per IMMEDIATE transaction with the event
   * loop free between them. Pending references older than PENDING_TTL_S are dropped first.
   * Returns how many blobs were deleted. Needs `refs`.
   * @throws Error when the store has no database.
   */
  async collectGarbage(): Promise<number> {
    if (!this.refs) throw new Error('BlobStore.collectGarbage: this store was created without a database');
    const { db } = this.refs;
    db.prepare('DELETE FROM blob_refs_pending WHERE at <= ?').run(now() - PENDING_TTL_S);
    const window = db.prepare(
      `SELECT b.hash AS hash,
         (NOT EXISTS (SELECT 1 FROM items i WHERE i.blob_hash = b.hash)
          AND NOT EXISTS (SELECT 1 FROM dataset_versions v WHERE v.manifest_hash = b.hash)
          AND NOT EXISTS (SELECT 1 FROM blob_refs_pending p WHERE p.hash = b.hash AND p.at > ?)) AS orphan
       FROM blobs b WHERE b.hash > ? ORDER BY b.hash LIMIT ?`,
    );
    const del = db.prepare('DELETE FROM blobs WHERE hash = ?');
    const chunk = db.transaction((cursor: string): { scanned: number; removed: number; last: string } => {
      const rows = window.all(now() - PENDING_TTL_S, cursor, GC_WINDOW) as { hash: string; orphan: number }[];
      let removed = 0;
      for (const r of rows) {
        if (!r.orphan) continue;
        del.run(r.hash);
        // Files go while the write lock is held: a writer reserving this hash waits, then finds no file and writes it anew.
        rmSync(this.blobPath(r.hash), { force: true });
        rmSync(this.thumbPath(r.hash), { force: true });
        removed++;
      }
      return { scanned: rows.length, removed, last: rows.at(-1)?.hash ?? cursor };
    });
    let cursor = '';
    let total = 0;
    for (;;) {
      const r = chunk.immediate(cursor);
      total += r.removed;
      cursor = r.last;
      if (r.scanned < GC_WINDOW) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Store the thumbnail (PNG bytes) of blob `hash`, unless one is there already. */
  async putThumb(hash: string, png: Buffer): Promise<void> {
    const file = this.thumbPath(hash);
    if (existsSync(file)) return;
    await this.writeAtomic(file, png);
  }

  /** Size in bytes of blob `hash`, or null when absent. */
  async size(hash: string): Promise<number | null> {
    try {
      return (await stat(this.blobPath(hash))).size;
    } catch {
      return null;
    }
  }

  /** Delete blob `hash` and its thumbnail (missing files are fine). */
  async remove(hash: string): Promise<void> {
    await rm(this.blobPath(hash), { force: true });
    await rm(this.thumbPath(hash), { force: true });
  }

  /**
   * The file to serve for an image: `'full'` is the stored blob (a normalized PNG),
   * `'thumb'` its thumbnail, falling back to the blob for images of at most 128 px.
   * Returns an absolute path, or null when `hash` is not 64 hex digits or nothing is stored.
   * Never throws.
   */
  imageFile(hash: string, kind: 'thumb' | 'full'): string | null {
    if (typeof hash !== 'string' || !isHash(hash)) return null;
    if (kind === 'thumb') {
      const t = this.thumbPath(hash);
      if (existsSync(t)) return t;
    } else if (kind !== 'full') {
      return null;
    }
    const b = this.blobPath(hash);
    return existsSync(b) ? b : null;
  }

  private async writeAtomic(file: string, bytes: Buffer): Promise<void> {
    const dir = dirname(file);
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      if (!this.madeDirs.has(dir)) {
        await mkdir(dir, { recursive: true });
        this.madeDirs.add(dir);
      }
      await writeFile(tmp, bytes);
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw diskFullError(err, file);
    }
  }
}
