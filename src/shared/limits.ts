/**
 * Sizes both ends of the wire agree on: the headless host's WebSocket frame limit and the
 * renderer's upload batching derive from these, so that every batch the UI sends fits in one
 * frame (base64 inflates 3 bytes to 4; names and the JSON envelope are counted too).
 */

/** Largest WebSocket message the headless host accepts, bytes (a larger one closes the connection with 1009). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Most files the UI puts in one `items.upload` call. */
export const MAX_UPLOAD_FILES_PER_CALL = 200;

/**
 * JSON bytes one file adds besides its base64 data: `{"name":"…","dataBase64":"…"},` with a
 * name of at most 255 UTF-16 units, each at most 6 bytes once escaped (`\uXXXX`).
 */
export const UPLOAD_FILE_OVERHEAD_BYTES = 255 * 6 + 64;

/** Room for `{"id":…,"method":"items.upload","params":{"datasetId":…,"files":[…]}}`. */
const ENVELOPE_BYTES = 4096;

/**
 * Base64 bytes of file data one `items.upload` call may carry so that the whole message,
 * with up to MAX_UPLOAD_FILES_PER_CALL names, stays within MAX_MESSAGE_BYTES.
 */
export const MAX_UPLOAD_BASE64_BYTES_PER_CALL = MAX_MESSAGE_BYTES - MAX_UPLOAD_FILES_PER_CALL * UPLOAD_FILE_OVERHEAD_BYTES - ENVELOPE_BYTES;

/** Length of the base64 text of `bytes` bytes (RFC 4648, padded): 4·⌈bytes/3⌉. */
export function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}
