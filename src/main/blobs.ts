/**
 * The content-addressed blob store: files named by the SHA-256 of their bytes under
 * `<data>/blobs/ab/<hash>` (ab = the first two hex digits), written once (temp file, then
 * rename) and never modified. Thumbnails (PNG, at most 128 px on the long side, never
 * upscaled) live under `<data>/thumbs/ab/<hash>.png`; images already that small have no
 * thumbnail file and the blob itself (a PNG) serves as one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DataPaths } from './paths';

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

  constructor(private readonly paths: Pick<DataPaths, 'blobs' | 'thumbs'>) {}

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
    if (existsSync(file)) return { hash, created: false };
    await this.writeAtomic(file, bytes);
    return { hash, created: true };
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
    if (!this.madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
}
