/**
 * The one API contract between the UI and the services. `src/main` implements each
 * request once and validates every incoming params object with these schemas; the
 * renderer reaches them over Electron IPC (preload) or WebSocket (headless host).
 */
import { z } from 'zod';
import { RunSpecSchema } from './spec';

export const SplitSchema = z.enum(['train', 'val', 'test']);
export type Split = z.infer<typeof SplitSchema>;

const Id = z.number().int().positive();

export const ClassInfoSchema = z.object({ id: Id, index: z.number().int(), name: z.string(), color: z.string().nullable(), counts: z.object({ train: z.number(), val: z.number(), test: z.number(), total: z.number() }) });
export type ClassInfo = z.infer<typeof ClassInfoSchema>;

export const SplitConfigSchema = z
  .object({
    /** 'given': keep the splits the files came with (val carved from train by `valFromTrain` when absent); 'random': seeded stratified split by percentages. */
    mode: z.enum(['given', 'random']),
    /** Percentages (0–100) used in 'random' mode; must sum to 100. */
    train: z.number().min(0).max(100),
    val: z.number().min(0).max(100),
    test: z.number().min(0).max(100),
    /** Percentage of train moved to val in 'given' mode when the source has no val split. */
    valFromTrain: z.number().min(0).max(90),
    seed: z.number().int().min(0).max(2 ** 31 - 1),
  })
  .strict()
  .refine((s) => s.mode === 'given' || Math.abs(s.train + s.val + s.test - 100) < 1e-6, { message: 'train + val + test must be 100', path: ['train'] });
export type SplitConfig = z.infer<typeof SplitConfigSchema>;

export const DatasetSummarySchema = z.object({
  id: Id,
  name: z.string(),
  sourcePath: z.string().nullable(),
  createdAt: z.number(),
  itemCount: z.number(),
  classCount: z.number(),
  counts: z.object({ train: z.number(), val: z.number(), test: z.number() }),
  /** Size of the first image, pixels [height, width, channels], to suggest an input shape. */
  typicalShape: z.tuple([z.number(), z.number(), z.number()]).nullable(),
});
export type DatasetSummary = z.infer<typeof DatasetSummarySchema>;

export const SkippedFileSchema = z.object({ path: z.string(), reason: z.string() });
export type SkippedFile = z.infer<typeof SkippedFileSchema>;

export const ImportJobSchema = z.object({
  id: Id,
  datasetId: Id.nullable(),
  sourcePath: z.string(),
  status: z.enum(['running', 'done', 'failed', 'cancelled']),
  imported: z.number(),
  duplicates: z.number(),
  skipped: z.array(SkippedFileSchema),
  error: z.string().nullable(),
  startedAt: z.number(),
  finishedAt: z.number().nullable(),
});
export type ImportJob = z.infer<typeof ImportJobSchema>;

export const DatasetDetailSchema = DatasetSummarySchema.extend({
  classes: z.array(ClassInfoSchema),
  split: SplitConfigSchema,
  imports: z.array(ImportJobSchema),
});
export type DatasetDetail = z.infer<typeof DatasetDetailSchema>;

export const ItemSchema = z.object({
  id: Id,
  hash: z.string(),
  name: z.string(),
  classId: z.number().int().nullable(),
  split: SplitSchema.nullable(),
  width: z.number(),
  height: z.number(),
});
export type Item = z.infer<typeof ItemSchema>;

