/**
 * Freezing a dataset version and packing it for training (format: src/shared/pack.ts).
 *
 * A version is the list of (blob hash, class index, split) of the dataset's labelled,
 * non-excluded items that have a split, sorted by hash, with the class names; its content
 * hash is the SHA-256 of that canonical JSON, which is also stored as a blob (the
 * manifest). A pack is built once per (version, input shape) under
 * `<data>/cache/<versionHash>-<h>x<w>x<c>/`, written to a temp folder and renamed, so a
 * crash never leaves a half pack behind.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import type { Split } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import { PACK_FILES, SPLIT_CODE, type PackMeta } from '../../shared/pack';
import type { BlobStore } from '../blobs';
import type { Db } from '../db/db';
import { now } from '../db/db';
import { normalizeBuffer } from '../images/image';
import { mapPool } from '../images/pool';
import { checkPack, packChecksums, PackDamage } from './pack-check';
import { decodeStored } from '../images/stored';
import type { DataPaths } from '../paths';

/** Images decoded at once while packing. */
export const PACK_CONCURRENCY = 16;
/** Largest accepted input side, pixels. */
export const MAX_INPUT_SIDE = 1024;

export interface PackContext {
  db: Db;
  paths: DataPaths;
  blobs: BlobStore;
}

/** The canonical version manifest (its JSON is hashed and stored). */
export interface VersionManifest {
  version: 1;
  classNames: string[];
  /** [blob hash, class index, split], sorted by hash. */
  items: [string, number, Split][];
}

export interface PreparedTraining {
  versionId: number;
  versionHash: string;
  packDir: string;
  meta: PackMeta;
}

/**
 * Freeze the current labelled items of `datasetId` into a dataset version (reusing an
 * identical one) and return its row id and content hash, and the manifest.
 * @throws Error `datasetId: N has no labelled items with a split` when there is nothing to train on.
 */
export async function freezeVersion(ctx: PackContext, datasetId: number): Promise<{ versionId: number; versionHash: string; manifest: VersionManifest }> {
  const { db } = ctx;
  const classes = db.prepare('SELECT idx, name FROM classes WHERE dataset_id = ? AND deleted_at IS NULL ORDER BY idx').all(datasetId) as { idx: number; name: string }[];
  classes.forEach((c, i) => {
    if (c.idx !== i) throw new ApiError('invalid_params', `datasetId: ${datasetId} has class indices that are not 0…${classes.length - 1} (found ${c.idx} at position ${i})`, 'datasetId');
  });
  const rows = db
    .prepare(
      `SELECT i.blob_hash AS hash, c.idx AS idx, i.split AS split FROM items i JOIN classes c ON c.id = i.class_id
       WHERE i.dataset_id = ? AND i.excluded = 0 AND i.split IS NOT NULL ORDER BY i.blob_hash`,
    )
    .all(datasetId) as { hash: string; idx: number; split: Split }[];
  if (rows.length === 0) throw new ApiError('invalid_params', `datasetId: ${datasetId} has no labelled items with a split`, 'datasetId');
  const manifest: VersionManifest = { version: 1, classNames: classes.map((c) => c.name), items: rows.map((r) => [r.hash, r.idx, r.split]) };
  const json = Buffer.from(JSON.stringify(manifest));
  const { hash: versionHash } = await ctx.blobs.put(json);
  const versionId = db.transaction(() => {
    db.prepare("INSERT OR IGNORE INTO blobs (hash, size, width, height, channels, format) VALUES (?, ?, 0, 0, 0, 'json')").run(versionHash, json.length);
    const existing = db.prepare('SELECT id FROM dataset_versions WHERE dataset_id = ? AND content_hash = ?').get(datasetId, versionHash) as { id: number } | undefined;
    if (existing) return existing.id;
    return Number(
      db.prepare('INSERT INTO dataset_versions (dataset_id, content_hash, item_count, manifest_hash, created_at) VALUES (?, ?, ?, ?, ?)').run(datasetId, versionHash, rows.length, versionHash, now()).lastInsertRowid,
    );
  })();
  ctx.blobs.release([versionHash]);
  return { versionId, versionHash, manifest };
}

/**
 * Pixels of blob `hash` at [h, w, c]: decoded as every blob is (images/stored.ts: EXIF
 * orientation applied, as the served image shows it; a JPEG kept as imported and the PNG
 * that older versions stored of it give the same pixels), resized with sharp
 * (`fit: 'cover'`, centre) unless already h × w, converted to c channels (1 = greyscale,
 * 3 = sRGB), uint8 HWC.
 * @throws Error when the blob is missing or undecodable.
 */
export async function loadPixels(blobs: BlobStore, hash: string, h: number, w: number, c: 1 | 3): Promise<Buffer> {
  return pixelsAt(await readFile(blobs.blobPath(hash)), h, w, c, `blob ${hash}`);
}

/**
 * As loadPixels, for an image file's bytes (a stored blob's, or a file dropped on the Inspect
 * section: the same decode, resize and channels, so it reaches a model as the pack would).
 * @throws Error naming `what` when the bytes do not decode.
 */
