/** Files dropped on the window → base64 batches small enough for one items.upload call each. */

export interface UploadFile {
  name: string;
  dataBase64: string;
}

/** At most 500 files and 32 MiB per call (api.ts); stay well under the byte limit. */
export const MAX_FILES_PER_CALL = 200;
export const MAX_BYTES_PER_CALL = 24 * 1024 * 1024;

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

/** Group files into batches by count and (base64) size, keeping order. A file over the byte limit travels alone. */
export function batchFiles<T extends { size: number }>(files: readonly T[], maxFiles = MAX_FILES_PER_CALL, maxBytes = MAX_BYTES_PER_CALL): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const f of files) {
    const b64 = Math.ceil(f.size / 3) * 4;
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
