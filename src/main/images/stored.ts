/**
 * What a stored blob looks like once decoded, the one definition shared by the import
 * (thumbnail, dHash, grey flag), the pack step and near-duplicate search.
 *
 * A blob is either the source file itself (JPEG, PNG or WebP that browsers display and
 * sharp decodes: no alpha, 8 bits, not CMYK, one frame) or the canonical PNG that
 * ./image.ts makes of anything else. Decoding a blob means: EXIF orientation applied
 * (browsers apply it to JPEGs in `<img>` too, so the served image and the pack agree), the
 * embedded ICC profile converted to sRGB (sharp's default), 1 channel for a 1-channel
 * file, else 3 (sRGB) — exactly the pixels the canonical PNG of the same file would hold.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { THUMB_SIZE } from '../blobs';
import type { RawImage } from './bmp';
import { dhashRaw } from './phash';
import { decodeSimplePng, hasIccProfile } from './png';

/** Formats a blob is stored in. */
export type StoredFormat = 'jpeg' | 'png' | 'webp';

/** Largest decoded blob, pixels (as the importer's limit). */
const LIMIT_PIXELS = 100_000_000;

/**
 * Decode a stored blob into its pixels (see the file comment): 1 or 3 interleaved 8-bit
 * channels, rows top down, after EXIF orientation. The app's own PNGs take a fast path in JS.
 * @throws Error when the bytes are not a decodable image.
 */
export async function decodeStored(bytes: Buffer): Promise<RawImage> {
  // A PNG with an ICC profile goes through sharp, which converts it to sRGB as the import always did.
  const simple = hasIccProfile(bytes) ? null : decodeSimplePng(bytes);
  if (simple) return simple;
  const meta = await sharp(bytes, { limitInputPixels: LIMIT_PIXELS }).metadata();
  const grey = meta.channels === 1 || meta.space === 'b-w';
  const { data, info } = await sharp(bytes, { limitInputPixels: LIMIT_PIXELS, failOn: 'error', pages: 1 })
    .rotate()
    .toColourspace(grey ? 'b-w' : 'srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as 1 | 3 };
}

/** What the import derives from one decode at thumbnail size. */
export interface Preview {
  /** Thumbnail PNG (at most THUMB_SIZE px on the long side, oriented), or null when the image is that small already. */
  thumb: Buffer | null;
  /** 64-bit dHash (./phash.ts) of the thumbnail-size pixels, 16 hex digits. */
  phash: string;
  /** True when the pixels are grey: 1 channel, or R = G = B at every pixel of the thumbnail-size decode. */
  grey: boolean;
}

/** True when every pixel of interleaved `channels`-channel `data` has R = G = B (always for 1 channel). */
export function isGreyPixels(data: Uint8Array, channels: number): boolean {
  if (channels < 3) return true;
  for (let i = 0; i < data.length; i += channels) if (data[i] !== data[i + 1] || data[i] !== data[i + 2]) return false;
  return true;
}

/** Preview of decoded pixels (1 or 3 channels, already oriented): resized with sharp for the thumbnail. */
export async function previewOfRaw(raw: RawImage): Promise<Preview> {
  const { data, width, height, channels } = raw;
  if (Math.max(width, height) <= THUMB_SIZE) return { thumb: null, phash: dhashRaw(data, width, height, channels), grey: isGreyPixels(data, channels) };
  const input = { raw: { width, height, channels } };
  const small = await sharp(data, input).resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
  const thumb = await sharp(small.data, { raw: { width: small.info.width, height: small.info.height, channels } })
    .toColourspace(channels === 1 ? 'b-w' : 'srgb')
    .png({ compressionLevel: 6 })
    .toBuffer();
  return { thumb, phash: dhashRaw(small.data, small.info.width, small.info.height, channels), grey: isGreyPixels(data, channels) };
}

/**
 * Preview of an encoded blob kept as its source file, from ONE decode of the source at
 * thumbnail size (JPEG shrink-on-load): the thumbnail PNG, oriented, with the source's
 * ICC profile kept (so browsers show its colours; no per-pixel profile conversion at
 * import); its pixels (read back from that PNG by our decoder, ./png.ts — lossless, so the
 * same values sharp gives, without a second native pipeline's ~1 ms) give the dHash and
 * the grey test. `failOn: 'error'` makes a truncated or corrupt file throw here.
 * @throws Error from sharp when the bytes do not decode.
 */
export async function previewOfEncoded(bytes: Buffer, width: number, height: number): Promise<Preview> {
  const img = sharp(bytes, { limitInputPixels: LIMIT_PIXELS, failOn: 'error', pages: 1 }).rotate();
  if (Math.max(width, height) <= THUMB_SIZE) {
    const { data, info } = await img.keepIccProfile().raw().toBuffer({ resolveWithObject: true });
    return { thumb: null, phash: dhashRaw(data, info.width, info.height, info.channels), grey: isGreyPixels(data, info.channels) };
  }
  const thumb = await img.resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true, fastShrinkOnLoad: true }).keepIccProfile().png({ compressionLevel: 6 }).toBuffer();
  let px: RawImage | null = decodeSimplePng(thumb);
  if (!px) {
    const { data, info } = await sharp(thumb).keepIccProfile().raw().toBuffer({ resolveWithObject: true });
    px = { data, width: info.width, height: info.height, channels: info.channels as RawImage['channels'] };
  }
  return { thumb, phash: dhashRaw(px.data, px.width, px.height, px.channels), grey: isGreyPixels(px.data, px.channels) };
}

/**
 * Preview (thumbnail, dHash, grey test) of a stored blob made as the import makes it (the
 * oriented image at thumbnail size), so one made later equals one made at import.
 * `shown`: the blob's size as shown (after EXIF orientation) when known (its row), which
 * spares a header read of an encoded blob.
 * @throws Error when undecodable.
 */
export async function previewStored(bytes: Buffer, shown?: { width: number; height: number }): Promise<Preview> {
  const simple = decodeSimplePng(bytes);
  if (simple) return previewOfRaw(simple);
  if (shown) return previewOfEncoded(bytes, shown.width, shown.height);
  const meta = await sharp(bytes, { limitInputPixels: LIMIT_PIXELS }).metadata();
  const w = meta.autoOrient?.width ?? meta.width ?? 0;
  const h = meta.autoOrient?.height ?? meta.height ?? 0;
  return previewOfEncoded(bytes, w, h);
}

/** dHash of a stored blob (previewStored). @throws Error when undecodable. */
export async function dhashStored(bytes: Buffer): Promise<string> {
  return (await previewStored(bytes)).phash;
}

/** dHash of the blob file at `path` (dhashStored). @throws Error when unreadable or undecodable. */
export async function dhashFile(path: string): Promise<string> {
  return dhashStored(await readFile(path));
}