export async function pixelsAt(bytes: Buffer, h: number, w: number, c: 1 | 3, what: string): Promise<Buffer> {
  const raw = await decodeStored(bytes);
  if (raw.width === w && raw.height === h && raw.channels === c) return raw.data;
  let img = sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels as 1 | 3 } });
  if (raw.width !== w || raw.height !== h) img = img.resize(w, h, { fit: 'cover', position: 'centre' });
  const { data, info } = await img.removeAlpha().toColourspace(c === 1 ? 'b-w' : 'srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.width !== w || info.height !== h || info.channels !== c) throw new Error(`${what}: decoded to ${info.width}×${info.height}×${info.channels}, expected ${w}×${h}×${c}`);
  return data;
}

/**
 * A new image file's model input (h × w × c uint8, HWC): decoded by the importer
 * (../images/image.ts normalizeBuffer: BMP, CMYK, 16-bit, grey, alpha onto white, EXIF
 * orientation), then its stored form resized as a training image's (pixelsAt), so it reaches a
 * model exactly as an imported image does. `name` (a file name) only words the errors.
 * @throws SkipError (the importer's reason) when the file does not decode; Error from pixelsAt.
 */
export async function pixelsOfFile(bytes: Buffer, name: string, h: number, w: number, c: 1 | 3): Promise<Buffer> {
  const stored = await normalizeBuffer(bytes, extname(name), { deferPreview: true });
  return pixelsAt(stored.bytes, h, w, c, basename(name));
}

/**
 * Freeze a version of `datasetId` and build (or reuse) its pack at `inputShape` =
 * [height, width, channels] (pixels, 1 ≤ side ≤ MAX_INPUT_SIDE; channels 1 or 3).
 * Returns the version row id, its content hash, the pack folder (absolute) and its meta.
 * @throws Error `inputShape: …` for a bad shape, `datasetId: …` when there is nothing to train on.
 */
export async function prepareTraining(ctx: PackContext, datasetId: number, inputShape: [number, number, number]): Promise<PreparedTraining> {
  const [h, w, c] = inputShape;
  if (!Array.isArray(inputShape) || inputShape.length !== 3) throw new ApiError('invalid_params', 'inputShape: must be [height, width, channels]', 'inputShape');
  for (const [v, n] of [[h, 'height'], [w, 'width']] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_INPUT_SIDE) throw new ApiError('invalid_params', `inputShape: ${n} must be an integer from 1 to ${MAX_INPUT_SIDE}, got ${v}`, 'inputShape');
  }
  if (c !== 1 && c !== 3) throw new ApiError('invalid_params', `inputShape: channels must be 1 or 3, got ${c}`, 'inputShape');
  const { versionId, versionHash, manifest } = await freezeVersion(ctx, datasetId);
  const packDir = join(ctx.paths.cache, `${versionHash}-${h}x${w}x${c}`);
  const metaFile = join(packDir, PACK_FILES.meta);

  const count = manifest.items.length;
  const counts = { train: 0, val: 0, test: 0 };
  const labels = Buffer.alloc(count * 4);
  const splits = Buffer.alloc(count);
  manifest.items.forEach(([, idx, split], i) => {
    labels.writeInt32LE(idx, i * 4);
    splits[i] = SPLIT_CODE[split];
    counts[split]++;
  });
  const meta: PackMeta = { version: 1, count, height: h, width: w, channels: c, numClasses: manifest.classNames.length, classNames: manifest.classNames, counts, versionHash };

  if (existsSync(packDir)) {
    // A cached pack is reused only when it checks out (./pack-check.ts); a damaged one is rebuilt.
    try {
      return { versionId, versionHash, packDir, meta: await checkPack(packDir, { meta, labels, splits, hashes: manifest.items.map(([hash]) => hash) }) };
    } catch (err) {
      if (!(err instanceof PackDamage)) throw err;
      console.warn(`[layerwise] cached pack damaged, rebuilding: ${err.message}`);
      await rm(packDir, { recursive: true, force: true });
    }
  }

  await mkdir(ctx.paths.cache, { recursive: true });
  const tmp = join(ctx.paths.cache, `.tmp-${versionHash.slice(0, 16)}-${h}x${w}x${c}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp);
  try {
    const size = h * w * c;
    const fh = await open(join(tmp, PACK_FILES.pixels), 'w');
    try {
      await fh.truncate(count * size);
      await mapPool(manifest.items, PACK_CONCURRENCY, async ([hash], i) => {
        let px: Buffer;
        try {
          px = await loadPixels(ctx.blobs, hash, h, w, c);
        } catch (err) {
          throw new Error(`packing item ${i} of the version (${ctx.blobs.blobPath(hash)}): ${(err as Error).message}`, { cause: err });
        }
        await fh.write(px, 0, size, i * size);
      });
    } finally {
      await fh.close();
    }
    await writeFile(join(tmp, PACK_FILES.labels), labels);
    await writeFile(join(tmp, PACK_FILES.splits), splits);
    meta.checksums = await packChecksums(tmp, meta, labels, splits);
    await writeFile(join(tmp, PACK_FILES.meta), JSON.stringify(meta, null, 1));
    try {
      await rename(tmp, packDir);
    } catch (err) {
      // Another caller finished the same pack first: use theirs.
      if (!existsSync(metaFile)) throw err;
      await rm(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return { versionId, versionHash, packDir, meta };
}
