/**
 * Importer for MNIST-style IDX files (MNIST, Fashion-MNIST, and the like), gzipped or
 * not: a folder holding `<prefix>-images-idx3-ubyte[.gz]` with its
 * `<prefix>-labels-idx1-ubyte[.gz]` (or either file itself). `train*` files become the
 * train split, `t10k*` / `test*` the test split. Class names are Fashion-MNIST's when the
 * path says "fashion", else the label numbers ('0' … '9').
 */
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { Split } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import { normalizeRaw } from '../images/image';
import type { ImportEntry, ImportSource, Importer } from './types';

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

const IMAGES_RE = /^(.*?)[-_.]images[-_.]idx3[-_.]ubyte(\.gz)?$/i;
const LABELS_RE = /^(.*?)[-_.]labels[-_.]idx1[-_.]ubyte(\.gz)?$/i;

function splitOf(prefix: string): Split | null {
  const p = prefix.toLowerCase();
  if (p.startsWith('train')) return 'train';
  if (p.startsWith('t10k') || p.startsWith('test')) return 'test';
  if (p.startsWith('val')) return 'val';
  return null;
}

/** Bytes an IDX file says it holds (header + data), from its first 16 bytes; null when the magic is not an IDX one. */
function idxLength(head: Buffer): number | null {
  if (head.length >= 16 && head.readUInt32BE(0) === 0x00000803) return 16 + head.readUInt32BE(4) * head.readUInt32BE(8) * head.readUInt32BE(12);
  if (head.length >= 8 && head.readUInt32BE(0) === 0x00000801) return 8 + head.readUInt32BE(4);
  return null;
}

/** Largest IDX payload read, bytes (a header claiming more is malformed). */
const MAX_IDX_BYTES = 2 ** 31 - 1;

/**
 * The (gunzipped) bytes of an IDX file. A gzipped file is inflated as a stream into one
 * buffer of the size its header states, so memory holds the pixels once (no compressed
 * copy, no chunk list to concatenate).
 * @throws ApiError (field path) naming the file when it is not valid gzip.
 */
