/**
 * Importer for MNIST-style IDX files (MNIST, Fashion-MNIST, and the like), gzipped or
 * not: a folder holding `<prefix>-images-idx3-ubyte[.gz]` with its
 * `<prefix>-labels-idx1-ubyte[.gz]` (or either file itself). `train*` files become the
 * train split, `t10k*` / `test*` the test split. Class names are Fashion-MNIST's when the
 * path says "fashion", else the label numbers ('0' … '9').
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Split } from '../../shared/api';
import { normalizeRaw } from './image';
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

async function readIdx(file: string): Promise<Buffer> {
  let b = await readFile(file);
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    try {
      b = gunzipSync(b);
    } catch (err) {
      throw new Error(`path: ${file} is not a valid gzip file (${(err as Error).message})`);
    }
  }
  return b;
}

/** Parse an IDX image file (magic 0x00000803): count × rows × cols uint8. @throws Error naming the file when malformed. */
export function parseIdxImages(b: Buffer, file: string): { count: number; rows: number; cols: number; pixels: Buffer } {
  if (b.length < 16 || b.readUInt32BE(0) !== 0x00000803) throw new Error(`path: ${file} is not an IDX image file (magic ${b.length >= 4 ? `0x${b.readUInt32BE(0).toString(16)}` : 'missing'}, expected 0x803)`);
  const count = b.readUInt32BE(4), rows = b.readUInt32BE(8), cols = b.readUInt32BE(12);
  if (rows === 0 || cols === 0 || rows > 4096 || cols > 4096) throw new Error(`path: ${file} has an implausible image size ${rows}×${cols}`);
  if (b.length < 16 + count * rows * cols) throw new Error(`path: ${file} is truncated (${count} images of ${rows}×${cols} need ${16 + count * rows * cols} bytes, it has ${b.length})`);
  return { count, rows, cols, pixels: b.subarray(16, 16 + count * rows * cols) };
}

/** Parse an IDX label file (magic 0x00000801): count uint8 labels. @throws Error naming the file when malformed. */
export function parseIdxLabels(b: Buffer, file: string): Buffer {
  if (b.length < 8 || b.readUInt32BE(0) !== 0x00000801) throw new Error(`path: ${file} is not an IDX label file (expected magic 0x801)`);
  const count = b.readUInt32BE(4);
  if (b.length < 8 + count) throw new Error(`path: ${file} is truncated (${count} labels need ${8 + count} bytes, it has ${b.length})`);
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

export const idxImporter: Importer = {
  id: 'idx',
  description: 'MNIST-style IDX files (<prefix>-images-idx3-ubyte[.gz] + <prefix>-labels-idx1-ubyte[.gz])',

  async accepts(path: string): Promise<boolean> {
    return (await findPairs(path)).length > 0;
  },

  async open(path: string): Promise<ImportSource> {
    const pairs = await findPairs(path);
    if (pairs.length === 0) throw new Error(`path: ${path} holds no *-images-idx3-ubyte file`);
    const fashion = /fashion/i.test(path);
    const entries: ImportEntry[] = [];
    let maxLabel = -1;
    const parsed: { pair: Pair; images: ReturnType<typeof parseIdxImages>; labels: Buffer | null }[] = [];
    for (const pair of pairs) {
      const images = parseIdxImages(await readIdx(pair.images), pair.images);
      let labels: Buffer | null = null;
      if (pair.labels) {
        labels = parseIdxLabels(await readIdx(pair.labels), pair.labels);
        if (labels.length !== images.count) throw new Error(`path: ${pair.labels} has ${labels.length} labels for ${images.count} images in ${basename(pair.images)}`);
        for (const l of labels) if (l > maxLabel) maxLabel = l;
      }
      parsed.push({ pair, images, labels });
    }
    const classNames = fashion && maxLabel <= 9 ? FASHION_MNIST_CLASSES.slice() : Array.from({ length: Math.max(maxLabel + 1, maxLabel >= 0 && maxLabel <= 9 ? 10 : 0) }, (_, i) => String(i));
    let hasSplits = false;
    for (const { pair, images, labels } of parsed) {
      const split = splitOf(pair.prefix);
      if (split) hasSplits = true;
      const size = images.rows * images.cols;
      const file = basename(pair.images);
      for (let i = 0; i < images.count; i++) {
        const className = labels ? classNames[labels[i]] : null;
        const data = images.pixels.subarray(i * size, (i + 1) * size);
        entries.push({
          path: `${pair.images}#${i}`,
          name: `${file}#${i}`,
          className,
          split,
          load: () => normalizeRaw({ data: Buffer.from(data), width: images.cols, height: images.rows, channels: 1 }),
        });
      }
    }
    return { format: 'idx', classNames, hasSplits, entries, skipped: [] };
  },
};
