/**
 * Benchmark inputs built from the real data: an N-photo JPEG folder from the hymenoptera
 * photos, and a small IDX set cut from Fashion-MNIST (or MNIST), both in temporary folders.
 */
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';

/** What a build wrote: file count and total bytes (the source bytes of the import). */
export interface BuiltSet {
  files: number;
  bytes: number;
  seconds: number;
}

/** `fn` over `items`, `limit` at a time; results in input order. */
async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

/** Every `.jpg`/`.jpeg` under `root`, as paths relative to it, sorted (the GIF placeholder is left out). */
async function listJpegs(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of (await readdir(join(root, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...(await listJpegs(root, r)));
    else if (/\.jpe?g$/i.test(d.name)) out.push(r);
  }
  return out;
}

/**
 * Write `n` distinct JPEG photos into `dest`, keeping the source's folder layout
 * (`train|val/<class>/`): copy 0 of each source photo is the file itself, byte for byte;
 * copy k ≥ 1 is that photo with one 16×16 block (its position and its solid colour depend
 * on k; a lightening overlay was a no-op on white backgrounds and gave duplicates), re-encoded by libjpeg (sharp, quality 95, 4:4:4 chroma like the
 * originals, so a copy is about as large as its original: 0.94× measured; metadata such as
 * the EXIF orientation kept). No two outputs share bytes or pixels, so none is a duplicate.
 * @param src the hymenoptera folder (`train/{ants,bees}`, `val/{ants,bees}`)
 * @param maxSources use only the first this many source photos (more copies of each)
 * @throws Error naming `src` when it holds no JPEG, or the photo sharp cannot read.
 */
export async function buildPhotoSet(src: string, dest: string, n: number, maxSources = Infinity): Promise<BuiltSet> {
  const t0 = performance.now();
  const photos = (await listJpegs(src)).slice(0, maxSources);
  if (photos.length === 0) throw new Error(`${src}: no .jpg/.jpeg photos to build the benchmark set from`);
  const jobs = Array.from({ length: n }, (_, i) => ({ rel: photos[i % photos.length], copy: Math.floor(i / photos.length) }));
  const sizes = await inParallel(jobs, 4, async ({ rel, copy }) => {
    const from = join(src, rel);
    const to = join(dest, copy === 0 ? rel : rel.replace(/(\.jpe?g)$/i, `-copy${copy}$1`));
    await mkdir(join(to, '..'), { recursive: true });
    if (copy === 0) {
      await copyFile(from, to);
    } else {
      const img = sharp(from);
      const { width = 0, height = 0 } = await img.metadata();
      if (width < 32 || height < 32) throw new Error(`${from}: ${width}×${height} is too small to mark`);
      const left = (copy * 37) % (width - 16);
      const top = (copy * 53) % (height - 16);
      const background = { r: (copy * 73) % 256, g: (copy * 151 + 64) % 256, b: (copy * 199 + 128) % 256 };
      const block = await sharp({ create: { width: 16, height: 16, channels: 3, background } }).png().toBuffer();
      await writeFile(to, await img.composite([{ input: block, left, top }]).keepMetadata().jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer());
    }
    return (await stat(to)).size;
  });
  return { files: n, bytes: sizes.reduce((a, b) => a + b, 0), seconds: (performance.now() - t0) / 1000 };
}

async function readMaybeGz(file: string): Promise<Buffer> {
  const b = await readFile(file);
  return b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b;
}

/**
 * Write the first `train` and `test` images (with their labels) of the IDX set in `src`
 * (`train-*` and `t10k-*` files, gzipped or not) as uncompressed IDX files in `dest`; a
 * count of 0 writes no files for that split.
 * @throws Error naming the file that is missing or shorter than asked.
 */
export async function buildIdxSubset(src: string, dest: string, train: number, test: number): Promise<BuiltSet> {
  const t0 = performance.now();
  await mkdir(dest, { recursive: true });
  let bytes = 0;
  const names = await readdir(src);
  for (const [prefix, count] of [['train', train], ['t10k', test]] as const) {
    if (count === 0) continue;
    for (const kind of ['images-idx3-ubyte', 'labels-idx1-ubyte']) {
      const name = names.find((f) => f === `${prefix}-${kind}` || f === `${prefix}-${kind}.gz`);
      if (!name) throw new Error(`${join(src, `${prefix}-${kind}[.gz]`)}: missing`);
      const b = await readMaybeGz(join(src, name));
      const header = kind.startsWith('images') ? 16 : 8;
      const per = kind.startsWith('images') ? b.readUInt32BE(8) * b.readUInt32BE(12) : 1;
      if (b.readUInt32BE(4) < count) throw new Error(`${join(src, name)}: has ${b.readUInt32BE(4)} entries, ${count} asked`);
      const out = Buffer.from(b.subarray(0, header + count * per));
      out.writeUInt32BE(count, 4);
      await writeFile(join(dest, `${prefix}-${kind}`), out);
      bytes += out.length;
    }
  }
  return { files: 4, bytes, seconds: (performance.now() - t0) / 1000 };
}
