/**
 * The one API contract between the UI and the services. `src/main` implements each
 * request once and validates every incoming params object with these schemas; the
 * renderer reaches them over Electron IPC (preload) or WebSocket (headless host).
 *
 * (One file of ~410 lines on purpose: the whole request table is read as one list, so a
 * method is found and its params compared at a glance; larger schemas live beside it,
 * e.g. ./import-preview.ts, ./spec.ts.)
 */
import { z } from 'zod';
import { ExecutorSettingsSchema, SlurmJobInfoSchema } from './executor';
import { METRIC_NAMES, MetricNameSchema } from './metrics';
import { StepProgressShape } from './engine-protocol';
import type { ApiErrorShape } from './errors';
import { classNameProblem } from './class-name';
import { ImportPreviewSchema, PreviewImportParamsSchema } from './import-preview';
import { AttackRequestSchema, AttackResultSchema } from './attack';
import { ClassifyParamsSchema, ClassifyResultSchema, ExportParamsSchema, ExportResultSchema } from './export';
import { EngineJobSchema, InspectOpSchema, InspectResultSchema, RunCheckpointsSchema } from './inspect';
import { LrRangeResultSchema } from './lr-range';
import { AugmentPreviewSchema } from './augment-preview';
import { ModelSpecSchema, RunSpecSchema } from './spec';
import { BackboneFeaturesSchema, BaselineReportSchema } from './run-kinds';
import { PipelineRowSchema } from './pipelines';
import { FreezeChoiceSchema, PretrainedSpecSchema } from './pretrained';
import { QueueInfoSchema, SweepDetailSchema, SweepSummarySchema } from './sweep-api';

export const SplitSchema = z.enum(['train', 'val', 'test']);
export type Split = z.infer<typeof SplitSchema>;

const Id = z.number().int().positive();

/** A class name: 1–100 characters after trimming, no control characters, valid Unicode (classNameProblem). */
export const ClassNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .superRefine((name, ctx) => {
    const problem = classNameProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', message: `class name ${problem}` });
  });

/** `counts`: the class's labeled images that are not excluded, per split and in all (excluded ones: DatasetSummary.excludedCount). */
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
  /** Every image, excluded ones too (src/main/services/counts.ts has the one counting rule). */
  itemCount: z.number(),
  /** Excluded images (kept, never trained on): counted here, not in `counts` nor in class counts. Always set by the host. */
  excludedCount: z.number().int().optional(),
  classCount: z.number(),
  /** Images per split that are not excluded, labeled or not. */
  counts: z.object({ train: z.number(), val: z.number(), test: z.number() }),
  /** Typical image shape, pixels [height, width, channels]: the median height and width over all images, 1 channel only when every image is grey (R = G = B); suggests the input shape (input-shape.ts). */
  typicalShape: z.tuple([z.number(), z.number(), z.number()]).nullable(),
  /** Over all images: how many, the median size (as shown, after EXIF orientation), and how many are grey (R = G = B everywhere). */
  imageStats: z.object({ count: z.number().int(), medianHeight: z.number(), medianWidth: z.number(), grey: z.number().int() }).nullable().optional(),
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
  /** Skipped files with their reasons: the first SKIP_LIST_LIMIT (1,000) of them. */
  skipped: z.array(SkippedFileSchema),
  /** Every skipped file, counted (may exceed `skipped.length`), and the counts by kind of reason. */
  skippedTotal: z.number().int().optional(),
  skippedByReason: z.array(z.object({ reason: z.string(), count: z.number().int() })).optional(),
  /** Known images found under another class folder than the one they are in: not changed. Counts per (class, folder); the first 1,000 files. */
  conflicts: z
    .object({
      total: z.number().int(),
      byClass: z.array(z.object({ existingClass: z.string().nullable(), foundClass: z.string(), count: z.number().int() })),
      files: z.array(z.object({ path: z.string(), existingClass: z.string().nullable(), foundClass: z.string() })),
    })
    .optional(),
  /** Imported items worth a look: another format than the rest of their class, or a size far from its typical size (thumbnail at /image/thumb/<hash>). */
  worthALook: z.array(z.object({ itemId: Id, hash: z.string(), name: z.string(), className: z.string().nullable(), reason: z.string() })).optional(),
  error: z.string().nullable(),
  startedAt: z.number(),
  finishedAt: z.number().nullable(),
  /** The dataset's live classes and labelled images after the job (absent while unknown). */
  labels: z.object({ classes: z.number().int(), labeled: z.number().int() }).optional(),
  /** What the user should know about the result: e.g. no classes found, and the three ways to get labels (noClassesNotice). */
  notice: z.string().nullable().optional(),
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

