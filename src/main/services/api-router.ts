/**
 * The one implementation of the API contract (src/shared/api.ts), used by both
 * transports (Electron IPC and the headless host's WebSocket): look the method up,
 * validate its params with the contract's zod schema, call the service, and map
 * every failure to an ApiErrorShape.
 */
import type { z } from 'zod';
import { requests, type ApiErrorShape, type DatasetDetail, type DatasetSummary, type ImportJob, type Item, type Params, type RequestName, type Result, type SplitConfig } from '../../shared/api';
import { formatZodError, SpecError } from '../../shared/spec';
import type { LabelService } from './labels';
import type { QualityService } from './quality';
import type { RunService } from './runs';

/** An error that carries an API error code (and the offending field) across a transport. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: ApiErrorShape['code'],
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

type MaybePromise<T> = T | Promise<T>;

/** What the router needs from the dataset service (results may be sync or async). */
export interface ApiDatasets {
  list(): MaybePromise<DatasetSummary[]>;
  get(datasetId: number): MaybePromise<DatasetDetail>;
  startImport(params: { path: string; name?: string; datasetId?: number }): MaybePromise<{ jobId: number }>;
  cancelImport(jobId: number): MaybePromise<{ ok: boolean } | boolean | void>;
  getImport(jobId: number): MaybePromise<ImportJob | null | undefined>;
  items(params: Params<'datasets.items'>): MaybePromise<{ total: number; items: Item[] }>;
  setSplit(datasetId: number, split: SplitConfig, opts?: { allowFromTest?: boolean }): MaybePromise<DatasetDetail | void>;
  itemIds(params: Params<'items.ids'>): MaybePromise<{ ids: number[] }>;
  delete(datasetId: number): MaybePromise<unknown>;
}

export interface ApiServices {
  /** Answer of `system.info`. */
  systemInfo(): Result<'system.info'>;
  datasets: ApiDatasets;
  runs: Pick<RunService, 'list' | 'get' | 'start' | 'cancel' | 'metrics'>;
  labels: Pick<LabelService, 'assign' | 'undo' | 'redo' | 'history' | 'exclude' | 'move' | 'upload' | 'addClass' | 'updateClass' | 'mergeClasses' | 'deleteClass' | 'resolveSuggestion'>;
  quality: Pick<QualityService, 'listVersions' | 'diff' | 'nearDuplicates' | 'confusion' | 'listSuggestions'>;
}

export interface ApiHandlerOptions {
  /** Validate every result against the contract's result schema too (tests, development). Default false. */
  validateResults?: boolean;
}

/** Handles one request. Resolves with the result; rejects with an ApiError. */
export type ApiHandler = (method: string, params: unknown) => Promise<unknown>;

/** The field a zod error is about: its first issue's path, dotted ("training.batchSize", "layers[2].filters"). */
export function zodField(err: z.ZodError, root = ''): string | undefined {
  const first = err.issues[0];
  if (!first) return undefined;
  const path = [root, ...first.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))].filter(Boolean).join('.').replace(/\.\[/g, '[');
  return path || undefined;
}

/** The field named by a message of the form "field.path: explanation". */
function fieldOfMessage(message: string): string | undefined {
  const m = /^([A-Za-z_][\w.[\]]*): /.exec(message);
  return m ? m[1] : undefined;
}

/** A message that starts with a params field in camelCase ("datasetId: …", "split.train: …", "layers[2].units: …"). */
const PLAIN_FIELD_RE = /^([a-z]\w*(?:(?:\.\w+)|(?:\[\d+\]))*): /;

const CODES: ReadonlySet<string> = new Set(['invalid_params', 'not_found', 'conflict', 'internal']);

/**
 * Map any thrown value to the wire error shape: ApiError as is; SpecError →
 * invalid_params with the field its message names; errors carrying a known `code`
 * or named `NotFoundError` → that code; a plain Error whose message starts with a
 * camelCase field ("datasetId: 7 not found", "path: /x does not exist") → not_found when
 * it ends in "not found", else invalid_params, with that field; anything else →
 * internal, with its message.
 */
