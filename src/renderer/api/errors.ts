import type { ApiErrorShape } from '../../shared/api';

export type ApiErrorCode = ApiErrorShape['code'] | 'disconnected';

/** An error refused by the services (or lost on the way), with the offending field when known. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly field?: string;
  constructor(message: string, code: ApiErrorCode, field?: string) {
    super(message);
    this.code = code;
    if (field !== undefined) this.field = field;
  }
}

const CODES = new Set(['invalid_params', 'not_found', 'conflict', 'internal', 'disconnected']);

/** Turn whatever a transport rejected with into an ApiError (keeps code and field when present). */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
  let message = typeof o.message === 'string' ? o.message : String(e);
  // Electron's ipcRenderer.invoke wraps remote errors: "Error invoking remote method 'x': Error: msg".
  message = message.replace(/^Error invoking remote method '[^']*': (\w*Error: )?/, '');
  const code = typeof o.code === 'string' && CODES.has(o.code) ? (o.code as ApiErrorCode) : 'internal';
  const field = typeof o.field === 'string' ? o.field : undefined;
  return new ApiError(message, code, field);
}

/** A human message for an error, naming its field when the message does not already. */
export function errorText(e: unknown): string {
  if (e === null || e === undefined) return '';
  const err = e instanceof Error ? e : toApiError(e);
  const field = (err as ApiError).field;
  if (field && !err.message.includes(field)) return `${field}: ${err.message}`;
  return err.message;
}