/**
 * One entry of a dataset's history in words: an undo group (a user action: labels, class
 * merge / delete, exclusion, split move; `id` its group id) or an import (`id` 0,
 * `importJobId` set, never undoable). `count`: images it changed (imported).
 */
export const LabelGroupSchema = z.object({
  id: z.number().int(),
  importJobId: Id.nullable(),
  kind: z.enum(['assign', 'merge', 'delete-class', 'exclude', 'move', 'import']),
  time: z.number(),
  source: LabelSourceSchema,
  undone: z.boolean(),
  count: z.number().int(),
  /** What happened, e.g. "12 images labeled “cat”", "3 images moved to val", "5,000 images imported into 10 classes". */
  text: z.string(),
});
export type LabelGroup = z.infer<typeof LabelGroupSchema>;

/** `itemCount`: the images the version froze for training: labeled, not excluded, with a split (the class counts' train + val + test then). */
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
  /** The split counted: the one asked for, else the first of test, val, train that has images in the run. */
  split: SplitSchema,
  /** How many of the run's predictions fall in each split (a split with 0 has no matrix). */
  splitCounts: z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int() }),
  /** Class ids in row/column order. */
  classIds: z.array(Id),
  classNames: z.array(z.string()),
  /** counts[true][predicted]. */
  counts: z.array(z.array(z.number().int())),
  accuracy: z.number(),
});
export type ConfusionMatrix = z.infer<typeof ConfusionMatrixSchema>;

/**
 * Whether a run's suggestions are shown: only when the model is clearly better than chance,
 * i.e. the lower end of the 95 % Wilson interval of its accuracy on `split` (val, else
 * test; null: neither has images) is above that split's majority-class rate.
 */
export const SuggestionGateSchema = z.object({
  passed: z.boolean(),
  split: z.enum(['val', 'test']).nullable(),
  /** Images of `split` and how many the model got right; accuracy = correct / n (null when n = 0). */
  n: z.number().int(),
  correct: z.number().int(),
  accuracy: z.number().nullable(),
  /** 95 % Wilson score interval of the accuracy. */
  lower: z.number(),
  upper: z.number(),
  /** The most frequent given class of `split` and its share: what always answering it scores. */
  majorityClassId: z.number().int().nullable(),
  majorityRate: z.number(),
});
export type SuggestionGate = z.infer<typeof SuggestionGateSchema>;

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

/** A run's status; 'interrupted': its process stopped during it (host restart, crash), resumable like a cancelled one (migration 010). */
export const RunStatusSchema = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted']);
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
  /** The run's tags (sorted) and note (runs.update); absent from hosts before migration 006. */
  tags: z.array(z.string()).optional(),
  note: z.string().optional(),
  /** The 0-based epoch whose weights gave the test metrics and predictions (the best by the early-stopping monitor, else the last); null before the end. Absent from hosts before migration 008. */
  bestEpoch: z.number().int().nullable().optional(),
  /** Early stopping ended the run before its last epoch. */
  stoppedEarly: z.boolean().optional(),
  /** Times the run was resumed (runs.resume). */
  resumed: z.number().int().optional(),
  /** Accuracy under PGD at `robustEpsilon` (/255) on validation images (metric val_robust_accuracy) at the tested epoch, else the last measured; null when not measured (issue 10). */
  valRobustAccuracy: z.number().nullable().optional(),
  robustEpsilon: z.number().nullable().optional(),
  /** A fine-tune's pre-trained backbone (spec.pretrained.backbone), else null: the Runs list names the model by it (src/shared/model-name.ts). */
  backbone: z.string().nullable().optional(),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;

