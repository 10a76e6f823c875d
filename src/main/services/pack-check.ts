/**
 * Checking a cached pack (src/shared/pack.ts) before it is reused: meta.json must parse and
 * agree with the dataset version (count, shape, classes, split counts, version hash); each
 * file must have the size meta.json implies; labels and splits must be the version's,
 * item by item (labels in 0 … numClasses−1); pixels.u8 must match the SHA-256 recorded per
 * block of items when the pack was built. A pack that fails is rebuilt by the caller
 * (./pack.ts); the error names the file and the item.
 */
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PACK_FILES, type PackMeta } from '../../shared/pack';

/** Items per pixel checksum block. */
export const PIXEL_BLOCK_ITEMS = 1024;

/** A damaged or stale cached pack; `message` names the file (and the item, where one is at fault). */
export class PackDamage extends Error {}

/** What the pack should hold: the meta it would be built with, its labels and splits files, and the blob of each item. */
export interface ExpectedPack {
  meta: PackMeta;
  labels: Buffer;
  splits: Buffer;
  hashes: readonly string[];
}

/** SHA-256 hex of each block of `blockItems` items of `itemBytes` bytes in the file `fd` of `count` items. */
export async function pixelBlockHashes(file: string, count: number, itemBytes: number, blockItems = PIXEL_BLOCK_ITEMS): Promise<string[]> {
  const fh = await open(file, 'r');
  try {
    const out: string[] = [];
    const buf = Buffer.alloc(Math.min(count, blockItems) * itemBytes);
    for (let first = 0; first < count; first += blockItems) {
      const n = Math.min(blockItems, count - first) * itemBytes;
      const { bytesRead } = await fh.read(buf, 0, n, first * itemBytes);
      out.push(createHash('sha256').update(buf.subarray(0, bytesRead)).digest('hex'));
    }
    return out;
  } finally {
    await fh.close();
  }
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const short = (hash: string | undefined): string => (hash ? `blob ${hash.slice(0, 12)}…` : 'no blob');

/**
 * Check the pack in `dir` against `expected`. Returns its meta.
 * @throws PackDamage naming the file and the first item at fault.
 */
export async function checkPack(dir: string, expected: ExpectedPack): Promise<PackMeta> {
  const file = (name: string): string => join(dir, name);
  const want = expected.meta;
  let meta: PackMeta;
  try {
    meta = JSON.parse(await readFile(file(PACK_FILES.meta), 'utf8')) as PackMeta;
  } catch (err) {
    throw new PackDamage(`${file(PACK_FILES.meta)}: unreadable (${(err as Error).message})`);
  }
  for (const key of ['version', 'count', 'height', 'width', 'channels', 'numClasses', 'versionHash'] as const) {
    if (meta?.[key] !== want[key]) throw new PackDamage(`${file(PACK_FILES.meta)}: ${key} is ${JSON.stringify(meta?.[key])}, the dataset version has ${JSON.stringify(want[key])}`);
  }
  if (JSON.stringify(meta.classNames) !== JSON.stringify(want.classNames)) throw new PackDamage(`${file(PACK_FILES.meta)}: classNames ${JSON.stringify(meta.classNames)} differ from the version's ${JSON.stringify(want.classNames)}`);
  if (JSON.stringify(meta.counts) !== JSON.stringify(want.counts)) throw new PackDamage(`${file(PACK_FILES.meta)}: counts ${JSON.stringify(meta.counts)} differ from the version's ${JSON.stringify(want.counts)}`);
  const sums = meta.checksums;
  if (!sums || !Array.isArray(sums.pixelBlocks) || !(sums.pixelBlockItems > 0)) throw new PackDamage(`${file(PACK_FILES.meta)}: no checksums (a pack from an older version)`);

  const itemBytes = want.height * want.width * want.channels;
  const pxSize = (await stat(file(PACK_FILES.pixels)).catch(() => null))?.size ?? -1;
  if (pxSize !== want.count * itemBytes) {
    const first = pxSize < 0 ? 0 : Math.floor(pxSize / itemBytes);
    throw new PackDamage(
      pxSize < 0
        ? `${file(PACK_FILES.pixels)}: missing`
        : `${file(PACK_FILES.pixels)}: ${pxSize} bytes, expected ${want.count * itemBytes} (${want.count} items × ${want.height}×${want.width}×${want.channels}); item ${first} (${short(expected.hashes[first])}) is ${pxSize < want.count * itemBytes ? 'cut short' : 'followed by extra bytes'}`,
    );
  }
  for (const [name, buf, bytesPer] of [
    [PACK_FILES.labels, expected.labels, 4],
    [PACK_FILES.splits, expected.splits, 1],
  ] as const) {
    const got = await readFile(file(name)).catch(() => null);
    if (!got) throw new PackDamage(`${file(name)}: missing`);
    if (got.length !== buf.length) throw new PackDamage(`${file(name)}: ${got.length} bytes, expected ${buf.length} (${want.count} items × ${bytesPer})`);
    if (got.equals(buf)) continue;
    for (let i = 0; i < want.count; i++) {
      const a = bytesPer === 4 ? got.readInt32LE(i * 4) : got[i];
      const b = bytesPer === 4 ? buf.readInt32LE(i * 4) : buf[i];
      if (a === b) continue;
      const range = bytesPer === 4 ? `0…${want.numClasses - 1}` : '0…2';
      const max = bytesPer === 4 ? want.numClasses - 1 : 2;
      const what = a < 0 || a > max ? `outside ${range}` : `the version says ${b}`;
      throw new PackDamage(`${file(name)}: item ${i} (${short(expected.hashes[i])}) has ${bytesPer === 4 ? 'label' : 'split code'} ${a}, ${what}`);
    }
  }
  if (sums.labels !== sha256(expected.labels) || sums.splits !== sha256(expected.splits)) throw new PackDamage(`${file(PACK_FILES.meta)}: label/split checksums do not match the files`);
  const blocks = await pixelBlockHashes(file(PACK_FILES.pixels), want.count, itemBytes, sums.pixelBlockItems);
  if (blocks.length !== sums.pixelBlocks.length) throw new PackDamage(`${file(PACK_FILES.meta)}: ${sums.pixelBlocks.length} pixel checksums, expected ${blocks.length}`);
  const bad = blocks.findIndex((h, i) => h !== sums.pixelBlocks[i]);
  if (bad >= 0) {
    const first = bad * sums.pixelBlockItems;
    const last = Math.min(want.count, first + sums.pixelBlockItems) - 1;
    throw new PackDamage(`${file(PACK_FILES.pixels)}: items ${first}…${last} (from ${short(expected.hashes[first])}) do not match their checksum in meta.json (changed after packing)`);
  }
  return meta;
}

/** The checksums to record in meta.json for a pack whose files are written in `dir`. */
export async function packChecksums(dir: string, meta: PackMeta, labels: Buffer, splits: Buffer): Promise<NonNullable<PackMeta['checksums']>> {
  const pixelBlocks = await pixelBlockHashes(join(dir, PACK_FILES.pixels), meta.count, meta.height * meta.width * meta.channels);
  return { labels: sha256(labels), splits: sha256(splits), pixelBlockItems: PIXEL_BLOCK_ITEMS, pixelBlocks };
}
