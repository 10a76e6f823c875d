/**
 * The renderer's side of the error contract: the one ApiError of src/shared/errors.ts
 * (re-exported), the mapping from whatever a transport rejected with, and the text shown.
 */
import { ApiError, errorFromShape, type ClientErrorCode } from '../../shared/errors';

export { ApiError };
/** Codes an error shown in the renderer may have: the wire codes plus 'disconnected'. */
export type ApiErrorCode = ClientErrorCode;

/** Turn whatever a transport rejected with into an ApiError (keeps code and field when present). */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  const err = errorFromShape(e);
  // Electron's ipcRenderer.invoke wraps remote errors: "Error invoking remote method 'x': Error: msg".
  const message = err.message.replace(/^Error invoking remote method '[^']*': (\w*Error: )?/, '');
  return message === err.message ? err : new ApiError(err.code, message, err.field);
}

/** A human message for an error, naming its field when the message does not already. */
export function errorText(e: unknown): string {
  if (e === null || e === undefined) return '';
  const err = e instanceof Error ? e : toApiError(e);
  const field = (err as ApiError).field;
  if (field && !err.message.includes(field)) return `${field}: ${err.message}`;
  return err.message;
}
