/**
 * The one API contract between the UI and the services. `src/main` implements each
 * request once and validates every incoming params object with these schemas; the
 * renderer reaches them over Electron IPC (preload) or WebSocket (headless host).
 */
import { z } from 'zod';
import { StepProgressShape } from './engine-protocol';
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
  /** Excluded items are kept but never trained on. */
  excluded: z.boolean().optional(),
  excludeReason: z.string().nullable().optional(),
  /** A run's out-of-sample prediction for this item, when the items request names a run. Confidence in [0, 1]. */
  prediction: z.object({ classId: z.number().int(), confidence: z.number(), givenProbability: z.number() }).nullable().optional(),
});
export type Item = z.infer<typeof ItemSchema>;

/** Filters of the item grid. All given filters apply together. */
export const ItemFilterSchema = z
  .object({
    split: SplitSchema.optional(),
    classId: Id.optional(),
    /** Only items without a label. */
    unlabeled: z.boolean().optional(),
    /** true: only excluded items; false: only items not excluded; absent: both. */
    excluded: z.boolean().optional(),
    /** Only items added, relabeled, moved or excluded since this dataset version was frozen. */
    changedSinceVersionId: Id.optional(),
    /** With a run: attach its predictions; with predictedClassId / trueClassId: one confusion-matrix cell. */
    runId: Id.optional(),
    predictedClassId: Id.optional(),
    trueClassId: Id.optional(),
    /** Only items the run got wrong. */
    misclassified: z.boolean().optional(),
  })
  .strict();
export type ItemFilter = z.infer<typeof ItemFilterSchema>;

export const LabelSourceSchema = z.enum(['user', 'import', 'suggestion']);
/** One stored label change. A group is one user action (e.g. 1,000 images labeled at once), undone as a whole. */
export const LabelEventSchema = z.object({
  id: Id,
  groupId: z.number().int(),
  itemId: Id,
  oldClassId: z.number().int().nullable(),
  newClassId: z.number().int().nullable(),
  time: z.number(),
  source: LabelSourceSchema,
  undone: z.boolean(),
});
export type LabelEvent = z.infer<typeof LabelEventSchema>;

export const DatasetVersionSchema = z.object({ id: Id, datasetId: Id, contentHash: z.string(), itemCount: z.number(), createdAt: z.number(), runIds: z.array(Id) });
export type DatasetVersion = z.infer<typeof DatasetVersionSchema>;

/** What changed between two versions (or a version and the current state), by blob hash. */
export const VersionDiffSchema = z.object({
  added: z.array(z.object({ hash: z.string(), classId: z.number().int().nullable(), split: SplitSchema.nullable() })),
  removed: z.array(z.object({ hash: z.string(), className: z.string().nullable(), split: SplitSchema.nullable() })),
  relabeled: z.array(z.object({ hash: z.string(), from: z.string().nullable(), to: z.string().nullable() })),
  moved: z.array(z.object({ hash: z.string(), from: SplitSchema.nullable(), to: SplitSchema.nullable() })),
});
export type VersionDiff = z.infer<typeof VersionDiffSchema>;

export const NearDuplicatePairSchema = z.object({
  a: ItemSchema,
  b: ItemSchema,
  /** Hamming distance between the 64-bit perceptual hashes (0 = identical look). */
  distance: z.number().int(),
  /** One is in train and the other in test (or val): a leak. */
  leakage: z.boolean(),
});

export const ConfusionMatrixSchema = z.object({
  runId: Id,
  split: z.enum(['val', 'test']),
  /** Class ids in row/column order. */
  classIds: z.array(Id),
  classNames: z.array(z.string()),
  /** counts[true][predicted]. */
  counts: z.array(z.array(z.number().int())),
  accuracy: z.number(),
});
export type ConfusionMatrix = z.infer<typeof ConfusionMatrixSchema>;

