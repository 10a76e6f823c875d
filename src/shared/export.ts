/**
 * Models out of the app (issue 13): the export formats, the `signature.json` written beside
 * every exported model (what a program outside the app needs to feed it: class names in output
 * order, the input tensor, and the exact preprocessing — the lesson of Lobe's "same prediction
 * for every input" reports, a preprocessing mismatch), and the wire shapes of export and
 * classify (predict) requests. Zod only.
 */
import { z } from 'zod';
import { ModelSpecSchema } from './layers';
import type { InputRange } from './pretrained';

export const ExportFormatSchema = z.enum(['onnx', 'tfjs']).meta({ label: 'Format', optionLabels: { onnx: 'ONNX (opset 13)', tfjs: 'TF.js layers (model.json)' } });
export type ExportFormat = z.infer<typeof ExportFormatSchema>;

/**
 * Version of the signature.json layout (bumped when a field changes meaning). 2: the
 * preprocessing is stated once, as scale and offset (version 1 also gave the same map as
 * mean/std); a version-1 file still reads, its scale and offset meaning the same.
 */
export const SIGNATURE_VERSION = 2;

export const SignatureSchema = z.object({
  format: ExportFormatSchema,
  signatureVersion: z.number().int().min(1).max(SIGNATURE_VERSION),
  /** Files of the model inside the export folder (e.g. ["model.onnx"], ["model.json", "weights.bin"]). */
  files: z.array(z.string()),
  run: z.object({ id: z.number().int(), epoch: z.number().int(), preset: z.string() }),
  /** Class names, index k = output k. */
  classes: z.array(z.string()),
  input: z.object({
    name: z.string(),
    /** [batch, height, width, channels]; batch is null (any). */
    shape: z.tuple([z.null(), z.number().int(), z.number().int(), z.number().int()]),
    dtype: z.literal('float32'),
    layout: z.literal('NHWC'),
  }),
  outputs: z.array(z.object({ name: z.string(), shape: z.tuple([z.null(), z.number().int()]), meaning: z.string() })),
  /** The run's network as a graph ModelSpec (node names = the TF.js layer names): what a run started from this export builds. */
  model: ModelSpecSchema.optional(),
  /**
   * What a consumer applies to an image file to get the input tensor, in this order: decode,
   * channels, resize, then x = pixel · scale + offset for every uint8 value (all channels). One
   * map, stated once.
   */
  preprocessing: z.object({
    /** Decode: EXIF orientation applied; alpha composited onto white; 8 bits per channel. */
    decode: z.string(),
    /** 'RGB' (3 channels, sRGB) or 'L' (1 channel, sRGB luminance). */
    channelOrder: z.enum(['RGB', 'L']),
    resize: z.object({
      /** 'cover': scale so the image covers width × height (keeping its aspect), then crop the centre. */
      rule: z.literal('cover'),
      crop: z.literal('centre'),
      width: z.number().int(),
      height: z.number().int(),
      /** The interpolation (libvips / sharp's default lanczos3). */
      kernel: z.literal('lanczos3'),
      /** Not resized at all when the image already has width × height. */
      skipWhenSameSize: z.literal(true),
    }),
    /** x = pixel · scale + offset, pixel the uint8 value 0…255. */
    scale: z.number(),
    offset: z.number(),
    /** [min, max] of x that map gives (offset, 255 · scale + offset): information, not a second step. */
    range: z.tuple([z.number(), z.number()]),
  }),
});
export type Signature = z.infer<typeof SignatureSchema>;

/**
 * The preprocessing part of a signature for a model of `inputShape` [h, w, c] in `range`
 * ('unit': x/255; 'symmetric': x/127.5 − 1) — the same numbers src/engine/preprocess.ts uses.
 */
export function preprocessingOf(inputShape: readonly [number, number, number], range: InputRange): Signature['preprocessing'] {
  const [height, width, c] = inputShape;
  const scale = range === 'unit' ? 1 / 255 : 1 / 127.5;
  const offset = range === 'unit' ? 0 : -1;
  return {
    decode: 'EXIF orientation applied; alpha composited onto white; 8 bits per channel',
    channelOrder: c === 1 ? 'L' : 'RGB',
    resize: { rule: 'cover', crop: 'centre', width, height, kernel: 'lanczos3', skipWhenSameSize: true },
    scale,
    offset,
    range: [offset, 255 * scale + offset],
  };
}

