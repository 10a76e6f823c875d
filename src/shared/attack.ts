/**
 * Adversarial examples (issue 10): what an attack job is asked (the API, the CLI and the
 * engine message share `AttackParamsSchema`) and what it answers (`AttackResultSchema`).
 * ε and step sizes are in pixel units (/255): ε = 8 means 8/255 of the pixel range, whatever
 * the model's input range (a model that takes [−1, 1] sees 2·8/255); see src/engine/attack.ts.
 */
import { z } from 'zod';

/** FGSM (Goodfellow et al. 2015, §3) or PGD with a random start (Madry et al. 2018, §2.1). */
export const AttackMethodSchema = z.enum(['fgsm', 'pgd']);
export type AttackMethod = z.infer<typeof AttackMethodSchema>;

/**
 * The target of an attack: 'none' (untargeted: push away from the true label), 'next'
 * (targeted at class (label + 1) mod numClasses) or a class index (targeted at that class).
 */
export const AttackTargetSchema = z.union([z.literal('none'), z.literal('next'), z.number().int().min(0)]);
export type AttackTarget = z.infer<typeof AttackTargetSchema>;

export const AttackParamsSchema = z.object({
  methods: z.array(AttackMethodSchema).min(1).default(['fgsm', 'pgd']),
  /** ε values in pixel units (/255), each in [0, 255]; 0 gives the clean accuracy. */
  epsilons: z.array(z.number().min(0).max(255)).min(1).max(32).default([0, 1, 2, 4, 8]),
  /** PGD iterations (K of PGD-K). */
  steps: z.number().int().min(1).max(1000).default(10),
  /** PGD step size α in pixel units; absent: 2.5·ε/steps (the robustness library's rule, Madry lab). */
  stepSize: z.number().positive().max(255).optional(),
  target: AttackTargetSchema.default('none'),
  split: z.enum(['train', 'val', 'test']).default('test'),
  /** At most this many images of the split (a seeded sample); 0: all. */
  maxImages: z.number().int().min(0).default(1000),
  /** Images of the sample shown in the gallery (the first of the sample). */
  galleryCount: z.number().int().min(0).max(64).default(8),
  /** Seeds the sample and PGD's random starts. */
  seed: z.number().int().min(0).default(0),
  /** The model's input range (src/engine/preprocess.ts): 'unit' [0, 1] for the models we build; main sets it from the run. */
  inputRange: z.enum(['unit', 'symmetric']).default('unit'),
  /** Keep every sample image's adversarial example of this method and ε (rounded to 8 bits) for `attack.saveDataset`. */
  save: z.object({ method: AttackMethodSchema, epsilon: z.number().min(0).max(255) }).strict().optional(),
  /** Where the engine writes the kept images (uint8 NHWC, then `<saveFile>.json`); set by main only. */
  saveFile: z.string().optional(),
});
/** The params a client may send (main sets the input range and the save file). */
export const AttackRequestSchema = AttackParamsSchema.omit({ inputRange: true, saveFile: true }).partial();
export type AttackParams = z.infer<typeof AttackParamsSchema>;

/** One point of the accuracy-vs-ε curve. */
export const AttackPointSchema = z.object({
  method: AttackMethodSchema,
  /** Pixel units (/255). */
  epsilon: z.number(),
  /** Fraction of the images still classified as their label, in [0, 1]. */
  accuracy: z.number(),
  /** Targeted attacks: fraction predicted as the target; null when untargeted. */
  targetRate: z.number().nullable(),
  count: z.number().int(),
});
export type AttackPoint = z.infer<typeof AttackPointSchema>;

/** A prediction: class index and its softmax probability. */
const PredictionSchema = z.object({ predicted: z.number().int(), confidence: z.number() });

