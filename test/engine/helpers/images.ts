/**
 * Test helper: an image file's pixels as a run's pack makes them (src/main/services/pack.ts
 * loadPixels: decoded as stored blobs are, EXIF orientation applied; resized by sharp with
 * fit 'cover', centre — the central crop of the image's aspect — to size × size; sRGB, no alpha).
 * BMP files (the TFLite test photos) through our BMP decoder.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { decodeBmp, isBmp } from '../../../src/main/images/bmp';
import { decodeStored } from '../../../src/main/images/stored';

/** uint8 HWC RGB pixels of `path` at size × size. */
export async function pixelsOf(path: string, size: number): Promise<Uint8Array> {
  const bytes = readFileSync(path);
  const raw = isBmp(bytes) ? decodeBmp(bytes) : await decodeStored(bytes);
  const { data } = await sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } })
    .resize(size, size, { fit: 'cover', position: 'centre' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return data;
}
