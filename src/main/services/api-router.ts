/**
 * The one implementation of the API contract (src/shared/api.ts), used by both
 * transports (Electron IPC and the headless host's WebSocket): look the method up,
 * validate its params with the contract's zod schema, call the service, and map
 * every failure to an ApiErrorShape.
 */
import { pipelineRows } from './pipelines';
import { backboneInfo } from './runs/baseline';
import { z } from 'zod';
import { requests, type ApiErrorShape, type DatasetDetail, type DatasetSummary, type ImportJob, type Item, type Params, type RequestName, type Result, type SplitConfig } from '../../shared/api';
import { ApiError, errorShape, zodField } from '../../shared/errors';
import { formatZodError } from '../../shared/spec';
import type { AttackService } from './attack';
import type { ExportService } from './export';
import type { InspectService } from './inspect';
import type { LabelService } from './labels';
import type { QualityService } from './quality';
import type { SweepService } from './sweeps';
import type { ExecutorService } from './executors';
import type { RunService } from './runs';
import { pretrainedSpecForDataset } from './pretrained';

type MaybePromise<T> = T | Promise<T>;

/** What the router needs from the dataset service (results may be sync or async). */
export interface ApiDatasets {
  list(): MaybePromise<DatasetSummary[]>;
  get(datasetId: number): MaybePromise<DatasetDetail>;
  startImport(params: { path: string; name?: string; datasetId?: number; labelPattern?: string }): MaybePromise<{ jobId: number }>;
  previewImport(params: Params<'datasets.previewImport'>): MaybePromise<Result<'datasets.previewImport'>>;
  cancelImport(jobId: number): MaybePromise<{ ok: boolean } | boolean | void>;
  getImport(jobId: number): MaybePromise<ImportJob | null | undefined>;
  items(params: Params<'datasets.items'>): MaybePromise<{ total: number; items: Item[] }>;
  setSplit(datasetId: number, split: SplitConfig, opts?: { allowFromTest?: boolean }): MaybePromise<DatasetDetail | void>;
  itemIds(params: Params<'items.ids'>): MaybePromise<{ ids: number[] }>;
  delete(datasetId: number): MaybePromise<unknown>;
}

export interface ApiServices {
  /** Answer of `system.info`. */
  systemInfo(): MaybePromise<Result<'system.info'>>;
  datasets: ApiDatasets;
  runs: Pick<RunService, 'list' | 'get' | 'start' | 'cancel' | 'resume' | 'rerun' | 'lrRange' | 'augmentPreview' | 'metrics' | 'compare' | 'update' | 'delete' | 'baselineReport' | 'inferenceTiming'>;
  labels: Pick<LabelService, 'assign' | 'undo' | 'redo' | 'history' | 'exclude' | 'move' | 'upload' | 'addClass' | 'updateClass' | 'mergeClasses' | 'deleteClass' | 'resolveSuggestion'>;
  quality: Pick<QualityService, 'listVersions' | 'diff' | 'nearDuplicates' | 'confusion' | 'listSuggestions'>;
  sweeps: Pick<SweepService, 'create' | 'list' | 'get' | 'cancel' | 'queue' | 'setConcurrency'>;
  inspect: Pick<InspectService, 'checkpoints' | 'start' | 'get' | 'cancel' | 'result'>;
  attack: Pick<AttackService, 'start' | 'result' | 'saveDataset'>;
  exports: Pick<ExportService, 'export' | 'classify'>;
  executor: Pick<ExecutorService, 'get' | 'set' | 'job'>;
}

export interface ApiHandlerOptions {
  /** Validate every result against the contract's result schema too (tests, development). Default false. */
  validateResults?: boolean;
}

/** Handles one request. Resolves with the result; rejects with an ApiError. */
export type ApiHandler = (method: string, params: unknown) => Promise<unknown>;

/**
 * Map any thrown value to the wire error shape: an ApiError (SpecError included) with
 * its code and field; a zod error → invalid_params, the field being its first issue's
 * path; anything else → internal, with its message. Codes are never guessed from
 * message text: the code is set where the error is raised.
 */
export function toApiError(err: unknown): ApiErrorShape {
  if (err instanceof ApiError) return errorShape(err);
  if (err instanceof z.ZodError) {
    const field = zodField(err);
    const message = formatZodError(err);
    return field ? { code: 'invalid_params', message, field } : { code: 'invalid_params', message };
  }
  if (err instanceof Error) return { code: 'internal', message: err.message || String(err) };
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
  const { datasets, runs, labels, quality, sweeps, executor } = services;
  const impl: { [N in RequestName]: (p: z.infer<(typeof requests)[N]['params']>) => MaybePromise<unknown> } = {
    'system.info': () => services.systemInfo(),
    'datasets.list': () => datasets.list(),
    'datasets.get': (p) => datasets.get(p.datasetId),
    'datasets.import': (p) => datasets.startImport(p),
    'datasets.previewImport': (p) => datasets.previewImport(p),
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
    'models.pretrainedSpec': (p) => pretrainedSpecForDataset(datasets, p),
    'runs.cancel': (p) => runs.cancel(p.runId),
    'runs.resume': (p) => runs.resume(p.runId),
    'runs.rerun': (p) => runs.rerun(p),
    'runs.lrRange': (p) => runs.lrRange(p),
    'runs.augmentPreview': (p) => runs.augmentPreview(p),
    'runs.metrics': (p) => runs.metrics(p.runId),
    'runs.baselineReport': (p) => runs.baselineReport(p.runId),
    'runs.pipelines': (p) => pipelineRows({ runs, quality }, p),
    'models.backbone': (p) => backboneInfo(p.file, p.node),
    'inspect.checkpoints': (p) => {
      const { dirs: _dirs, ...checkpoints } = services.inspect.checkpoints(p.runId);
      return checkpoints;
    },
    'inspect.start': (p) => services.inspect.start(p),
    'inspect.result': (p) => services.inspect.result(p.jobId, 'inspect'),
    'jobs.get': (p) => services.inspect.get(p.jobId),
    'jobs.cancel': (p) => services.inspect.cancel(p.jobId),
    'attack.start': (p) => services.attack.start(p),
    'attack.result': (p) => services.attack.result(p.jobId),
    'attack.saveDataset': (p) => services.attack.saveDataset(p),
    'runs.export': (p) => services.exports.export(p),
    'runs.classify': (p) => services.exports.classify(p),
    'runs.compare': (p) => runs.compare(p),
    'runs.update': (p) => runs.update(p),
    'runs.delete': (p) => runs.delete(p.runId),
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
    'sweeps.create': (p) => sweeps.create(p),
    'sweeps.list': () => sweeps.list(),
    'sweeps.get': (p) => sweeps.get(p.sweepId),
    'sweeps.cancel': (p) => sweeps.cancel(p.sweepId),
    'queue.get': () => sweeps.queue(),
    'queue.setConcurrency': (p) => sweeps.setConcurrency(p.concurrency),
    'executor.get': () => executor.get(),
    'executor.set': (p) => executor.set(p),
    'executor.job': (p) => executor.job(p.runId),
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