export function toApiError(err: unknown): ApiErrorShape {
  if (err instanceof ApiError) return err.field ? { code: err.code, message: err.message, field: err.field } : { code: err.code, message: err.message };
  if (err instanceof SpecError || (err instanceof Error && err.name === 'SpecError')) {
    const field = fieldOfMessage(err.message);
    return field ? { code: 'invalid_params', message: err.message, field } : { code: 'invalid_params', message: err.message };
  }
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; field?: unknown };
    let code: ApiErrorShape['code'] = 'internal';
    let field = typeof e.field === 'string' ? e.field : undefined;
    // Services throw plain Errors whose message starts with the field ("datasetId: 7 not found", "path: /x does not exist").
    const named = PLAIN_FIELD_RE.exec(err.message);
    if (typeof e.code === 'string' && CODES.has(e.code)) code = e.code as ApiErrorShape['code'];
    else if (e.name === 'NotFoundError' || (named && / not found$/.test(err.message))) code = 'not_found';
    else if (named) code = 'invalid_params';
    if (!field && named && code !== 'internal') field = named[1];
    const out: ApiErrorShape = { code, message: err.message || String(err) };
    if (field) out.field = field;
    return out;
  }
  return { code: 'internal', message: String(err) };
}

function notFound(what: string, field: string): never {
  throw new ApiError('not_found', `${what} not found`, field);
}

/**
 * Build the request handler over the services. Unknown methods and invalid params are
 * refused with ApiError (`invalid_params`, naming the field); service errors are
 * mapped by toApiError.
 */
export function createApiHandler(services: ApiServices, options: ApiHandlerOptions = {}): ApiHandler {
  const { datasets, runs, labels, quality } = services;
  const impl: { [N in RequestName]: (p: z.infer<(typeof requests)[N]['params']>) => MaybePromise<unknown> } = {
    'system.info': () => services.systemInfo(),
    'datasets.list': () => datasets.list(),
    'datasets.get': (p) => datasets.get(p.datasetId),
    'datasets.import': (p) => datasets.startImport(p),
    'datasets.items': (p) => datasets.items(p),
    'datasets.setSplit': async (p) => (await datasets.setSplit(p.datasetId, p.split, { allowFromTest: p.allowFromTest })) ?? datasets.get(p.datasetId),
    'datasets.delete': async (p) => {
      await datasets.delete(p.datasetId);
      return { ok: true as const };
    },
    'imports.get': async (p) => (await datasets.getImport(p.jobId)) ?? notFound(`import job ${p.jobId}`, 'jobId'),
    'imports.cancel': async (p) => {
      const r = await datasets.cancelImport(p.jobId);
      return { ok: typeof r === 'boolean' ? r : typeof r === 'object' && r !== null ? r.ok : true };
    },
    'runs.list': (p) => runs.list(p),
    'runs.get': (p) => runs.get(p.runId),
    'runs.start': (p) => runs.start(p),
    'runs.cancel': (p) => runs.cancel(p.runId),
    'runs.metrics': (p) => runs.metrics(p.runId),
    'items.ids': (p) => datasets.itemIds(p),
    'labels.assign': (p) => labels.assign(p),
    'labels.undo': (p) => labels.undo(p.datasetId),
    'labels.redo': (p) => labels.redo(p.datasetId),
    'labels.history': (p) => labels.history(p),
    'items.exclude': (p) => labels.exclude(p),
    'items.move': (p) => labels.move(p),
    'items.upload': (p) => labels.upload(p),
    'classes.add': (p) => labels.addClass(p),
    'classes.update': (p) => labels.updateClass(p),
    'classes.merge': (p) => labels.mergeClasses(p),
    'classes.delete': (p) => labels.deleteClass(p),
    'versions.list': (p) => quality.listVersions(p.datasetId),
    'versions.diff': (p) => quality.diff(p.fromVersionId, p.toVersionId),
    'duplicates.near': (p) => quality.nearDuplicates(p),
    'runs.confusion': (p) => quality.confusion(p.runId, p.split),
    'suggestions.list': (p) => quality.listSuggestions(p),
    'suggestions.resolve': (p) => labels.resolveSuggestion(p),
  };

  return async (method, params) => {
    try {
      if (typeof method !== 'string' || !Object.prototype.hasOwnProperty.call(requests, method)) {
        throw new ApiError('invalid_params', `method: unknown method ${JSON.stringify(String(method)).slice(0, 120)}`, 'method');
      }
      const name = method as RequestName;
      const parsed = requests[name].params.safeParse(params ?? {});
      if (!parsed.success) throw new ApiError('invalid_params', formatZodError(parsed.error), zodField(parsed.error));
      const result = await (impl[name] as (p: unknown) => MaybePromise<unknown>)(parsed.data);
      if (options.validateResults) {
        const check = requests[name].result.safeParse(result);
        if (!check.success) throw new ApiError('internal', `result of ${name} breaks the contract: ${formatZodError(check.error)}`);
      }
      return result;
    } catch (err) {
      const shape = toApiError(err);
      if (shape.code === 'internal') console.error(`[layerwise] ${method} failed:`, err);
      throw new ApiError(shape.code, shape.message, shape.field);
    }
  };
}
