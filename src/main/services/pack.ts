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
import { join } from 'node:path';
import sharp from 'sharp';
import type { Split } from '../../shared/api';
import { PACK_FILES, SPLIT_CODE, type PackMeta } from '../../shared/pack';
import type { BlobStore } from '../blobs';
import type { Db } from '../db/db';
import { now } from '../db/db';
import { mapPool } from '../import/pool';
import { decodeSimplePng } from '../import/png';
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
    if (c.idx !== i) throw new Error(`datasetId: ${datasetId} has class indices that are not 0…${classes.length - 1} (found ${c.idx} at position ${i})`);
  });
  const rows = db
    .prepare(
      `SELECT i.blob_hash AS hash, c.idx AS idx, i.split AS split FROM items i JOIN classes c ON c.id = i.class_id
       WHERE i.dataset_id = ? AND i.excluded = 0 AND i.split IS NOT NULL ORDER BY i.blob_hash`,
    )
    .all(datasetId) as { hash: string; idx: number; split: Split }[];
  if (rows.length === 0) throw new Error(`datasetId: ${datasetId} has no labelled items with a split`);
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
  return { versionId, versionHash, manifest };
}

/**
 * Pixels of blob `hash` at [h, w, c]: resized with sharp (`fit: 'cover'`, centre) unless
 * already h × w, converted to c channels (1 = greyscale, 3 = sRGB), uint8 HWC.
 * @throws Error when the blob is missing or undecodable.
 */
export async function loadPixels(blobs: BlobStore, hash: string, h: number, w: number, c: 1 | 3): Promise<Buffer> {
  const bytes = await readFile(blobs.blobPath(hash));
  const simple = decodeSimplePng(bytes);
  if (simple && simple.width === w && simple.height === h && simple.channels === c) return simple.data;
  let img = simple ? sharp(simple.data, { raw: { width: simple.width, height: simple.height, channels: simple.channels as 1 | 3 } }) : sharp(bytes);
  if (!simple || simple.width !== w || simple.height !== h) img = img.resize(w, h, { fit: 'cover', position: 'centre' });
  const { data, info } = await img.removeAlpha().toColourspace(c === 1 ? 'b-w' : 'srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.width !== w || info.height !== h || info.channels !== c) throw new Error(`blob ${hash}: decoded to ${info.width}×${info.height}×${info.channels}, expected ${w}×${h}×${c}`);
  return data;
}

/**
 * Freeze a version of `datasetId` and build (or reuse) its pack at `inputShape` =
 * [height, width, channels] (pixels, 1 ≤ side ≤ MAX_INPUT_SIDE; channels 1 or 3).
 * Returns the version row id, its content hash, the pack folder (absolute) and its meta.
 * @throws Error `inputShape: …` for a bad shape, `datasetId: …` when there is nothing to train on.
 */
export async function prepareTraining(ctx: PackContext, datasetId: number, inputShape: [number, number, number]): Promise<PreparedTraining> {
  const [h, w, c] = inputShape;
  if (!Array.isArray(inputShape) || inputShape.length !== 3) throw new Error('inputShape: must be [height, width, channels]');
  for (const [v, n] of [[h, 'height'], [w, 'width']] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_INPUT_SIDE) throw new Error(`inputShape: ${n} must be an integer from 1 to ${MAX_INPUT_SIDE}, got ${v}`);
  }
  if (c !== 1 && c !== 3) throw new Error(`inputShape: channels must be 1 or 3, got ${c}`);
  const { versionId, versionHash, manifest } = await freezeVersion(ctx, datasetId);
  const packDir = join(ctx.paths.cache, `${versionHash}-${h}x${w}x${c}`);
  const metaFile = join(packDir, PACK_FILES.meta);
  if (existsSync(metaFile)) {
    return { versionId, versionHash, packDir, meta: JSON.parse(await readFile(metaFile, 'utf8')) as PackMeta };
  }

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

  await mkdir(ctx.paths.cache, { recursive: true });
  const tmp = join(ctx.paths.cache, `.tmp-${versionHash.slice(0, 16)}-${h}x${w}x${c}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp);
  try {
    const size = h * w * c;
    const fh = await open(join(tmp, PACK_FILES.pixels), 'w');
    try {
      await fh.truncate(count * size);
      await mapPool(manifest.items, PACK_CONCURRENCY, async ([hash], i) => {
        const px = await loadPixels(ctx.blobs, hash, h, w, c);
        await fh.write(px, 0, size, i * size);
      });
    } finally {
      await fh.close();
    }
    await writeFile(join(tmp, PACK_FILES.labels), labels);
    await writeFile(join(tmp, PACK_FILES.splits), splits);
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
