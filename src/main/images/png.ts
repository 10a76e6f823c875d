/**
 * A fast decoder for the PNGs this app stores itself (8-bit greyscale or RGB, not
 * interlaced): inflate + unfilter, no per-call native overhead. Used when packing tens of
 * thousands of small images; anything else returns null and goes through sharp.
 */
import { inflateSync } from 'node:zlib';
import type { RawImage } from './bmp';

/** True when `png` (a PNG file) carries an embedded ICC profile (an iCCP chunk before its image data). */
export function hasIccProfile(png: Buffer): boolean {
  let pos = 8;
  while (pos + 8 <= png.length) {
    const type = png.toString('latin1', pos + 4, pos + 8);
    if (type === 'iCCP') return true;
    if (type === 'IDAT' || type === 'IEND') return false;
    pos += 12 + png.readUInt32BE(pos);
  }
  return false;
}

/**
 * Decode `png` when it is an 8-bit, non-interlaced greyscale (colour type 0) or RGB
 * (colour type 2) PNG; return null for every other kind (the caller falls back to sharp).
 * @throws Error when the file is a PNG of that kind but malformed.
 */
export function decodeSimplePng(png: Buffer): RawImage | null {
  if (png.length < 33 || png.readUInt32BE(0) !== 0x89504e47 || png.toString('latin1', 12, 16) !== 'IHDR') return null;
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const depth = png[24], colourType = png[25], interlace = png[28];
  if (depth !== 8 || interlace !== 0 || (colourType !== 0 && colourType !== 2)) return null;
  const channels = colourType === 0 ? 1 : 3;
  const parts: Buffer[] = [];
  let pos = 8;
  while (pos + 8 <= png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    if (type === 'IDAT') parts.push(png.subarray(pos + 8, pos + 8 + len));
    else if (type === 'IEND') break;
    else if (type === 'tRNS') return null; // transparency: let sharp handle it
    pos += 12 + len;
  }
  const raw = inflateSync(parts.length === 1 ? parts[0] : Buffer.concat(parts));
  const stride = width * channels;
  if (raw.length < (stride + 1) * height) throw new Error('PNG: image data too short');
  const out = Buffer.alloc(stride * height);
  const bpp = channels;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const prev = dst - stride;
    for (let x = 0; x < stride; x++) {
      const v = raw[src + x];
      const a = x >= bpp ? out[dst + x - bpp] : 0;
      const b = y > 0 ? out[prev + x] : 0;
      let r: number;
      switch (filter) {
        case 0: r = v; break;
        case 1: r = v + a; break;
        case 2: r = v + b; break;
        case 3: r = v + ((a + b) >> 1); break;
        case 4: {
          const c = x >= bpp && y > 0 ? out[prev + x - bpp] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          r = v + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default:
          throw new Error(`PNG: bad filter type ${filter}`);
      }
      out[dst + x] = r & 0xff;
    }
  }
  return { data: out, width, height, channels };
}
