/**
 * The import preview's contract (request `datasets.previewImport` in ./api.ts): what an
 * import of a path would store, found by the same scan as the import and stored nowhere;
 * and the one text that tells a user how to get labels when an import found no classes
 * (API ImportJob `notice`, CLI, ImportSummary.vue).
 */
import { z } from 'zod';

const Counts = z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int(), none: z.number().int(), total: z.number().int() });
/** Images per split: `none` counts images the source gives no split (the dataset's rule assigns them). */
export type SplitCounts = z.infer<typeof Counts>;

export const PreviewSampleSchema = z.object({
  /** Where the file is (a path, or `<file>#<index>` inside an IDX file). */
  path: z.string(),
  /** The item name it would get. */
  name: z.string(),
  /** A small PNG (at most 64 px a side) as a data URL; null when the file is not a usable image (its reason in `problem`). */
  thumbUrl: z.string().nullable(),
  problem: z.string().nullable(),
});
export type PreviewSample = z.infer<typeof PreviewSampleSchema>;

export const PreviewWarningSchema = z.object({
  /** Stable id of the kind of warning. */
  code: z.enum(['nested_class_folders', 'single_image_class', 'dominant_class', 'empty_split', 'split_classes_differ', 'no_classes', 'one_class', 'pattern_unmatched', 'ignored_folders', 'split_named_class', 'skipped']),
  message: z.string(),
  className: z.string().optional(),
  /** A path the user may want to preview instead (e.g. a class folder whose sub-folders look like the classes). */
  suggestedPath: z.string().optional(),
});
export type PreviewWarning = z.infer<typeof PreviewWarningSchema>;

export const ImportPreviewSchema = z.object({
  /** The path as resolved on the host. */
  path: z.string(),
  /** Importer id: 'folder' or 'idx'. */
  format: z.string(),
  /** Folder holding the split (or class) folders: `path`, or the single folder below it. */
  base: z.string(),
  /** Split folders found (folder name relative to `base` → split). Empty when the source has no splits. */
  splitFolders: z.array(z.object({ split: z.enum(['train', 'val', 'test']), folder: z.string() })),
  /** Where the class names come from. */
  labelSource: z.enum(['folders', 'pattern', 'idx', 'none']),
  labelPattern: z.string().nullable(),
  /** Classes in the order they would get (natural order of names), with counts per split and a few samples. */
  classes: z.array(z.object({ name: z.string(), counts: Counts, samples: z.array(PreviewSampleSchema) })),
  /** Images without a class. */
  unlabeled: z.object({ counts: Counts, samples: z.array(PreviewSampleSchema) }),
  /** Every file found (images and others), and how many were skipped already by the scan. */
  files: z.number().int(),
  /** File name extensions over every entry ('' = none), most common first. */
  extensions: z.array(z.object({ ext: z.string(), count: z.number().int() })),
  /** Formats by content (first bytes) over `sniffed` entries spread evenly across the source: jpeg, png, …, or 'not an image'. */
  formats: z.array(z.object({ format: z.string(), count: z.number().int() })),
  sniffed: z.number().int(),
  /** Folders and files the scan skipped, first 100 with reasons; `skippedCount` counts all. */
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
  skippedCount: z.number().int(),
  warnings: z.array(PreviewWarningSchema),
  /** When no class folders were found and unlabelled file names fit a template: the template and the classes it finds. */
  suggestedLabelPattern: z.object({ pattern: z.string(), classes: z.array(z.string()), matched: z.number().int() }).nullable(),
});
export type ImportPreview = z.infer<typeof ImportPreviewSchema>;

/** Params of `datasets.previewImport` (and the fields `datasets.import` shares with it). */
export const PreviewImportParamsSchema = z
  .object({
    path: z.string().min(1).max(4096),
    /** A file-name label pattern: `{label}_{n}`, `{label}.{n}`, or a regex with a named group `label`. */
    labelPattern: z.string().min(1).max(500).optional(),
    /** Samples (with thumbnails) per class, default 4. */
    samplesPerClass: z.number().int().min(0).max(16).optional(),
    /** Make the samples' thumbnails (default true; the CLI prints paths only). */
    thumbnails: z.boolean().optional(),
  })
  .strict();

/** The three ways to get labels, one sentence each. */
export const LABEL_WAYS = [
  'put the images in one folder per class (<folder>/<class>/image.jpg) and import again',
  'give a file-name pattern such as {label}_{n} or {label}.{n} (Label pattern in the import form, --label-pattern on the command line)',
  'label them in the app (open the dataset, then Label)',
] as const;

/** The notice of an import after which the dataset has no labelled image: says so and names the three ways to get labels. */
export function noClassesNotice(imported: number): string {
  return `No classes found: the ${imported.toLocaleString('en-US')} image${imported === 1 ? '' : 's'} of this dataset have no labels. To get labels: ${LABEL_WAYS.map((w, i) => `(${i + 1}) ${w}`).join('; ')}.`;
}
