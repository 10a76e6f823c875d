/**
 * Test helpers: write pack folders (src/shared/pack.ts format) from synthetic data or
 * from gzipped IDX files (LeCun's MNIST format, also used by Fashion-MNIST).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PACK_FILES, SPLIT_CODE, type PackMeta } from '../../../src/shared/pack';
import { Rng } from '../../../src/engine/random';

export interface PackData {
  height: number;
  width: number;
  channels: 1 | 3;
  numClasses: number;
  pixels: Uint8Array;
  labels: Int32Array;
  /** 0 train, 1 val, 2 test per item. */
  splits: Uint8Array;
}

/** Write a pack folder; returns `dir`. */
export function writePack(dir: string, d: PackData): string {
  mkdirSync(dir, { recursive: true });
  const count = d.labels.length;
  const counts = { train: 0, val: 0, test: 0 };
  for (const s of d.splits) {
    if (s === SPLIT_CODE.train) counts.train++;
    else if (s === SPLIT_CODE.val) counts.val++;
    else counts.test++;
  }
  const meta: PackMeta = {
    version: 1,
    count,
    height: d.height,
    width: d.width,
    channels: d.channels,
    numClasses: d.numClasses,
    classNames: Array.from({ length: d.numClasses }, (_, i) => `class${i}`),
    counts,
    versionHash: 'test',
  };
  writeFileSync(join(dir, PACK_FILES.meta), JSON.stringify(meta));
  writeFileSync(join(dir, PACK_FILES.pixels), d.pixels);
  const lb = Buffer.alloc(count * 4);
  d.labels.forEach((y, i) => lb.writeInt32LE(y, i * 4));
  writeFileSync(join(dir, PACK_FILES.labels), lb);
  writeFileSync(join(dir, PACK_FILES.splits), d.splits);
  return dir;
}

/**
 * A small learnable synthetic pack: class k is a bright 6×6 square at a class-specific
 * position on a noisy background. Splits: 70 % train, 15 % val, 15 % test.
 */
export function writeSyntheticPack(dir: string, opts: { count?: number; size?: number; numClasses?: number; seed?: number; testSplit?: boolean } = {}): string {
  const count = opts.count ?? 240;
  const size = opts.size ?? 28;
  const k = opts.numClasses ?? 10;
  const rng = new Rng(opts.seed ?? 7);
  const pixels = new Uint8Array(count * size * size);
  const labels = new Int32Array(count);
  const splits = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const y = i % k;
    labels[i] = y;
    const r = i / count;
    splits[i] = r < 0.7 ? 0 : r < 0.85 || opts.testSplit === false ? 1 : 2;
    const cy = 2 + ((y * 7) % (size - 8));
    const cx = 2 + ((y * 11) % (size - 8));
    for (let p = 0; p < size * size; p++) pixels[i * size * size + p] = rng.int(60);
    for (let yy = 0; yy < 6; yy++) for (let xx = 0; xx < 6; xx++) pixels[i * size * size + (cy + yy) * size + cx + xx] = 200 + rng.int(56);
  }
  return writePack(dir, { height: size, width: size, channels: 1, numClasses: k, pixels, labels, splits });
}

/** Parse a gzipped IDX file (magic 0x0000 08 nd, big-endian dims, uint8 data). */
export function readIdxGz(path: string): { dims: number[]; data: Uint8Array } {
  const buf = gunzipSync(readFileSync(path));
  const magic = buf.readUInt32BE(0);
  if (magic >> 8 !== 0x08) throw new Error(`${path}: not an unsigned-byte IDX file (magic ${magic.toString(16)})`);
  const nd = magic & 0xff;
  const dims = Array.from({ length: nd }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  const off = 4 + 4 * nd;
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + off, buf.length - off) };
}

/**
 * Pack Fashion-MNIST (or MNIST) from `dir` holding {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz:
 * train items, the last `valFraction` of a seeded shuffle of them as val, t10k as test.
 */
export function writeIdxPack(idxDir: string, outDir: string, valFraction = 0.1, seed = 1): string {
  const trX = readIdxGz(join(idxDir, 'train-images-idx3-ubyte.gz'));
  const trY = readIdxGz(join(idxDir, 'train-labels-idx1-ubyte.gz'));
  const teX = readIdxGz(join(idxDir, 't10k-images-idx3-ubyte.gz'));
  const teY = readIdxGz(join(idxDir, 't10k-labels-idx1-ubyte.gz'));
  const [nTr, h, w] = trX.dims;
  const nTe = teX.dims[0];
  const count = nTr + nTe;
  const pixels = new Uint8Array(count * h * w);
  pixels.set(trX.data, 0);
  pixels.set(teX.data, nTr * h * w);
  const labels = new Int32Array(count);
  for (let i = 0; i < nTr; i++) labels[i] = trY.data[i];
  for (let i = 0; i < nTe; i++) labels[nTr + i] = teY.data[i];
  const splits = new Uint8Array(count).fill(SPLIT_CODE.test, nTr);
  const order = new Rng(seed).shuffle(Int32Array.from({ length: nTr }, (_, i) => i));
  const nVal = Math.round(nTr * valFraction);
  for (let i = 0; i < nVal; i++) splits[order[i]] = SPLIT_CODE.val;
  return writePack(outDir, { height: h, width: w, channels: 1, numClasses: 10, pixels, labels, splits });
}
