/**
 * The one path by which an image becomes an item of a dataset, used by import jobs
 * (./job.ts) and uploads (services/labels/upload.ts) alike, and classes.add:
 * 1. `storeImage` (outside any transaction): the image's stored bytes (the source file or
 *    its canonical PNG, images/image.ts) and its thumbnail into the blob store (a photo
 *    imported with a deferred preview gets thumbnail and dHash later, ./previews.ts);
 * 2. `Ingest.addItem` (inside the caller's transaction): the blob row, the item row (no
 *    split yet: the caller assigns new items by the dataset's rule), and for a labelled
 *    item its 'import' label event;
 * 3. `Ingest.classId` / `Ingest.addClass`: a class by name, got or created at the end of
 *    the class order (the one place a class row is inserted).
 * Statements are prepared once per database and reused.
 */
import type { Split } from '../../shared/api';
import type { BlobStore } from '../blobs';
import type { Db } from '../db/db';
import type { NormalizedImage } from '../images/image';

/** An image whose blob is stored: what its blob row records. */
export interface StoredImage {
  /** SHA-256 hex of the stored bytes. */
  hash: string;
  /** Stored size, bytes. */
  size: number;
  /** Stored format: 'jpeg' | 'png' | 'webp'. */
  format: string;
  /** Size as shown (after EXIF orientation), pixels. */
  width: number;
  height: number;
  channels: number;
  /** R = G = B everywhere (or 1 channel). */
  grey: boolean;
  /** 64-bit dHash as 16 hex digits, or null when it is still to be made (./previews.ts) or could not be computed. */
  phash: string | null;
  /** True when the thumbnail and dHash are still to be made from the stored bytes (./previews.ts). */
  previewPending: boolean;
}

/** One item to add. */
export interface NewItem {
  image: StoredImage;
  /** Name shown for the item (file name, `<file>#<index>`). */
  name: string;
  /** Class id, or null for an unlabelled item. */
  classId: number | null;
  /** Split as the source gives it (kept as `given_split`), or null. */
  givenSplit: Split | null;
}

/**
 * Put an image's stored bytes (and its thumbnail, when it has one) into the blob store.
 * @throws Error when the blob store cannot write.
 */
export async function storeImage(blobs: BlobStore, image: NormalizedImage): Promise<StoredImage> {
  const { hash } = await blobs.put(image.bytes);
  if (image.thumb) await blobs.putThumb(hash, image.thumb);
  return { hash, size: image.bytes.length, format: image.format, width: image.width, height: image.height, channels: image.channels, grey: image.grey, phash: image.phash, previewPending: image.previewPending };
}

function prepare(db: Db) {
  return {
    insertBlob: db.prepare(
      'INSERT INTO blobs (hash, size, width, height, channels, format, phash, grey) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hash) DO UPDATE SET phash = COALESCE(blobs.phash, excluded.phash), grey = COALESCE(blobs.grey, excluded.grey)',
    ),
    insertItem: db.prepare('INSERT OR IGNORE INTO items (dataset_id, blob_hash, original_name, class_id, split, given_split, excluded, created_at) VALUES (?, ?, ?, ?, NULL, ?, 0, ?)'),
    existing: db.prepare('SELECT i.id, i.class_id AS classId, c.name AS className FROM items i LEFT JOIN classes c ON c.id = i.class_id WHERE i.dataset_id = ? AND i.blob_hash = ?'),
    insertLabel: db.prepare("INSERT INTO label_events (item_id, old_class_id, new_class_id, time, source) VALUES (?, NULL, ?, ?, 'import')"),
    liveClasses: db.prepare('SELECT id, name FROM classes WHERE dataset_id = ? AND deleted_at IS NULL'),
    nextIdx: db.prepare('SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM classes WHERE dataset_id = ? AND deleted_at IS NULL'),
    insertClass: db.prepare('INSERT INTO classes (dataset_id, idx, name, color) VALUES (?, ?, ?, ?)'),
  };
}

const prepared = new WeakMap<Db, ReturnType<typeof prepare>>();

/** Writes items and classes into one dataset. Cheap to create; call its methods inside a transaction. */
export class Ingest {
  private readonly stmt: ReturnType<typeof prepare>;
  /** Live class ids by name, loaded on first use. */
  private classIds: Map<string, number> | null = null;

  constructor(
    db: Db,
    readonly datasetId: number,
  ) {
    let s = prepared.get(db);
    if (!s) prepared.set(db, (s = prepare(db)));
    this.stmt = s;
  }

  /** The id of the dataset's live class `name`, created at the end of the class order when there is none. */
  classId(name: string): number {
    const ids = this.liveClassIds();
    return ids.get(name) ?? this.addClass(name, null);
  }

  /**
   * Insert a class at the end of the class order (idx = number of live classes, which are
   * dense 0 … n−1). The caller checks that the name is free. Returns its id.
   */
  addClass(name: string, color: string | null): number {
    const idx = (this.stmt.nextIdx.get(this.datasetId) as { n: number }).n;
    const id = Number(this.stmt.insertClass.run(this.datasetId, idx, name, color).lastInsertRowid);
    this.classIds?.set(name, id);
    return id;
  }

  /**
   * Record a stored image as an item of the dataset at `time` (ms): its blob row (a known
   * blob keeps its row, gaining a dHash it lacked), the item row without a split, and an
   * 'import' label event when it has a class. Returns false (and writes no item) when the
   * dataset already holds that image.
   */
  addItem(item: NewItem, time: number): boolean {
    return this.add(item, time) !== null;
  }

  /** As addItem, returning the new item's id, or null when the dataset already holds that image. */
  add(item: NewItem, time: number): number | null {
    const { image } = item;
    this.stmt.insertBlob.run(image.hash, image.size, image.width, image.height, image.channels, image.format, image.phash, image.grey ? 1 : 0);
    const r = this.stmt.insertItem.run(this.datasetId, image.hash, item.name, item.classId, item.givenSplit, time);
    if (r.changes !== 1) return null;
    if (item.classId !== null) this.stmt.insertLabel.run(r.lastInsertRowid, item.classId, time);
    return Number(r.lastInsertRowid);
  }

  /** The dataset's item holding blob `hash`, with its class (null: unlabelled), or undefined. */
  existing(hash: string): { id: number; classId: number | null; className: string | null } | undefined {
    return this.stmt.existing.get(this.datasetId, hash) as { id: number; classId: number | null; className: string | null } | undefined;
  }

  private liveClassIds(): Map<string, number> {
    if (!this.classIds) {
      const rows = this.stmt.liveClasses.all(this.datasetId) as { id: number; name: string }[];
      this.classIds = new Map(rows.map((r) => [r.name, r.id]));
    }
    return this.classIds;
  }
}
