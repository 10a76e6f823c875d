/**
 * The error contract of the API, shared by main (services, host, Electron) and the
 * renderer: one `ApiError` class whose code is set where the error is raised (never
 * guessed from its message), the wire shape it travels as (ApiErrorShape, re-exported by
 * ./api.ts), and the two mappings between them. Zod types only; no node, DOM or Vue.
 */
import type { z } from 'zod';

/** Codes a service may raise; the wire carries only these. */
export type ApiErrorCode = 'invalid_params' | 'not_found' | 'conflict' | 'internal';
/** Codes an ApiError may have: the wire codes, plus 'disconnected' that only a client raises (connection lost or closed). */
export type ClientErrorCode = ApiErrorCode | 'disconnected';

/** Errors carried across a transport. `field` names the offending params field when known. */
export interface ApiErrorShape {
  message: string;
  code: ApiErrorCode;
  field?: string;
}

const WIRE_CODES: ReadonlySet<string> = new Set<ApiErrorCode>(['invalid_params', 'not_found', 'conflict', 'internal']);
const CLIENT_CODES: ReadonlySet<string> = new Set<ClientErrorCode>(['invalid_params', 'not_found', 'conflict', 'internal', 'disconnected']);

/**
 * An error with an API error code and, when known, the params field it is about (a
 * dotted path: "datasetId", "split.train", "model.layers[2].filters"). By convention the
 * message starts with that field too ("datasetId: 7 not found") so it reads alone.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly field?: string;
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    field?: string,
  ) {
    super(message);
    if (field !== undefined) this.field = field;
  }
}

/**
 * The wire shape of an ApiError (`field` only when set). A client-only code
 * ('disconnected') goes out as 'internal'.
 */
export function errorShape(err: ApiError): ApiErrorShape {
  const code: ApiErrorCode = WIRE_CODES.has(err.code) ? (err.code as ApiErrorCode) : 'internal';
  return err.field !== undefined ? { code, message: err.message, field: err.field } : { code, message: err.message };
}

/**
 * The ApiError for whatever arrived as an error (an ApiErrorShape from the wire, an Error,
 * anything): code and field are kept when they are valid, else the code is 'internal'.
 * An ApiError is returned as is.
 */
export function errorFromShape(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
  const message = typeof o.message === 'string' ? o.message : String(e);
  const code = typeof o.code === 'string' && CLIENT_CODES.has(o.code) ? (o.code as ClientErrorCode) : 'internal';
  return new ApiError(code, message, typeof o.field === 'string' ? o.field : undefined);
}

/** A zod issue path as a field path: `['layers', 2, 'filters']` under root 'model' → "model.layers[2].filters"; '' for the root. */
export function fieldPath(path: readonly PropertyKey[], root = ''): string {
  return [root, ...path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))].filter(Boolean).join('.').replace(/\.\[/g, '[');
}

/** The field a zod error is about: its first issue's path (see fieldPath), or undefined for the root. */
export function zodField(err: z.ZodError, root = ''): string | undefined {
  const first = err.issues[0];
  if (!first) return undefined;
  return fieldPath(first.path, root) || undefined;
}

/** An invalid run or model spec: an ApiError 'invalid_params' whose `field` is the path of the offending field ("model.nodes[2]"). */
export class SpecError extends ApiError {
  override name = 'SpecError';
  constructor(message: string, field?: string) {
    super('invalid_params', message, field);
  }
}