/** A signature's map in words, for people: "x = pixel / 127.5 − 1" (a scale of 1/n written as "/ n"); the JSON keeps the exact numbers. */
export function preprocessText(p: Pick<Signature['preprocessing'], 'scale' | 'offset' | 'range'>): string {
  const inv = 1 / p.scale;
  const times = Math.abs(inv - Math.round(inv * 2) / 2) < 1e-9 ? `/ ${Math.round(inv * 2) / 2}` : `· ${p.scale}`;
  const plus = p.offset === 0 ? '' : p.offset < 0 ? ` − ${-p.offset}` : ` + ${p.offset}`;
  return `x = pixel ${times}${plus} → [${p.range.join(', ')}]`;
}

/** `runs.export`: write a run's checkpoint (default: the best epoch) as `format` into `outDir` (default `<run folder>/export/<format>`); `zip`: also a `.zip` of the folder. */
export const ExportParamsSchema = z.object({
  runId: z.number().int().positive(),
  format: ExportFormatSchema,
  epoch: z.number().int().min(0).optional(),
  outDir: z.string().min(1).optional(),
  zip: z.boolean().default(false),
});
export type ExportParams = z.infer<typeof ExportParamsSchema>;
export const ExportResultSchema = z.object({ dir: z.string(), files: z.array(z.string()), zip: z.string().nullable(), signature: SignatureSchema });
export type ExportResult = z.infer<typeof ExportResultSchema>;

/** `runs.classify`: images (file bytes, base64) through a run's checkpoint, top-k classes each. */
export const ClassifyParamsSchema = z.object({
  runId: z.number().int().positive(),
  epoch: z.number().int().min(0).optional(),
  images: z.array(z.object({ name: z.string().max(1000), dataBase64: z.string() })).min(1).max(256),
  top: z.number().int().min(1).max(100).default(5),
});
export type ClassifyParams = z.infer<typeof ClassifyParamsSchema>;
export const ClassPredictionSchema = z.object({ index: z.number().int(), name: z.string(), probability: z.number() });
/** One image of a classification: its top-k and all probabilities, or (`error`) why that file could not be classified (the others still are). */
export const ClassifiedImageSchema = z.union([
  z.object({ name: z.string(), top: z.array(ClassPredictionSchema).min(1), probabilities: z.array(z.number()) }),
  /** A file that does not decode: the importer's reason ("corrupt PNG: …", "not an image: unrecognised format (.txt)"), no path or stack. */
  z.object({ name: z.string(), error: z.string() }),
]);
export type ClassifiedImage = z.infer<typeof ClassifiedImageSchema>;
export const ClassifyResultSchema = z.object({
  epoch: z.number().int(),
  classes: z.array(z.string()),
  /** One row per image, in the order given. */
  images: z.array(ClassifiedImageSchema),
});
export type ClassifyResult = z.infer<typeof ClassifyResultSchema>;

/** How many images of `r` could not be classified. */
export function classifyErrors(r: ClassifyResult): number {
  return r.images.filter((im) => 'error' in im).length;
}

/** A CSV field (RFC 4180 quoting). */
const csvField = (v: string | number): string => (typeof v === 'number' ? String(v) : /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * CSV lines of a classification (the CLI's --csv, the run page's "Save CSV"): header, then per
 * image file, predicted class, its probability, one probability per class, and the error (empty
 * when classified; the other cells empty when not).
 */
export function predictionsCsv(r: ClassifyResult): string[] {
  return [
    ['file', 'predicted', 'probability', ...r.classes.map((c) => `p(${c})`), 'error'].map(csvField).join(','),
    ...r.images.map((im) =>
      ('error' in im ? [im.name, '', '', ...r.classes.map(() => ''), im.error] : [im.name, im.top[0].name, im.top[0].probability, ...im.probabilities, '']).map(csvField).join(','),
    ),
  ];
}
