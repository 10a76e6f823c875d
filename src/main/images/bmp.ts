/**
 * A small decoder for Windows BMP files, which libvips (and so sharp) cannot read:
 * uncompressed 1-, 4-, 8-bit (palette), 16-bit (5-5-5 / bit fields), 24- and 32-bit
 * images, bottom-up or top-down, with any of the usual header versions (12, 40, 52, 56,
 * 108 or 124 bytes). RLE- and JPEG/PNG-compressed BMPs are refused.
 */

/** A decoded image: `channels` interleaved 8-bit samples per pixel, rows top to bottom. */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** True when `bytes` starts like a BMP file ("BM"). */
export function isBmp(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

function maskShift(mask: number): { shift: number; bits: number } {
  if (mask === 0) return { shift: 0, bits: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (((mask >>> (shift + bits)) & 1) === 1) bits++;
  return { shift, bits };
}

/**
 * Decode a BMP file. Palette images whose colours are all grey come out with 1 channel,
 * images with a real alpha mask with 4, everything else with 3 (RGB).
 * @throws Error with a human reason ("truncated BMP", "compressed BMP (RLE8) is not supported", …).
 */
export function decodeBmp(bytes: Buffer): RawImage {
  if (!isBmp(bytes) || bytes.length < 26) throw new Error('not a BMP file');
  const dataOffset = bytes.readUInt32LE(10);
  const headerSize = bytes.readUInt32LE(14);
  let width: number, height: number, bpp: number, compression = 0, colorsUsed = 0;
  let masks: [number, number, number, number] | null = null;
  if (headerSize === 12) {
    width = bytes.readUInt16LE(18);
    height = bytes.readInt16LE(20);
    bpp = bytes.readUInt16LE(24);
  } else if (headerSize >= 40) {
    if (bytes.length < 14 + 40) throw new Error('truncated BMP header');
    width = bytes.readInt32LE(18);
    height = bytes.readInt32LE(22);
    bpp = bytes.readUInt16LE(28);
    compression = bytes.readUInt32LE(30);
    colorsUsed = bytes.readUInt32LE(46);
    if (compression === 3 || compression === 6) {
      // BI_BITFIELDS / BI_ALPHABITFIELDS: masks in the header (v2+) or right after a v1 header.
      const at = 14 + 40;
      if (bytes.length < at + 12) throw new Error('truncated BMP header');
      const hasAlphaMask = headerSize >= 56 || compression === 6;
      masks = [bytes.readUInt32LE(at), bytes.readUInt32LE(at + 4), bytes.readUInt32LE(at + 8), hasAlphaMask && bytes.length >= at + 16 ? bytes.readUInt32LE(at + 12) : 0];
    } else if (compression !== 0) {
      const names: Record<number, string> = { 1: 'RLE8', 2: 'RLE4', 4: 'JPEG', 5: 'PNG' };
      throw new Error(`compressed BMP (${names[compression] ?? `type ${compression}`}) is not supported`);
    }
  } else {
    throw new Error(`corrupt BMP header (header size ${headerSize})`);
  }
  const topDown = height < 0;
  height = Math.abs(height);
  if (width <= 0 || height <= 0 || width > 65535 || height > 65535) throw new Error(`corrupt BMP header (size ${width}×${height})`);
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new Error(`BMP with ${bpp} bits per pixel is not supported`);

  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (dataOffset + stride * height > bytes.length) throw new Error('truncated BMP');

  // Palette
  let palette: Uint8Array | null = null;
  let grey = false;
  if (bpp <= 8) {
    const entrySize = headerSize === 12 ? 3 : 4;
    const n = colorsUsed > 0 ? Math.min(colorsUsed, 1 << bpp) : 1 << bpp;
    const at = 14 + headerSize;
    palette = new Uint8Array(n * 3);
    grey = true;
    for (let i = 0; i < n; i++) {
      const p = at + i * entrySize;
      if (p + 3 > bytes.length) throw new Error('truncated BMP palette');
      const b = bytes[p], g = bytes[p + 1], r = bytes[p + 2];
      palette[i * 3] = r;
      palette[i * 3 + 1] = g;
      palette[i * 3 + 2] = b;
      if (r !== g || g !== b) grey = false;
    }
  }
  if (bpp === 16 && !masks) masks = [0x7c00, 0x03e0, 0x001f, 0];
  if (bpp === 32 && !masks) masks = [0x00ff0000, 0x0000ff00, 0x000000ff, 0];
  const hasAlpha = masks !== null && masks[3] !== 0;
  const channels: 1 | 3 | 4 = palette ? (grey ? 1 : 3) : hasAlpha ? 4 : 3;
  const out = Buffer.alloc(width * height * channels);
  const fields = masks ? masks.map(maskShift) : null;
  const scale = (v: number, bits: number): number => (bits >= 8 ? v >>> (bits - 8) : bits === 0 ? 255 : Math.round((v * 255) / ((1 << bits) - 1)));

  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    let o = y * width * channels;
    for (let x = 0; x < width; x++) {
      if (palette) {
        let idx: number;
        if (bpp === 8) idx = bytes[row + x];
        else if (bpp === 4) idx = (bytes[row + (x >> 1)] >> (x & 1 ? 0 : 4)) & 0x0f;
        else idx = (bytes[row + (x >> 3)] >> (7 - (x & 7))) & 1;
        if (idx * 3 >= palette.length) idx = 0;
        if (channels === 1) out[o++] = palette[idx * 3];
        else {
          out[o++] = palette[idx * 3];
          out[o++] = palette[idx * 3 + 1];
          out[o++] = palette[idx * 3 + 2];
        }
      } else if (bpp === 24 && !masks) {
        const p = row + x * 3;
        out[o++] = bytes[p + 2];
        out[o++] = bytes[p + 1];
        out[o++] = bytes[p];
      } else {
        const v = bpp === 16 ? bytes.readUInt16LE(row + x * 2) : bytes.readUInt32LE(row + x * 4);
        for (let c = 0; c < channels; c++) {
          const f = fields![c];
          out[o++] = scale((v & masks![c]) >>> f.shift, f.bits);
        }
      }
    }
  }
  return { data: out, width, height, channels };
}