/** One gallery image attacked by one method at one ε. */
export const AttackGalleryEntrySchema = PredictionSchema.extend({
  method: AttackMethodSchema,
  epsilon: z.number(),
  /** The adversarial image, base64 of uint8 NHWC pixels (rounded to 8 bits for display: a perturbation under 0.5/255 vanishes there). */
  adversarial: z.string(),
  /** The perturbation δ amplified for display, base64 uint8: 127.5 + amplification·δ·255 (δ in pixel fractions), clipped to 0…255. */
  perturbation: z.string(),
  /** How much the shown perturbation is amplified: 127.5/ε (±ε shows as black … white); 0 at ε = 0. */
  amplification: z.number(),
});
export type AttackGalleryEntry = z.infer<typeof AttackGalleryEntrySchema>;

export const AttackGalleryItemSchema = z.object({
  /** Index of the image in the pack (item order). */
  packIndex: z.number().int(),
  label: z.number().int(),
  /** Targeted attacks: the target class; null when untargeted. */
  target: z.number().int().nullable(),
  clean: PredictionSchema,
  /** The original image, base64 uint8 NHWC. */
  original: z.string(),
  entries: z.array(AttackGalleryEntrySchema),
});
export type AttackGalleryItem = z.infer<typeof AttackGalleryItemSchema>;

export const AttackResultSchema = z.object({
  params: AttackParamsSchema,
  /** Clean accuracy of the sample (equals the ε = 0 points). */
  cleanAccuracy: z.number(),
  count: z.number().int(),
  points: z.array(AttackPointSchema),
  gallery: z.object({ height: z.number().int(), width: z.number().int(), channels: z.number().int(), classNames: z.array(z.string()), items: z.array(AttackGalleryItemSchema) }),
  seconds: z.number(),
  /** The adversarial images kept (params.save): how many; absent when none were asked for. */
  saved: z.object({ method: AttackMethodSchema, epsilon: z.number(), count: z.number().int() }).optional(),
});
export type AttackResult = z.infer<typeof AttackResultSchema>;

/**
 * PGD's step size in pixel units: `stepSize` when given, else 2.5·ε/steps (so K steps can
 * cross the ε-ball from a random start; the default of Madry lab's robustness library).
 */
export function pgdStepSize(epsilon: number, steps: number, stepSize?: number): number {
  return stepSize ?? (2.5 * epsilon) / steps;
}

/**
 * Adversarial training (Goodfellow et al. 2015 §6 with FGSM; Madry et al. 2018 §5 with PGD-k):
 * in every training batch a `ratio` share of the images (the first of the shuffled batch) is
 * replaced by its adversarial example at ε against the current weights (model in inference
 * mode), the rest stays clean. `robustEpsilon` > 0 adds the metric `val_robust_accuracy`: the
 * accuracy under PGD-`robustSteps` at that ε on up to `robustImages` validation images, each epoch.
 * ε in pixel units (/255).
 */
export const AdversarialTrainingSpecSchema = z
  .object({
    method: z.enum(['none', 'fgsm', 'pgd']).default('none').meta({ label: 'Adversarial training', optionLabels: { none: 'Off', fgsm: 'FGSM', pgd: 'PGD-k' } }),
    ratio: z.number().min(0).max(1).default(0.5).meta({ label: 'Adversarial share of a batch', unit: 'fraction', step: 0.1 }),
    epsilon: z.number().min(0).max(255).default(8).meta({ label: 'Training ε', unit: '/255', step: 1 }),
    steps: z.number().int().min(1).max(100).default(7).meta({ label: 'PGD steps (training)' }),
    robustEpsilon: z.number().min(0).max(255).default(0).meta({ label: 'Robust accuracy at ε', unit: '/255', description: '0 = not measured', step: 1 }),
    robustSteps: z.number().int().min(1).max(100).default(10).meta({ label: 'PGD steps (robust accuracy)' }),
    robustImages: z.number().int().min(1).max(100_000).default(500).meta({ label: 'Validation images (robust accuracy)', step: 100 }),
  })
  .strict()
  .meta({ label: 'Adversarial robustness' });
export type AdversarialTrainingSpec = z.infer<typeof AdversarialTrainingSpecSchema>;

/** The defaults of AdversarialTrainingSpec (off, nothing measured). */
export const ADVERSARIAL_DEFAULTS: AdversarialTrainingSpec = AdversarialTrainingSpecSchema.parse({});