/** `spec`: a network's RunSpec; a features / classic run's spec (src/shared/run-kinds.ts) arrives here too (tell them apart with `isBaselineSpec`; the union in this schema is left to do, see issue 11's report). */
export const RunDetailSchema = RunSummarySchema.extend({ spec: RunSpecSchema });
export type RunDetail = z.infer<typeof RunDetailSchema>;

/** One metric sample. Step metrics have `step` (global, 0-based); epoch metrics have `epoch` (0-based) and step null. */
export const MetricSchema = z.object({ name: MetricNameSchema, epoch: z.number().int().nullable(), step: z.number().int().nullable(), value: z.number(), time: z.number() });
export type Metric = z.infer<typeof MetricSchema>;

/** A run tag: 1–50 characters after trimming, no control characters. */
export const RunTagSchema = z.string().trim().min(1).max(50).regex(/^[^\p{Cc}]*$/u, 'a tag has no control characters');

/** A run as Compare shows it: its detail, the epochs it finished and the (1-based) epoch of its best validation accuracy. */
export const CompareRunSchema = RunDetailSchema.extend({ epochsDone: z.number().int(), bestValEpoch: z.number().int().nullable(), valRobustAccuracy: z.number().nullable() });
export type CompareRun = z.infer<typeof CompareRunSchema>;

/** One metric of one run in columns (the order written): step / epoch as in MetricSchema. */
export const MetricColumnsSchema = z.object({
  runId: Id,
  name: MetricNameSchema,
  step: z.array(z.number().int().nullable()),
  epoch: z.array(z.number().int().nullable()),
  value: z.array(z.number()),
  time: z.array(z.number()),
});
export type MetricColumns = z.infer<typeof MetricColumnsSchema>;

export const SystemInfoSchema = z.object({
  version: z.string(),
  dataDir: z.string(),
  host: z.enum(['electron', 'headless']),
  sampleDatasetPath: z.string().nullable(),
  /** Whether a usable (hardware) GPU adapter exists, found once by an engine process; `detail` names it or says why not. Backend 'gpu' is refused without one. */
  gpu: z.object({ available: z.boolean(), detail: z.string() }).optional(),
});