export const RunStatusSchema = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const RunSummarySchema = z.object({
  id: Id,
  name: z.string(),
  datasetId: Id,
  datasetName: z.string(),
  datasetVersionId: z.number().int().nullable(),
  preset: z.string(),
  status: RunStatusSchema,
  backend: z.string().nullable(),
  error: z.string().nullable(),
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  /** Seconds from start to finish (or to now while running). */
  durationSeconds: z.number().nullable(),
  bestValAccuracy: z.number().nullable(),
  testAccuracy: z.number().nullable(),
  testLoss: z.number().nullable(),
  samplesPerSec: z.number().nullable(),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;

export const RunDetailSchema = RunSummarySchema.extend({ spec: RunSpecSchema });
export type RunDetail = z.infer<typeof RunDetailSchema>;

/** One metric sample. Step metrics have `step` (global, 0-based); epoch metrics have `epoch` (0-based) and step null. */
export const MetricSchema = z.object({ name: z.string(), epoch: z.number().int().nullable(), step: z.number().int().nullable(), value: z.number(), time: z.number() });
export type Metric = z.infer<typeof MetricSchema>;

export const SystemInfoSchema = z.object({ version: z.string(), dataDir: z.string(), host: z.enum(['electron', 'headless']), sampleDatasetPath: z.string().nullable() });

/** Every request: params schema and result schema. */
export const requests = {
  'system.info': { params: z.object({}).strict(), result: SystemInfoSchema },
  'datasets.list': { params: z.object({}).strict(), result: z.array(DatasetSummarySchema) },
  'datasets.get': { params: z.object({ datasetId: Id }).strict(), result: DatasetDetailSchema },
  /** Start importing a folder (class folders, or split folders of class folders) or an IDX file pair / folder. Returns at once; progress arrives as `import.progress`. */
  'datasets.import': {
    params: z.object({ path: z.string().min(1).max(4096), name: z.string().min(1).max(200).optional(), datasetId: Id.optional() }).strict(),
    result: z.object({ jobId: Id }),
  },
  'datasets.items': {
    params: z.object({ datasetId: Id, offset: z.number().int().min(0), limit: z.number().int().min(1).max(5000), split: SplitSchema.optional(), classId: Id.optional() }).strict(),
    result: z.object({ total: z.number(), items: z.array(ItemSchema) }),
  },
  'datasets.setSplit': { params: z.object({ datasetId: Id, split: SplitConfigSchema }).strict(), result: DatasetDetailSchema },
  'datasets.delete': { params: z.object({ datasetId: Id }).strict(), result: z.object({ ok: z.literal(true) }) },
  'imports.get': { params: z.object({ jobId: Id }).strict(), result: ImportJobSchema },
  'imports.cancel': { params: z.object({ jobId: Id }).strict(), result: z.object({ ok: z.boolean() }) },
  'runs.list': { params: z.object({ datasetId: Id.optional() }).strict(), result: z.array(RunSummarySchema) },
  'runs.get': { params: z.object({ runId: Id }).strict(), result: RunDetailSchema },
  /** Validate and start a run. Invalid specs are refused with an error naming the field. */
  'runs.start': { params: z.object({ spec: z.unknown(), name: z.string().max(200).optional() }).strict(), result: z.object({ runId: Id }) },
  'runs.cancel': { params: z.object({ runId: Id }).strict(), result: z.object({ ok: z.boolean() }) },
  'runs.metrics': { params: z.object({ runId: Id }).strict(), result: z.array(MetricSchema) },
} as const;

export type RequestName = keyof typeof requests;
export type Params<N extends RequestName> = z.input<(typeof requests)[N]['params']>;
export type Result<N extends RequestName> = z.infer<(typeof requests)[N]['result']>;

/** Every event pushed from main to the UI. */
export const events = {
  'import.progress': z.object({ jobId: Id, datasetId: Id.nullable(), phase: z.enum(['scanning', 'importing', 'thumbnails']), done: z.number(), total: z.number(), skipped: z.number() }),
  'import.finished': ImportJobSchema,
  'run.status': z.object({ runId: Id, status: RunStatusSchema, backend: z.string().nullable(), error: z.string().nullable() }),
  'run.progress': z.object({
    runId: Id,
    epoch: z.number().int(),
    epochs: z.number().int(),
    step: z.number().int(),
    totalSteps: z.number().int(),
    loss: z.number(),
    samplesPerSec: z.number(),
    etaSeconds: z.number(),
  }),
  'run.metrics': z.object({ runId: Id, metrics: z.array(MetricSchema) }),
} as const;

export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.infer<(typeof events)[E]>;

/** Errors carried across a transport. `field` names the offending params field when known. */
export interface ApiErrorShape {
  message: string;
  code: 'invalid_params' | 'not_found' | 'conflict' | 'internal';
  field?: string;
}

/** The typed client the renderer uses, whatever the transport. */
export interface LayerwiseApi {
  call<N extends RequestName>(name: N, params: Params<N>): Promise<Result<N>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** URL of an item's thumbnail (PNG, at most 128 px on the long side) or full image. */
  imageUrl(hash: string, kind: 'thumb' | 'full'): string;
}

/** Wire messages (WebSocket JSON text frames, and the IPC payloads). */
export const WireRequestSchema = z.object({ id: z.number().int(), method: z.string().max(100), params: z.unknown() }).strict();
export type WireRequest = z.infer<typeof WireRequestSchema>;
export type WireResponse = { id: number; result: unknown } | { id: number; error: ApiErrorShape };
export type WireEvent = { event: EventName; payload: unknown };