/** A likely label error (confident learning, Northcutt et al. 2021, JAIR 70: 1373–1411). */
export const LabelSuggestionSchema = z.object({
  item: ItemSchema,
  givenClassId: Id,
  suggestedClassId: Id,
  /** p(suggested) − p(given) from the run's out-of-sample probabilities; higher = more likely an error. */
  score: z.number(),
  status: z.enum(['open', 'accepted', 'rejected', 'excluded']),
});
export type LabelSuggestion = z.infer<typeof LabelSuggestionSchema>;

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
  /** What exactly ran: kernels, thread count or GPU adapter (the engine's `ready` detail). */
  backendDetail: z.string().nullable().optional(),
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
    params: z.object({ datasetId: Id, offset: z.number().int().min(0), limit: z.number().int().min(1).max(5000) }).extend(ItemFilterSchema.shape).strict(),
    result: z.object({ total: z.number(), items: z.array(ItemSchema) }),
  },
  /** Re-split. Items now in test stay in test unless `allowFromTest` (then every split is recomputed). */
  'datasets.setSplit': { params: z.object({ datasetId: Id, split: SplitConfigSchema, allowFromTest: z.boolean().optional() }).strict(), result: DatasetDetailSchema },
  'datasets.delete': { params: z.object({ datasetId: Id }).strict(), result: z.object({ ok: z.literal(true) }) },
  'imports.get': { params: z.object({ jobId: Id }).strict(), result: ImportJobSchema },
  'imports.cancel': { params: z.object({ jobId: Id }).strict(), result: z.object({ ok: z.boolean() }) },
  'runs.list': { params: z.object({ datasetId: Id.optional() }).strict(), result: z.array(RunSummarySchema) },
  'runs.get': { params: z.object({ runId: Id }).strict(), result: RunDetailSchema },
  /** Validate and start a run. Invalid specs are refused with an error naming the field. */
  'runs.start': { params: z.object({ spec: z.unknown(), name: z.string().max(200).optional() }).strict(), result: z.object({ runId: Id }) },
  'runs.cancel': { params: z.object({ runId: Id }).strict(), result: z.object({ ok: z.boolean() }) },
  'runs.metrics': { params: z.object({ runId: Id }).strict(), result: z.array(MetricSchema) },

  // ---- labeling (issue 4) ----
  /** Ids of every item matching a filter (for Ctrl+A on the filtered set). At most 200,000. */
  'items.ids': { params: z.object({ datasetId: Id }).extend(ItemFilterSchema.shape).strict(), result: z.object({ ids: z.array(Id) }) },
  /** Label items (classId null = make unlabeled). One undo group. Refuses a class of another dataset. */
  'labels.assign': {
    params: z.object({ datasetId: Id, itemIds: z.array(Id).min(1).max(200_000), classId: Id.nullable(), source: LabelSourceSchema.exclude(['import']).default('user') }).strict(),
    result: z.object({ changed: z.number().int(), groupId: z.number().int() }),
  },
  /** Undo / redo the dataset's latest label group; survives restarts (stored events). */
  'labels.undo': { params: z.object({ datasetId: Id }).strict(), result: z.object({ groupId: z.number().int().nullable(), changed: z.number().int() }) },
  'labels.redo': { params: z.object({ datasetId: Id }).strict(), result: z.object({ groupId: z.number().int().nullable(), changed: z.number().int() }) },
  'labels.history': {
    params: z.object({ datasetId: Id, itemId: Id.optional(), limit: z.number().int().min(1).max(1000).default(100) }).strict(),
    result: z.object({ events: z.array(LabelEventSchema), canUndo: z.boolean(), canRedo: z.boolean() }),
  },
  'items.exclude': {
    params: z.object({ datasetId: Id, itemIds: z.array(Id).min(1).max(200_000), excluded: z.boolean(), reason: z.string().max(500).optional() }).strict(),
    result: z.object({ changed: z.number().int() }),
  },
  /** Manual split moves. Moving an item out of test needs `allowFromTest` (a test image never moves silently). */
  'items.move': {
    params: z.object({ datasetId: Id, itemIds: z.array(Id).min(1).max(200_000), split: SplitSchema, allowFromTest: z.boolean().default(false) }).strict(),
    result: z.object({ changed: z.number().int() }),
  },
  /** Upload files dropped on the window as unlabeled items (base64, at most 32 MiB per call). */
  'items.upload': {
    params: z.object({ datasetId: Id, files: z.array(z.object({ name: z.string().min(1).max(255), dataBase64: z.string() })).min(1).max(500) }).strict(),
    result: z.object({ imported: z.number().int(), duplicates: z.number().int(), skipped: z.array(SkippedFileSchema) }),
  },
  'classes.add': { params: z.object({ datasetId: Id, name: z.string().trim().min(1).max(100), color: z.string().regex(/^#[0-9a-fA-F]{6}$/).optional() }).strict(), result: ClassInfoSchema },
  'classes.update': {
    params: z.object({ classId: Id, name: z.string().trim().min(1).max(100).optional(), color: z.string().regex(/^#[0-9a-fA-F]{6}$/).optional() }).strict(),
    result: ClassInfoSchema,
  },
  /** Move every image of `sourceClassId` to `targetClassId` (label events, one undo group) and delete the source class. */
  'classes.merge': { params: z.object({ sourceClassId: Id, targetClassId: Id }).strict(), result: z.object({ moved: z.number().int() }) },
  /** Delete a class; its images become unlabeled. `confirmCount` must equal the number of its images (the confirmation the user saw). */
  'classes.delete': { params: z.object({ classId: Id, confirmCount: z.number().int().min(0) }).strict(), result: z.object({ unlabeled: z.number().int() }) },
  'versions.list': { params: z.object({ datasetId: Id }).strict(), result: z.array(DatasetVersionSchema) },
  /** Diff two versions; `toVersionId` absent = the current labels and splits. */
  'versions.diff': { params: z.object({ fromVersionId: Id, toVersionId: Id.optional() }).strict(), result: VersionDiffSchema },
  'duplicates.near': {
    params: z.object({ datasetId: Id, maxDistance: z.number().int().min(0).max(32).default(4), limit: z.number().int().min(1).max(5000).default(500) }).strict(),
    result: z.object({ pairs: z.array(NearDuplicatePairSchema), exactDuplicatesSkipped: z.number().int(), leakageCount: z.number().int() }),
  },
  'runs.confusion': { params: z.object({ runId: Id, split: z.enum(['val', 'test']) }).strict(), result: ConfusionMatrixSchema },
  'suggestions.list': {
    params: z.object({ runId: Id, status: z.enum(['open', 'accepted', 'rejected', 'excluded', 'all']).default('open'), limit: z.number().int().min(1).max(5000).default(200) }).strict(),
    result: z.object({ suggestions: z.array(LabelSuggestionSchema), total: z.number().int() }),
  },
  /** accept = relabel to the suggested class (label event with source 'suggestion'); exclude = mark excluded. */
  'suggestions.resolve': { params: z.object({ runId: Id, itemId: Id, action: z.enum(['accept', 'reject', 'exclude']) }).strict(), result: z.object({ ok: z.literal(true) }) },
} as const;

export type RequestName = keyof typeof requests;
export type Params<N extends RequestName> = z.input<(typeof requests)[N]['params']>;
export type Result<N extends RequestName> = z.infer<(typeof requests)[N]['result']>;

/** Every event pushed from main to the UI. */
export const events = {
  'import.progress': z.object({ jobId: Id, datasetId: Id.nullable(), phase: z.enum(['scanning', 'importing', 'thumbnails']), done: z.number(), total: z.number(), skipped: z.number() }),
  'import.finished': ImportJobSchema,
  'run.status': z.object({ runId: Id, status: RunStatusSchema, backend: z.string().nullable(), error: z.string().nullable() }),
  'run.progress': z.object({ runId: Id, ...StepProgressShape }),
  'run.metrics': z.object({ runId: Id, metrics: z.array(MetricSchema) }),
  /** Labels, classes, exclusions or splits of a dataset changed (from any client). */
  'dataset.changed': z.object({ datasetId: Id, what: z.enum(['labels', 'classes', 'items', 'splits']) }),
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