/** Every request: params schema and result schema. */
export const requests = {
  'system.info': { params: z.object({}).strict(), result: SystemInfoSchema },
  'datasets.list': { params: z.object({}).strict(), result: z.array(DatasetSummarySchema) },
  'datasets.get': { params: z.object({ datasetId: Id }).strict(), result: DatasetDetailSchema },
  /** Start importing a folder (class folders, or split folders of class folders) or an IDX file pair / folder. Returns at once; progress arrives as `import.progress`. */
  'datasets.import': {
    params: z.object({ path: z.string().min(1).max(4096), name: z.string().min(1).max(200).optional(), datasetId: Id.optional(), labelPattern: PreviewImportParamsSchema.shape.labelPattern }).strict(),
    result: z.object({ jobId: Id }),
  },
  /** What importing `path` would store (splits × classes, counts, file types, samples, warnings); stores nothing. */
  'datasets.previewImport': { params: PreviewImportParamsSchema, result: ImportPreviewSchema },
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
  /** A fine-tune from a pre-trained model file on the host (src/main/services/pretrained.ts): the model (backbone to its pooling, a head for the dataset's classes) and the run spec's `pretrained` part, to start with runs.start. `labels`: the file's labels, to start the head from classes named like the dataset's. */
  'models.pretrainedSpec': {
    params: z.object({ file: z.string().min(1).max(4096), datasetId: Id, freeze: FreezeChoiceSchema.default('likeImagenet'), labels: z.string().min(1).max(4096).optional(), dropout: z.number().min(0).lt(1).optional() }).strict(),
    /** `training`: the fine-tune defaults for the dataset (src/shared/pretrained.ts fineTuneTraining); `labels`: the labels file used (given, or found beside the model file), null when none. */
    result: z.object({ model: ModelSpecSchema, pretrained: PretrainedSpecSchema, training: z.object({ batchSize: z.number().int(), optimizer: z.object({ type: z.literal('adam'), learningRate: z.number() }) }), labels: z.string().nullable(), summary: z.string() }),
  },
  'runs.cancel': { params: z.object({ runId: Id }).strict(), result: z.object({ ok: z.boolean() }) },
  /** Continue a cancelled, interrupted or failed run after its last whole checkpoint, optimizer state included (from the start without one); it is queued again under its id. */
  'runs.resume': { params: z.object({ runId: Id }).strict(), result: z.object({ runId: Id, fromEpoch: z.number().int().nullable() }) },
  /** A new run with the same spec and seed (the same numbers on the same backend and thread count). */
  'runs.rerun': { params: z.object({ runId: Id, name: z.string().max(200).optional() }).strict(), result: z.object({ runId: Id }) },
  /** The learning-rate range test (Smith 2017; src/shared/lr-range.ts) of a spec on its dataset: loss by rate, the suggested rate. A short engine job; nothing is stored. */
  'runs.lrRange': { params: z.object({ spec: z.unknown(), params: z.unknown().optional() }).strict(), result: LrRangeResultSchema },
  /** The first `count` training images of a spec as the engine will train on them (same shuffle, augmentation code and seed; src/shared/augment-preview.ts), with PNGs. */
  'runs.augmentPreview': { params: z.object({ spec: z.unknown(), count: z.number().int().min(1).max(64).optional() }).strict(), result: AugmentPreviewSchema },
  'runs.metrics': { params: z.object({ runId: Id }).strict(), result: z.array(MetricSchema) },
  // ---- baselines (issue 11, src/shared/run-kinds.ts): features and classic runs start with runs.start ----
  /** What a features or classic run recorded beside its predictions (sizes, seconds); null for a network or before the end. */
  'runs.baselineReport': { params: z.object({ runId: Id }).strict(), result: BaselineReportSchema.nullable() },
  /** The Pipelines table of a dataset: one row per run of any kind, of one version (default: the newest version any run used). */
  'runs.pipelines': { params: z.object({ datasetId: Id, datasetVersionId: Id.optional() }).strict(), result: z.object({ datasetVersionId: z.number().int().nullable(), versions: z.array(z.number().int()), rows: z.array(PipelineRowSchema) }) },
  /** A TFLite backbone on the host for a features run: its nodes, the default node (last global pooling), input shape and range. */
  'models.backbone': {
    params: z.object({ file: z.string().min(1).max(4096), node: z.string().min(1).max(200).optional() }).strict(),
    result: z.object({ backbone: BackboneFeaturesSchema, inputShape: z.tuple([z.number().int(), z.number().int(), z.union([z.literal(1), z.literal(3)])]), nodes: z.array(z.string()), defaultNode: z.string() }),
  },
  // ---- inside a trained model (src/shared/inspect.ts): engine jobs on a checkpoint, progress as `job.progress` ----
  /** A run's checkpoint epochs, the default (best by validation accuracy), its class names. */
  'inspect.checkpoints': { params: z.object({ runId: Id }).strict(), result: RunCheckpointsSchema },
  /** Start an inspect job on the checkpoint of `epoch` (default: the best); returns at once. */
  'inspect.start': { params: z.object({ runId: Id, epoch: z.number().int().min(0).optional(), op: InspectOpSchema }).strict(), result: z.object({ jobId: Id }) },
  /** A completed inspect job's answer (the last 16 jobs are kept). */
  'inspect.result': { params: z.object({ jobId: Id }).strict(), result: InspectResultSchema },
  'jobs.get': { params: z.object({ jobId: Id }).strict(), result: EngineJobSchema },
  'jobs.cancel': { params: z.object({ jobId: Id }).strict(), result: z.object({ ok: z.boolean() }) },
  /** Start an adversarial-example job (src/shared/attack.ts): accuracy vs ε (FGSM, PGD) and a gallery on a split of the run's data, on the checkpoint of `epoch` (default: the best). */
  'attack.start': { params: z.object({ runId: Id, epoch: z.number().int().min(0).optional(), params: AttackRequestSchema }).strict(), result: z.object({ jobId: Id }) },
  /** A completed attack job's answer (kept as inspect results are). */
  'attack.result': { params: z.object({ jobId: Id }).strict(), result: AttackResultSchema },
  /** Import the adversarial images a completed attack job kept (params.save) as a new dataset, as 8-bit PNGs in class folders (ε < 1/255 cannot be held); returns the import job. */
  'attack.saveDataset': { params: z.object({ jobId: Id, name: z.string().max(200).optional() }).strict(), result: z.object({ importJobId: Id, name: z.string() }) },
  /** Write a run's checkpoint (default: the best epoch) as ONNX or TF.js with signature.json into a folder on the host (default `<run folder>/export/<format>-epoch-<n>`), optionally zipped (src/shared/export.ts). */
  'runs.export': { params: ExportParamsSchema.strict(), result: ExportResultSchema },
  /** Classify image files (bytes, base64) with a run's checkpoint: top-k classes each, decoded and preprocessed as the run's training images were. */
  'runs.classify': { params: ClassifyParamsSchema.strict(), result: ClassifyResultSchema },
  /**
   * Several runs at once for Compare: their details in the order asked, the samples of the
   * metrics named (absent: all; [] none) in columns, and how many samples each run has per
   * metric (to ask for large ones in batches under MAX_MESSAGE_BYTES). `offset` / `limit`:
   * only samples [offset, offset + limit) of each column (in the order written), for a run too
   * long for one answer. Refused, field `runIds`, when a run does not exist or the samples
   * asked for exceed MAX_COMPARE_SAMPLES (src/shared/compare.ts).
   */
  'runs.compare': {
    params: z
      .object({ runIds: z.array(Id).min(1).max(100), names: z.array(MetricNameSchema).max(METRIC_NAMES.length).optional(), offset: z.number().int().min(0).optional(), limit: z.number().int().min(1).optional() })
      .strict(),
    /** `missing`: the ids asked for that are not there (deleted runs), left out of `runs`. */
    result: z.object({ runs: z.array(CompareRunSchema), metrics: z.array(MetricColumnsSchema), sampleCounts: z.array(z.object({ runId: Id, name: MetricNameSchema, count: z.number().int() })), missing: z.array(Id) }),
  },
  /** Set a run's tags (the whole set) and / or note. */
  'runs.update': { params: z.object({ runId: Id, tags: z.array(RunTagSchema).max(50).optional(), note: z.string().max(10_000).optional() }).strict(), result: RunDetailSchema },
  /** Delete a finished run with its metrics, predictions, suggestions and its folder (checkpoints). A queued or running run is refused (conflict: cancel it first). */
  'runs.delete': { params: z.object({ runId: Id }).strict(), result: z.object({ ok: z.literal(true) }) },

  // ---- labeling ----
  /** Ids of every item matching a filter (for Ctrl+A on the filtered set). At most 200,000. */
  'items.ids': { params: z.object({ datasetId: Id }).extend(ItemFilterSchema.shape).strict(), result: z.object({ ids: z.array(Id) }) },
  /** Label items (classId null = make unlabeled). One undo group. Refuses a class of another dataset. */
  'labels.assign': {
    params: z.object({ datasetId: Id, itemIds: z.array(Id).min(1).max(200_000), classId: Id.nullable(), source: LabelSourceSchema.exclude(['import']).default('user') }).strict(),
    result: z.object({ changed: z.number().int(), groupId: z.number().int() }),
  },
  /** Undo / redo the dataset's latest action (labels, class merge / delete, exclusion, split move); survives restarts (stored groups). */
  'labels.undo': { params: z.object({ datasetId: Id }).strict(), result: z.object({ groupId: z.number().int().nullable(), changed: z.number().int() }) },
  'labels.redo': { params: z.object({ datasetId: Id }).strict(), result: z.object({ groupId: z.number().int().nullable(), changed: z.number().int() }) },
  'labels.history': {
    params: z.object({ datasetId: Id, itemId: Id.optional(), limit: z.number().int().min(1).max(1000).default(100) }).strict(),
    result: z.object({ events: z.array(LabelEventSchema), groups: z.array(LabelGroupSchema).optional(), canUndo: z.boolean(), canRedo: z.boolean() }),
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
  'classes.add': { params: z.object({ datasetId: Id, name: ClassNameSchema, color: z.string().regex(/^#[0-9a-fA-F]{6}$/).optional() }).strict(), result: ClassInfoSchema },
  'classes.update': {
    params: z.object({ classId: Id, name: ClassNameSchema.optional(), color: z.string().regex(/^#[0-9a-fA-F]{6}$/).optional() }).strict(),
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
  /** Confusion matrix of a run on `split`; absent: the first of test, val, train with images. A split without images is refused (field split). */
  'runs.confusion': { params: z.object({ runId: Id, split: SplitSchema.optional() }).strict(), result: ConfusionMatrixSchema },
  /** A run's suggested label errors, and the gate that decides whether there are any (none from a model no better than chance). */
  'suggestions.list': {
    params: z.object({ runId: Id, status: z.enum(['open', 'accepted', 'rejected', 'excluded', 'all']).default('open'), limit: z.number().int().min(1).max(5000).default(200) }).strict(),
    result: z.object({ suggestions: z.array(LabelSuggestionSchema), total: z.number().int(), gate: SuggestionGateSchema.optional() }),
  },
  /** accept = relabel to the suggested class (label event with source 'suggestion'); exclude = mark excluded. */
  'suggestions.resolve': { params: z.object({ runId: Id, itemId: Id, action: z.enum(['accept', 'reject', 'exclude']) }).strict(), result: z.object({ ok: z.literal(true) }) },
  /** A sweep (`spec`: a SweepSpec, src/shared/sweep.ts) and its runs, queued; refused naming the field (`sweep.grid[0].values`, or the variant and spec field). */
  'sweeps.create': { params: z.object({ spec: z.unknown(), name: z.string().max(120).optional() }).strict(), result: z.object({ sweepId: Id, runIds: z.array(Id) }) },
  'sweeps.list': { params: z.object({}).strict(), result: z.array(SweepSummarySchema) },
  /** A sweep with its variants, runs and ablation table (src/shared/sweep-table.ts). */
  'sweeps.get': { params: z.object({ sweepId: Id }).strict(), result: SweepDetailSchema },
  /** Cancel a sweep's queued and running runs. */
  'sweeps.cancel': { params: z.object({ sweepId: Id }).strict(), result: z.object({ cancelled: z.number().int() }) },
  'queue.get': { params: z.object({}).strict(), result: QueueInfoSchema },
  /** Runs trained at once; each later engine gets floor(cores / concurrency) threads (src/main/services/runs/threads.ts). */
  'queue.setConcurrency': { params: z.object({ concurrency: z.number().int().min(1).max(64) }).strict(), result: QueueInfoSchema },
  /** Issue 12: the run queue's executor (local or Slurm) and Slurm's settings (src/shared/executor.ts). */
  'executor.get': { params: z.object({}).strict(), result: ExecutorSettingsSchema },
  'executor.set': { params: ExecutorSettingsSchema, result: ExecutorSettingsSchema },
  /** The Slurm job of a run (job id, state, node, reason), null when it trained locally. */
  'executor.job': { params: z.object({ runId: Id }).strict(), result: SlurmJobInfoSchema.nullable() },
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
  /** A features or classic run moved on (src/engine/baseline/job.ts): phase 'features' (done of total images), 'fit', 'predict' (fractions). */
  'run.baselineProgress': z.object({ runId: Id, phase: z.string(), done: z.number(), total: z.number() }),
  /** Labels, classes, exclusions or splits of a dataset changed (from any client). */
  'dataset.changed': z.object({ datasetId: Id, what: z.enum(['labels', 'classes', 'items', 'splits']) }),
  /** An engine job (inspect, attack) moved on / ended. */
  'job.progress': EngineJobSchema,
  'job.finished': EngineJobSchema,
} as const;

export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.infer<(typeof events)[E]>;

/** The import preview's shapes (defined in ./import-preview.ts). */
export type { ImportPreview, PreviewSample, PreviewWarning } from './import-preview';

/** Errors carried across a transport (defined with ApiError in ./errors.ts). */
export type { ApiErrorCode, ApiErrorShape } from './errors';

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
