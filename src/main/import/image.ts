/**
 * Decoding and normalizing one image into the form every stored blob has: an 8-bit PNG,
 * 1 channel (greyscale sources) or 3 channels (sRGB; CMYK, palette and 16-bit converted),
 * EXIF orientation applied, alpha flattened onto white, first frame of animations.
 * Unusable inputs throw SkipError with a human reason.
 */
import sharp from 'sharp';
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { decodeBmp, isBmp, type RawImage } from './bmp';
import { THUMB_SIZE } from '../blobs';

/** Largest file the importer reads, bytes. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;
/** Largest decoded image, pixels (guards against decompression bombs). */
export const MAX_PIXELS = 100_000_000;
/** PNG options of the stored form; part of the canonical encoding, so of every blob hash. */
const PNG_OPTIONS = { compressionLevel: 6, adaptiveFiltering: false, palette: false } as const;

/** Pixels being decoded at once across all imports (bounds memory: ~3–4 bytes per pixel in flight). */
export const PIXEL_BUDGET = 150_000_000;
let pixelsInFlight = 0;
const pixelWaiters: (() => void)[] = [];

/** Run `fn` once `pixels` fit in the shared decode budget (an image alone always fits). */
async function withPixelBudget<T>(pixels: number, fn: () => Promise<T>): Promise<T> {
  while (pixelsInFlight > 0 && pixelsInFlight + pixels > PIXEL_BUDGET) await new Promise<void>((r) => pixelWaiters.push(r));
  pixelsInFlight += pixels;
  try {
    return await fn();
  } finally {
    pixelsInFlight -= pixels;
    for (const wake of pixelWaiters.splice(0)) wake();
  }
}

/** An image that cannot be imported; `message` is the human reason. */
export class SkipError extends Error {
  override name = 'SkipError';
}

/** A normalized image: the stored PNG bytes, its size in pixels and channels, and a thumbnail PNG when larger than THUMB_SIZE. */
export interface NormalizedImage {
  png: Buffer;
  width: number;
  height: number;
  channels: 1 | 3;
  thumb: Buffer | null;
}

type Sniffed = 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'bmp' | 'svg' | 'heif' | 'pdf' | null;

/** Recognise a file's format from its first bytes. */
export function sniffFormat(b: Buffer): Sniffed {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b.readUInt32BE(0) === 0x89504e47 && b.readUInt32BE(4) === 0x0d0a1a0a) return 'png';
  if (b.length >= 6 && b.toString('latin1', 0, 4) === 'GIF8') return 'gif';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (b.length >= 4 && (b.toString('latin1', 0, 4) === 'II*\0' || b.toString('latin1', 0, 4) === 'MM\0*')) return 'tiff';
  if (isBmp(b)) return 'bmp';
  if (b.length >= 12 && b.toString('latin1', 4, 8) === 'ftyp') return 'heif';
  if (b.length >= 4 && b.toString('latin1', 0, 4) === '%PDF') return 'pdf';
  const head = b.toString('utf8', 0, Math.min(b.length, 2048)).trimStart().toLowerCase();
  if (head.startsWith('<svg') || ((head.startsWith('<?xml') || head.startsWith('<!doctype svg')) && head.includes('<svg'))) return 'svg';
  return null;
}

const FORMAT_NAME: Record<string, string> = { jpeg: 'JPEG', png: 'PNG', gif: 'GIF', webp: 'WebP', tiff: 'TIFF', bmp: 'BMP', heif: 'HEIF/AVIF' };

/** True when the file visibly ends early (PNG without IEND, JPEG without its end marker). */
function looksTruncated(format: Sniffed, b: Buffer): boolean {
  const tail = b.subarray(Math.max(0, b.length - 64));
  if (format === 'png') return !tail.includes(Buffer.from('IEND', 'latin1'));
  if (format === 'jpeg') return !tail.includes(Buffer.from([0xff, 0xd9]));
  if (format === 'gif') return !tail.includes(0x3b);
  return false;
}

function firstLine(message: string): string {
  return message.split('\n')[0].trim();
}

/**
 * Read and normalize the image file at `path`.
 * @throws SkipError (empty, too large, not an image, corrupt, truncated, too many pixels).
 */
export async function normalizeFile(path: string): Promise<NormalizedImage> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new SkipError(`unreadable: ${(err as NodeJS.ErrnoException).code ?? firstLine(String(err))}`);
  }
  if (size === 0) throw new SkipError('empty file (0 bytes)');
  if (size > MAX_FILE_BYTES) throw new SkipError(`file too large (${(size / 2 ** 20).toFixed(0)} MB; the limit is ${MAX_FILE_BYTES / 2 ** 20} MB)`);
  let bytes: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      bytes = Buffer.alloc(size);
      const { bytesRead } = await fh.read(bytes, 0, size, 0);
      bytes = bytes.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new SkipError(`unreadable: ${(err as NodeJS.ErrnoException).code ?? firstLine(String(err))}`);
  }
  return normalizeBuffer(bytes, extname(path));
}

/**
 * Normalize an encoded image held in memory; `ext` (e.g. '.jpg') only improves messages.
 * @throws SkipError as normalizeFile.
 */
