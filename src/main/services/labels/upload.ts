/**
 * Uploads: files sent as base64 become unlabeled items through the one ingest path
 * (import/ingest.ts), exactly as imported files do.
 */
import type { SkippedFile, SplitConfig } from '../../../shared/api';
import { ApiError } from '../../../shared/errors';
import type { BlobStore } from '../../blobs';
import { now } from '../../db/db';
import { normalizeBuffer, SkipError } from '../../images/image';
import { Ingest, storeImage, type StoredImage } from '../../import/ingest';
import { applySplits } from '../datasets-split';
import type { LabelContext } from './context';

/** Largest decoded upload per `items.upload` call, bytes (32 MiB). */
export const MAX_UPLOAD_BYTES = 32 * 2 ** 20;

/**
 * Add uploaded files (base64) as unlabeled items: each is decoded and normalized like
 * an imported file, stored once (exact duplicates of an item of the dataset are counted,
 * not added) and given a split by the dataset's rule. Files that are not usable images
 * are skipped with the reason.
 * @throws ApiError `datasetId: …` not_found; `files: …` invalid_params when the decoded total exceeds 32 MiB.
 */
export async function upload(
  ctx: LabelContext,
  blobs: BlobStore,
  p: { datasetId: number; files: readonly { name: string; dataBase64: string }[] },
): Promise<{ imported: number; duplicates: number; skipped: SkippedFile[] }> {
  ctx.assertDataset(p.datasetId);
  const approx = p.files.reduce((s, f) => s + Math.floor((f.dataBase64.length * 3) / 4), 0);
  if (approx > MAX_UPLOAD_BYTES + 4 * p.files.length) throw new ApiError('invalid_params', `files: ${(approx / 2 ** 20).toFixed(1)} MiB in one upload; the limit is ${MAX_UPLOAD_BYTES / 2 ** 20} MiB per call`, 'files');
  const skipped: SkippedFile[] = [];
  const stored: { name: string; image: StoredImage }[] = [];
  for (const f of p.files) {
    const bytes = Buffer.from(f.dataBase64, 'base64');
    try {
      const img = await normalizeBuffer(bytes, /\.[^.]+$/.exec(f.name)?.[0] ?? '');
      stored.push({ name: f.name, image: await storeImage(blobs, img) });
    } catch (err) {
      if (!(err instanceof SkipError)) throw err;
      skipped.push({ path: f.name, reason: err.message });
    }
  }
  ctx.assertDataset(p.datasetId);
  const ingest = new Ingest(ctx.db, p.datasetId);
  const { imported, duplicates } = ctx.db.transaction(() => {
    let imported = 0, duplicates = 0;
    const t = now();
    for (const s of stored) {
      if (ingest.addItem({ image: s.image, name: s.name, classId: null, givenSplit: null }, t)) imported++;
      else duplicates++;
    }
    const cfg = ctx.db.prepare('SELECT split_config FROM datasets WHERE id = ?').get(p.datasetId) as { split_config: string };
    applySplits(ctx.db, p.datasetId, JSON.parse(cfg.split_config) as SplitConfig, 'new-items');
    return { imported, duplicates };
  })();
  blobs.release(stored.map((s) => s.image.hash)); // committed: no pending reference needed (src/main/blobs.ts)
  if (imported > 0) ctx.changed(p.datasetId, 'items');
  return { imported, duplicates, skipped };
}
