/**
 * Deferred previews: the thumbnail and dHash of a photo that the import committed from its
 * header (images/image.ts, `deferPreview`: the grey flag is known then, the ~6 ms decode is
 * not paid yet). A blob's preview is pending while `blobs.phash` is NULL; it is made
 *  - by its import job's 'thumbnails' phase, right after the job's items are committed;
 *  - on demand: a thumbnail asked for (DatasetService.thumbnailFile), near-duplicate search
 *    (QualityService.fillPerceptualHashes);
 *  - for whatever a crashed or cancelled job left, by the next DatasetService to start
 *    (and by any live one once its sweep marks the crashed job interrupted).
 * Making one reads the blob, decodes it once at thumbnail size (images/stored.ts
 * previewStored, the same code as at import, so the hash equals an import-time one),
 * writes the thumbnail file and then sets the row's phash (and a grey flag still unknown).
 * Several processes may make the same preview: the results are identical, the thumbnail
 * write is atomic and the row update only fills NULLs.
 */
import { readFile } from 'node:fs/promises';
import type { BlobStore } from '../blobs';
import type { Db } from '../db/db';
import { previewStored } from '../images/stored';
import { mapPool } from '../images/pool';

/** Progress of a fill: previews made (or found made) so far of `total`. */
export type PreviewProgress = (done: number, total: number) => void;

export class Previews {
  /** Previews being made in this process, by blob hash (so concurrent askers share one decode). */
  private readonly inFlight = new Map<string, Promise<boolean>>();
  /** Blobs whose bytes did not decode in this process (not retried until the next process). */
  private readonly failed = new Map<string, string>();
  private disposed = false;
  private readonly setStmt;
  private readonly rowStmt;

  constructor(
    private readonly db: Db,
    private readonly blobs: BlobStore,
  ) {
    this.setStmt = db.prepare('UPDATE blobs SET phash = ?, grey = COALESCE(grey, ?) WHERE hash = ? AND phash IS NULL');
    this.rowStmt = db.prepare('SELECT phash, width, height FROM blobs WHERE hash = ?');
  }

  /**
   * Hashes of the blobs with a pending preview that an item references: of dataset
   * `datasetId`, or (no id) of every dataset without a running import job (a running job
   * makes its own dataset's). Blobs that failed to decode in this process are left out.
   */
  pending(datasetId?: number): string[] {
    const rows = (
      datasetId === undefined
        ? this.db
            .prepare(
              `SELECT DISTINCT b.hash FROM blobs b JOIN items i ON i.blob_hash = b.hash WHERE b.phash IS NULL
               AND NOT EXISTS (SELECT 1 FROM import_jobs j WHERE j.dataset_id = i.dataset_id AND j.status = 'running') ORDER BY i.id`,
            )
            .pluck()
            .all()
        : this.db.prepare('SELECT DISTINCT b.hash FROM items i JOIN blobs b ON b.hash = i.blob_hash WHERE i.dataset_id = ? AND b.phash IS NULL ORDER BY i.id').pluck().all(datasetId)
    ) as string[];
    return rows.filter((h) => !this.failed.has(h));
  }

  /** Why blob `hash` has no preview in this process (its bytes did not decode), or undefined. */
  failure(hash: string): string | undefined {
    return this.failed.get(hash);
  }

  /**
   * Make blob `hash`'s preview unless it has one: thumbnail file, then phash (and grey when
   * unknown) in its row. Resolves true when the blob has a preview afterwards, false when
   * its bytes do not decode (remembered, see failure()) or this object was disposed.
   * @throws Error when the thumbnail or the row cannot be written (disk full: "disk full while writing <file>").
   */
  ensure(hash: string): Promise<boolean> {
    const running = this.inFlight.get(hash);
    if (running) return running;
    const p = this.make(hash).finally(() => this.inFlight.delete(hash));
    this.inFlight.set(hash, p);
    return p;
  }

  /**
   * Make the previews of `hashes`, `concurrency` at a time, until done or `isCancelled()`.
   * Reports progress at most every `intervalMs`, and once at the end. Returns how many
   * blobs have a preview afterwards.
   * @throws Error as ensure().
   */
  async fill(hashes: readonly string[], opts: { concurrency: number; isCancelled?: () => boolean; onProgress?: PreviewProgress; intervalMs?: number }): Promise<number> {
    const { onProgress, intervalMs = 100 } = opts;
    let done = 0;
    let made = 0;
    let last = 0;
    await mapPool(
      hashes,
      opts.concurrency,
      async (h) => {
        if (await this.ensure(h)) made++;
        done++;
        const t = Date.now();
        if (onProgress && t - last >= intervalMs) {
          last = t;
          onProgress(done, hashes.length);
        }
      },
      () => this.disposed || (opts.isCancelled?.() ?? false),
    );
    onProgress?.(done, hashes.length);
    return made;
  }

  /** Stop: fills end after the previews in flight, ensure() makes no more. Safe to call twice. */
  dispose(): void {
    this.disposed = true;
  }

  /** Resolves when no preview is being made in this process. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  private async make(hash: string): Promise<boolean> {
    if (this.disposed || !this.db.open) return false;
    const row = this.rowStmt.get(hash) as { phash: string | null; width: number; height: number } | undefined;
    if (!row) return false; // no such blob
    if (row.phash !== null) return true; // made already (another process, or at import)
    let preview: Awaited<ReturnType<typeof previewStored>>;
    try {
      preview = await previewStored(await readFile(this.blobs.blobPath(hash)), row);
    } catch (err) {
      this.failed.set(hash, (err as Error).message.split('\n')[0]);
      return false;
    }
    if (preview.thumb) await this.blobs.putThumb(hash, preview.thumb);
    if (!this.db.open) return false;
    this.setStmt.run(preview.phash, preview.grey ? 1 : 0, hash);
    return true;
  }
}