export async function normalizeBuffer(bytes: Buffer, ext = ''): Promise<NormalizedImage> {
  if (bytes.length === 0) throw new SkipError('empty file (0 bytes)');
  const format = sniffFormat(bytes);
  if (format === 'svg') throw new SkipError('not an image: SVG is not supported (vector graphics; export it as PNG)');
  if (format === 'pdf') throw new SkipError('not an image: PDF is not supported');
  if (format === null) throw new SkipError(`not an image: unrecognised format${ext ? ` (${ext})` : ''}`);
  if (format === 'bmp') {
    let raw: RawImage;
    try {
      raw = decodeBmp(bytes);
    } catch (err) {
      throw new SkipError((err as Error).message);
    }
    if (raw.width * raw.height > MAX_PIXELS) throw new SkipError(`image too large: ${raw.width}×${raw.height} pixels exceeds the ${MAX_PIXELS / 1e6}-megapixel limit`);
    return withPixelBudget(raw.width * raw.height, () => normalizeRaw(raw));
  }
  const fmt = FORMAT_NAME[format];
  let meta: { width?: number; height?: number; space?: string; channels?: number; hasAlpha?: boolean };
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    const msg = firstLine((err as Error).message);
    const cut = looksTruncated(format, bytes);
    if (/corrupt header/i.test(msg)) throw new SkipError(`corrupt ${fmt} header${cut ? ` (the file ends after ${bytes.length} bytes)` : ''}`);
    if (cut) throw new SkipError(`truncated ${fmt} (the file ends after ${bytes.length} bytes)`);
    if (/unsupported image format/i.test(msg)) throw new SkipError(`not an image: ${fmt} variant not supported`);
    throw new SkipError(`corrupt ${fmt}: ${msg}`);
  }
  const w = meta.width ?? 0, h = meta.height ?? 0;
  if (w * h > MAX_PIXELS) throw new SkipError(`image too large: ${w}×${h} pixels exceeds the ${MAX_PIXELS / 1e6}-megapixel limit`);
  const grey = meta.space === 'b-w' || meta.space === 'grey16' || (meta.channels !== undefined && meta.channels <= 2 && meta.space !== 'cmyk');
  try {
    return await withPixelBudget(w * h, async () => {
      let img = sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'error', pages: 1 }).rotate();
      if (meta.hasAlpha) img = img.flatten({ background: '#ffffff' });
      img = img.toColourspace(grey ? 'b-w' : 'srgb');
      const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      return normalizeRaw({ data, width: info.width, height: info.height, channels: info.channels as 1 | 3 | 4 });
    });
  } catch (err) {
    if (err instanceof SkipError) throw err;
    const msg = firstLine((err as Error).message);
    const cut = looksTruncated(format, bytes);
    if (/pixel limit/i.test(msg)) throw new SkipError(`image too large: ${w}×${h} pixels exceeds the ${MAX_PIXELS / 1e6}-megapixel limit`);
    if (/corrupt header/i.test(msg)) throw new SkipError(`corrupt ${fmt} header${cut ? ` (the file ends after ${bytes.length} bytes)` : ''}`);
    if (cut) throw new SkipError(`truncated ${fmt} (the file ends after ${bytes.length} bytes)`);
    throw new SkipError(`corrupt ${fmt}: ${msg}`);
  }
}

/**
 * Normalize decoded 8-bit pixels (1, 2, 3 or 4 channels, interleaved, rows top down):
 * alpha flattened onto white, then encoded as the canonical PNG (+ thumbnail when larger
 * than THUMB_SIZE px).
 * @throws Error when `data` does not hold width × height × channels bytes.
 */
export async function normalizeRaw(raw: { data: Buffer; width: number; height: number; channels: number }): Promise<NormalizedImage> {
  const { width, height } = raw;
  let { data, channels } = raw;
  if (data.length !== width * height * channels) throw new Error(`raw image: ${data.length} bytes for ${width}×${height}×${channels}`);
  if (channels === 2 || channels === 4) {
    // Flatten alpha onto white by hand: exact and cheap.
    const colour = channels - 1;
    const out = Buffer.alloc(width * height * colour);
    for (let p = 0, i = 0, o = 0; p < width * height; p++, i += channels) {
      const a = data[i + colour];
      for (let c = 0; c < colour; c++) out[o++] = Math.round((data[i + c] * a + 255 * (255 - a)) / 255);
    }
    data = out;
    channels = colour;
  }
  if (channels !== 1 && channels !== 3) throw new Error(`raw image: unsupported channel count ${channels}`);
  const input = { raw: { width, height, channels: channels as 1 | 3 } };
  const space = channels === 1 ? 'b-w' : 'srgb';
  const png = await sharp(data, input).toColourspace(space).png(PNG_OPTIONS).toBuffer();
  let thumb: Buffer | null = null;
  if (Math.max(width, height) > THUMB_SIZE) {
    thumb = await sharp(data, input).resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true }).toColourspace(space).png({ compressionLevel: 6 }).toBuffer();
  }
  return { png, width, height, channels: channels as 1 | 3, thumb };
}
