/**
 * Decoding one image into what the blob store keeps (see ./stored.ts):
 *  - JPEG, PNG and WebP files that browsers show and the pack step decodes as they are
 *    (8-bit, no alpha, not CMYK, one frame; PNG/WebP without EXIF rotation) are kept byte
 *    for byte: no re-encode, blob bytes = source bytes;
 *  - anything else (CMYK or 16-bit files, alpha, GIF, TIFF, BMP, raw pixels) becomes the
 *    canonical 8-bit PNG, 1 channel (greyscale sources) or 3 (sRGB), EXIF orientation
 *    applied, alpha flattened onto white, first frame of animations.
 * Either way the result records the size as shown (after EXIF orientation), channels, a
 * grey flag (R = G = B everywhere), the thumbnail and the dHash, all from one decode.
 * With `deferPreview` (the import job) a kept JPEG is read from its header only, plus a
 * strip of its first rows for the grey flag: thumbnail and dHash are left for later
 * (`previewPending`; src/main/import/previews.ts makes them), since a decode costs ~6 ms of
 * the ~7 ms an imported photo takes (entropy decoding, which shrink-on-load cannot skip).
 * Unusable inputs throw SkipError with a human reason.
 */
import sharp from 'sharp';
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { decodeBmp, isBmp, type RawImage } from './bmp';
import { THUMB_SIZE } from '../blobs';
import { isGreyPixels, previewOfEncoded, previewOfRaw, type StoredFormat } from './stored';

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

/** An image ready for the blob store. */
export interface NormalizedImage {
  /** The bytes to store: the source file itself when `kept`, else the canonical PNG. */
  bytes: Buffer;
  /** Format of `bytes`. */
  format: StoredFormat;
  /** True when `bytes` are the source file unchanged. */
  kept: boolean;
  /** The source's format as users name it ('JPEG', 'GIF', 'IDX', …); outlier warnings compare it within a class. */
  sourceFormat: string;
  /** Size as shown, pixels: after EXIF orientation. */
  width: number;
  height: number;
  /** Channels of the decoded image: 1 for greyscale files, else 3. */
  channels: 1 | 3;
  /** True when the pixels are grey: 1 channel, or R = G = B everywhere (./stored.ts, isGreyPixels; false as soon as a pixel of a deferred preview's first rows has colour). Final either way. */
  grey: boolean;
  /** Thumbnail PNG (at most THUMB_SIZE px, oriented), or null when the image is that small or `previewPending`. */
  thumb: Buffer | null;
  /** 64-bit dHash, 16 hex digits (./phash.ts); null when `previewPending`. */
  phash: string | null;
  /** True when thumbnail and dHash are still to be made from the stored bytes (`deferPreview`); the grey flag is known either way. */
  previewPending: boolean;
}

/** How normalizeFile / normalizeBuffer treat a kept JPEG. */
export interface NormalizeOptions {
  /** Leave a kept JPEG's thumbnail and dHash for later (NormalizedImage.previewPending); see the file comment. */
  deferPreview?: boolean;
}

/** Rows of a JPEG's first strip decoded for the grey flag of a deferred preview: one or two MCU rows. */
export const GREY_STRIP_ROWS = 16;

/** Sharp metadata fields the keep-or-normalize decision reads. */
interface Meta {
  width?: number;
  height?: number;
  space?: string;
  channels?: number;
  hasAlpha?: boolean;
  depth?: string;
  pages?: number;
  orientation?: number;
}

