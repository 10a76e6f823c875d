/**
 * Files dropped on the window → base64 batches small enough for one items.upload call each:
 * the byte budget is derived from the host's WebSocket frame limit (src/shared/limits.ts).
 */
import { base64Length, MAX_UPLOAD_BASE64_BYTES_PER_CALL, MAX_UPLOAD_FILES_PER_CALL } from '../../shared/limits';

export interface UploadFile {
  name: string;
  dataBase64: string;
}

/** Files per call (the API takes up to 500). */
export const MAX_FILES_PER_CALL = MAX_UPLOAD_FILES_PER_CALL;
/** Base64 bytes of file data per call: the frame limit less the JSON of the names and the envelope. */
export const MAX_BYTES_PER_CALL = MAX_UPLOAD_BASE64_BYTES_PER_CALL;

const IMAGE_EXT = /\.(png|jpe?g|bmp|gif|webp|tiff?)$/i;

/** Image files only (by type or extension). */
export function imageFiles(files: ArrayLike<File>): File[] {
  return Array.from(files).filter((f) => f.type.startsWith('image/') || IMAGE_EXT.test(f.name));
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) s += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(s);
}

export async function fileToUpload(f: File): Promise<UploadFile> {
  const buf = new Uint8Array(await f.arrayBuffer());
  return { name: f.name.slice(-255) || 'image', dataBase64: bytesToBase64(buf) };
}

/** True when one file alone is too large for an upload call (its base64 exceeds `maxBytes`): the host would refuse the message. */
export function tooLargeToUpload(f: { size: number }, maxBytes = MAX_BYTES_PER_CALL): boolean {
  return base64Length(f.size) > maxBytes;
}

/**
 * Group files (`size` in bytes) into batches of at most `maxFiles` files and `maxBytes` bytes
 * of base64, keeping order. A file over the byte limit travels alone (filter those out first
 * with tooLargeToUpload: no call could carry them).
 */
export function batchFiles<T extends { size: number }>(files: readonly T[], maxFiles = MAX_FILES_PER_CALL, maxBytes = MAX_BYTES_PER_CALL): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const f of files) {
    const b64 = base64Length(f.size);
    if (cur.length && (cur.length >= maxFiles || bytes + b64 > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(f);
    bytes += b64;
  }
  if (cur.length) out.push(cur);
  return out;
}