async function readIdx(file: string): Promise<Buffer> {
  const magic = Buffer.alloc(2);
  try {
    const fh = await open(file, 'r');
    try {
      await fh.read(magic, 0, 2, 0);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new ApiError('invalid_params', `path: ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'path');
  }
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) return readFile(file);
  let out: Buffer | null = null;
  let head = Buffer.alloc(0);
  let at = 0;
  const parts: Buffer[] = [];
  try {
    for await (const chunk of createReadStream(file).pipe(createGunzip()) as AsyncIterable<Buffer>) {
      if (out === null) {
        head = Buffer.concat([head, chunk]);
        const n = head.length >= 16 ? idxLength(head) : null;
        if (n === null && head.length < 16) continue;
        if (n === null || n > MAX_IDX_BYTES) {
          parts.push(head); // not IDX (or absurd): keep the bytes for the parser's message
          out = Buffer.alloc(0);
          continue;
        }
        out = Buffer.alloc(n);
        at = head.copy(out, 0, 0, Math.min(head.length, n));
        continue;
      }
      if (out.length === 0) {
        if (parts.reduce((a, b) => a + b.length, 0) < 64) parts.push(chunk);
        continue;
      }
      at += chunk.copy(out, at, 0, Math.min(chunk.length, out.length - at));
    }
  } catch (err) {
    throw new ApiError('invalid_params', `path: ${file} is not a valid gzip file (${(err as Error).message})`, 'path');
  }
  if (out === null) return head;
  if (out.length === 0) return Buffer.concat(parts);
  // a short file: the parser reports it truncated from the length
  return at < out.length ? out.subarray(0, at) : out;
}

/** Parse an IDX image file (magic 0x00000803): count × rows × cols uint8. @throws Error naming the file when malformed. */
export function parseIdxImages(b: Buffer, file: string): { count: number; rows: number; cols: number; pixels: Buffer } {
  if (b.length < 16 || b.readUInt32BE(0) !== 0x00000803) throw new ApiError('invalid_params', `path: ${file} is not an IDX image file (magic ${b.length >= 4 ? `0x${b.readUInt32BE(0).toString(16)}` : 'missing'}, expected 0x803)`, 'path');
  const count = b.readUInt32BE(4), rows = b.readUInt32BE(8), cols = b.readUInt32BE(12);
  if (rows === 0 || cols === 0 || rows > 4096 || cols > 4096) throw new ApiError('invalid_params', `path: ${file} has an implausible image size ${rows}×${cols}`, 'path');
  if (b.length < 16 + count * rows * cols) throw new ApiError('invalid_params', `path: ${file} is truncated (${count} images of ${rows}×${cols} need ${16 + count * rows * cols} bytes, it has ${b.length})`, 'path');
  return { count, rows, cols, pixels: b.subarray(16, 16 + count * rows * cols) };
}

/** Parse an IDX label file (magic 0x00000801): count uint8 labels. @throws Error naming the file when malformed. */
export function parseIdxLabels(b: Buffer, file: string): Buffer {
  if (b.length < 8 || b.readUInt32BE(0) !== 0x00000801) throw new ApiError('invalid_params', `path: ${file} is not an IDX label file (expected magic 0x801)`, 'path');
  const count = b.readUInt32BE(4);
  if (b.length < 8 + count) throw new ApiError('invalid_params', `path: ${file} is truncated (${count} labels need ${8 + count} bytes, it has ${b.length})`, 'path');
  return b.subarray(8, 8 + count);
}

interface Pair {
  prefix: string;
  images: string;
  labels: string | null;
}

async function findPairs(path: string): Promise<Pair[]> {
  const st = await stat(path).catch(() => null);
  if (!st) return [];
  const dir = st.isDirectory() ? path : dirname(path);
  const names = await readdir(dir).catch(() => [] as string[]);
  const labels = new Map<string, string>();
  for (const n of names) {
    const m = LABELS_RE.exec(n);
    if (m) labels.set(m[1].toLowerCase(), join(dir, n));
  }
  const pairs: Pair[] = [];
  for (const n of names.sort()) {
    const m = IMAGES_RE.exec(n);
    if (!m) continue;
    const images = join(dir, n);
    const lab = labels.get(m[1].toLowerCase()) ?? null;
    if (!st.isDirectory() && path !== images && path !== lab) continue;
    pairs.push({ prefix: m[1], images, labels: lab });
  }
  // train before test, like the files' usual listing
  return pairs.sort((a, b) => (splitOf(a.prefix) === 'train' ? 0 : 1) - (splitOf(b.prefix) === 'train' ? 0 : 1) || (a.prefix < b.prefix ? -1 : 1));
}

/** One parsed IDX image file, shared by its entries. */
interface IdxFile {
  path: string;
  name: string;
  images: ReturnType<typeof parseIdxImages>;
  split: Split | null;
}

/**
 * One image of an IDX file: a file reference and an index (no per-image strings, views or
 * closures until asked for), so that 70,000 entries cost little memory.
 */
class IdxEntry implements ImportEntry {
  constructor(
    private readonly file: IdxFile,
    private readonly index: number,
    readonly className: string | null,
  ) {}

  get path(): string {
    return `${this.file.path}#${this.index}`;
  }

  get name(): string {
    return `${this.file.name}#${this.index}`;
  }

  get split(): Split | null {
    return this.file.split;
  }

  load(): ReturnType<ImportEntry['load']> {
    const { rows, cols, pixels } = this.file.images;
    const size = rows * cols;
    return normalizeRaw({ data: Buffer.from(pixels.subarray(this.index * size, (this.index + 1) * size)), width: cols, height: rows, channels: 1 }, 'IDX');
  }
}

export const idxImporter: Importer = {
  id: 'idx',
  description: 'MNIST-style IDX files (<prefix>-images-idx3-ubyte[.gz] + <prefix>-labels-idx1-ubyte[.gz])',

  async accepts(path: string): Promise<boolean> {
    return (await findPairs(path)).length > 0;
  },

  async open(path: string): Promise<ImportSource> {
    const pairs = await findPairs(path);
    if (pairs.length === 0) throw new ApiError('invalid_params', `path: ${path} holds no *-images-idx3-ubyte file`, 'path');
    const fashion = /fashion/i.test(path);
    const entries: ImportEntry[] = [];
    let maxLabel = -1;
    const parsed: { pair: Pair; images: ReturnType<typeof parseIdxImages>; labels: Buffer | null }[] = [];
    for (const pair of pairs) {
      const images = parseIdxImages(await readIdx(pair.images), pair.images);
      let labels: Buffer | null = null;
      if (pair.labels) {
        labels = parseIdxLabels(await readIdx(pair.labels), pair.labels);
        if (labels.length !== images.count) throw new ApiError('invalid_params', `path: ${pair.labels} has ${labels.length} labels for ${images.count} images in ${basename(pair.images)}`, 'path');
        for (const l of labels) if (l > maxLabel) maxLabel = l;
      }
      parsed.push({ pair, images, labels });
    }
    const classNames = fashion && maxLabel <= 9 ? FASHION_MNIST_CLASSES.slice() : Array.from({ length: Math.max(maxLabel + 1, maxLabel >= 0 && maxLabel <= 9 ? 10 : 0) }, (_, i) => String(i));
    let hasSplits = false;
    for (const { pair, images, labels } of parsed) {
      const split = splitOf(pair.prefix);
      if (split) hasSplits = true;
      const file: IdxFile = { path: pair.images, name: basename(pair.images), images, split };
      for (let i = 0; i < images.count; i++) entries.push(new IdxEntry(file, i, labels ? classNames[labels[i]] : null));
    }
    return { format: 'idx', classNames, hasSplits, entries, skipped: [] };
  },
};
