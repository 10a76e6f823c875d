/**
 * Reads a packed dataset folder (src/shared/pack.ts) into memory.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACK_FILES, SPLIT_CODE, type PackMeta } from '../shared/pack';

export interface LoadedPack {
  meta: PackMeta;
  /** count·h·w·c uint8, NHWC, item order. */
  pixels: Uint8Array;
  /** count int32 class indices. */
  labels: Int32Array;
  /** Item indices of each split, ascending. */
  indices: { train: Int32Array; val: Int32Array; test: Int32Array };
}

/**
 * Load and check a pack folder.
 * @throws Error naming the file when a file is missing, its size disagrees with meta.json,
 *   or a label is outside 0 … numClasses−1.
 */
export function readPack(dir: string): LoadedPack {
  const read = (name: string): Buffer => {
    try {
      return readFileSync(join(dir, name));
    } catch (e) {
      throw new Error(`pack ${dir}: cannot read ${name}: ${(e as Error).message}`);
    }
  };
  const meta = JSON.parse(read(PACK_FILES.meta).toString('utf8')) as PackMeta;
  if (meta.version !== 1) throw new Error(`pack ${dir}: ${PACK_FILES.meta}: unsupported version ${String(meta.version)}`);
  const itemBytes = meta.height * meta.width * meta.channels;
  const px = read(PACK_FILES.pixels);
  if (px.length !== meta.count * itemBytes) throw new Error(`pack ${dir}: ${PACK_FILES.pixels} has ${px.length} bytes, expected ${meta.count}×${itemBytes}`);
  const lb = read(PACK_FILES.labels);
  if (lb.length !== meta.count * 4) throw new Error(`pack ${dir}: ${PACK_FILES.labels} has ${lb.length} bytes, expected ${meta.count}×4`);
  const sp = read(PACK_FILES.splits);
  if (sp.length !== meta.count) throw new Error(`pack ${dir}: ${PACK_FILES.splits} has ${sp.length} bytes, expected ${meta.count}`);

  const pixels = new Uint8Array(px.buffer, px.byteOffset, px.length);
  // Copy the labels: a Buffer's offset need not be 4-aligned. Little-endian per pack.ts.
  const labels = new Int32Array(meta.count);
  for (let i = 0; i < meta.count; i++) {
    const y = lb.readInt32LE(i * 4);
    if (y < 0 || y >= meta.numClasses) throw new Error(`pack ${dir}: ${PACK_FILES.labels}[${i}] = ${y} is outside 0…${meta.numClasses - 1}`);
    labels[i] = y;
  }
  const lists: Record<'train' | 'val' | 'test', number[]> = { train: [], val: [], test: [] };
  for (let i = 0; i < meta.count; i++) {
    const s = sp[i];
    if (s === SPLIT_CODE.train) lists.train.push(i);
    else if (s === SPLIT_CODE.val) lists.val.push(i);
    else if (s === SPLIT_CODE.test) lists.test.push(i);
    else throw new Error(`pack ${dir}: ${PACK_FILES.splits}[${i}] = ${s} is not 0, 1 or 2`);
  }
  return {
    meta,
    pixels,
    labels,
    indices: { train: Int32Array.from(lists.train), val: Int32Array.from(lists.val), test: Int32Array.from(lists.test) },
  };
}