/** True when a file of `format` with `meta` is kept as it is (see the file comment). */
function keepsAsIs(format: Sniffed, meta: Meta): format is StoredFormat {
  if (format !== 'jpeg' && format !== 'png' && format !== 'webp') return false;
  if (meta.depth !== 'uchar' || meta.hasAlpha || (meta.pages ?? 1) > 1) return false;
  if ((meta.space !== 'srgb' && meta.space !== 'b-w') || (meta.channels !== 1 && meta.channels !== 3)) return false;
  // Browsers apply EXIF orientation to JPEGs; for PNG/WebP we store the rotated pixels instead.
  return format === 'jpeg' || (meta.orientation ?? 1) === 1;
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

/**
 * True when the first GREY_STRIP_ROWS rows of the JPEG `bytes` (stored size w × h, before
 * orientation) have R = G = B at every pixel, decoded as previewOfEncoded decodes (no ICC
 * conversion). A colour pixel there settles the grey flag (false) at the cost of one or two
 * MCU rows of entropy decoding.
 * @throws Error from sharp when that strip does not decode.
 */
async function firstRowsGrey(bytes: Buffer, w: number, h: number): Promise<boolean> {
  const { data, info } = await sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'error', sequentialRead: true })
    .extract({ left: 0, top: 0, width: w, height: Math.min(h, GREY_STRIP_ROWS) })
    .keepIccProfile()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return isGreyPixels(data, info.channels);
}

function firstLine(message: string): string {
  return message.split('\n')[0].trim();
}

/**
 * Read and normalize the image file at `path`.
 * @throws SkipError (empty, too large, not an image, corrupt, truncated, too many pixels).
 */
export async function normalizeFile(path: string, opts: NormalizeOptions = {}): Promise<NormalizedImage> {
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
  return normalizeBuffer(bytes, extname(path), opts);
}

/**
 * Normalize an encoded image held in memory; `ext` (e.g. '.jpg') only improves messages.
 * @throws SkipError as normalizeFile.
 */
export async function normalizeBuffer(bytes: Buffer, ext = '', opts: NormalizeOptions = {}): Promise<NormalizedImage> {
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
    return withPixelBudget(raw.width * raw.height, () => normalizeRaw(raw, 'BMP'));
  }
  const fmt = FORMAT_NAME[format];
  let meta: Meta;
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
    if (keepsAsIs(format, meta)) {
      const rotated = (meta.orientation ?? 1) >= 5;
      const [width, height] = rotated ? [h, w] : [w, h];
      const channels = meta.channels === 1 ? 1 : 3;
      // A truncated file goes the full way, which names it (a header read would not see it).
      if (opts.deferPreview && format === 'jpeg' && Math.max(width, height) > THUMB_SIZE && !looksTruncated(format, bytes)) {
        // 1 channel is grey by its header; a colour pixel in the first strip settles it too. A grey first strip
        // proves nothing about the rest: such a file is decoded whole now, so the grey flag is always final.
        const oneChannel = channels === 1;
        if (oneChannel || !(await firstRowsGrey(bytes, w, h))) return { bytes, format, kept: true, sourceFormat: fmt, width, height, channels, grey: oneChannel, thumb: null, phash: null, previewPending: true };
      }
      const p = await withPixelBudget(w * h, () => previewOfEncoded(bytes, width, height));
      return { bytes, format, kept: true, sourceFormat: fmt, width, height, channels, grey: p.grey, thumb: p.thumb, phash: p.phash, previewPending: false };
    }
    return await withPixelBudget(w * h, async () => {
      let img = sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'error', pages: 1 }).rotate();
      if (meta.hasAlpha) img = img.flatten({ background: '#ffffff' });
      img = img.toColourspace(grey ? 'b-w' : 'srgb');
      const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      return normalizeRaw({ data, width: info.width, height: info.height, channels: info.channels as 1 | 3 | 4 }, fmt);
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
 * alpha flattened onto white, then encoded as the canonical PNG, with its thumbnail (when
 * larger than THUMB_SIZE px), dHash and grey flag. `sourceFormat` names where the pixels
 * came from ('IDX', 'GIF', …).
 * @throws Error when `data` does not hold width × height × channels bytes.
 */
export async function normalizeRaw(raw: { data: Buffer; width: number; height: number; channels: number }, sourceFormat = 'raw pixels'): Promise<NormalizedImage> {
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
  const p = await previewOfRaw({ data, width, height, channels: channels as 1 | 3 });
  return { bytes: png, format: 'png', kept: false, sourceFormat, width, height, channels: channels as 1 | 3, grey: p.grey, thumb: p.thumb, phash: p.phash, previewPending: false };
}
