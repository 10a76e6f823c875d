/**
 * Run kinds (issue 11): a run is a `network` (./spec.ts RunSpec: a model trained by the
 * engine; stored runs without `kind` are networks), a `features` baseline (a pre-trained
 * backbone's node activations → optional PCA → classifier) or a `classic` baseline
 * (hand-crafted descriptors from ./descriptors.ts, concatenated → optional PCA → classifier).
 * The lecture's two baselines beside every network: "get activation values of higher conv
 * and/or dense layers → PCA → SVM, random forest", and colour / HoG / LBP + a linear classifier.
 *
 * Features are standardized (mean 0, sd 1 per dimension, fitted on the training split only)
 * before PCA and the classifier. Zod only.
 */
import { z } from 'zod';
import { DescriptorSpecSchema, describeDescriptor } from './descriptors';
import { SpecError, zodField } from './errors';
import { InputRangeSchema } from './pretrained';
import { formatZodError, parseRunSpec, RUN_DEFAULTS, RunSpecSchema, type RunSpec } from './spec';

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** Support vector machine (libsvm: C-SVC; Chang & Lin 2011). `gamma` of the RBF kernel exp(−γ‖x−y‖²); absent: 1 / (features · variance of the training inputs), scikit-learn's 'scale'. */
export const SvmSpecSchema = z
  .object({
    type: z.literal('svm'),
    kernel: z.enum(['linear', 'rbf']).default('linear').meta({ label: 'Kernel' }),
    C: z.number().positive().max(1e6).default(1).meta({ label: 'C', step: 0.1 }),
    gamma: z.number().positive().max(1e3).optional().meta({ label: 'γ', description: 'RBF only; absent: 1 / (features × variance of the inputs)' }),
    /** Platt-scaled class probabilities (libsvm -b 1); false: one-hot of the decision. */
    probability: z.boolean().default(true).meta({ label: 'Probabilities' }),
  })
  .strict()
  .meta({ label: 'SVM' });

/** Random forest (Breiman 2001; ml-random-forest). `maxFeatures`: fraction of features tried per split; absent: √features / features. */
export const RandomForestSpecSchema = z
  .object({
    type: z.literal('randomForest'),
    nEstimators: int(1, 1000).default(100).meta({ label: 'Trees' }),
    maxFeatures: z.number().gt(0).max(1).optional().meta({ label: 'Max features (fraction)' }),
    maxDepth: int(1, 64).optional().meta({ label: 'Max depth' }),
    /** Fraction of the training set each tree sees (with replacement). */
    maxSamples: z.number().gt(0).max(1).default(1).meta({ label: 'Samples per tree (fraction)' }),
  })
  .strict()
  .meta({ label: 'Random forest' });

/** Multinomial logistic (softmax) regression by full-batch gradient descent on the mean cross-entropy + ½·l2·‖W‖² (bias not penalised). */
export const LogisticRegressionSpecSchema = z
  .object({
    type: z.literal('logisticRegression'),
    l2: z.number().min(0).max(100).default(1e-3).meta({ label: 'L2' }),
    learningRate: z.number().positive().max(100).default(0.5).meta({ label: 'Learning rate' }),
    epochs: int(1, 100_000).default(300).meta({ label: 'Iterations' }),
  })
  .strict()
  .meta({ label: 'Logistic regression' });

export const ClassifierSpecSchema = z.discriminatedUnion('type', [SvmSpecSchema, RandomForestSpecSchema, LogisticRegressionSpecSchema]);
export type ClassifierSpec = z.infer<typeof ClassifierSpecSchema>;
export type ClassifierSpecInput = z.input<typeof ClassifierSpecSchema>;

/** PCA on the standardized training features; `components` is capped at min(train count, features) when fitted. */
export const PcaSpecSchema = z.object({ components: int(1, 100_000).meta({ label: 'PCA components' }) }).strict();
export type PcaSpec = z.infer<typeof PcaSpecSchema>;

/** Image size h × w × c the pixels are packed at (the pack's cover resize + centre crop). */
const InputShapeSchema = z.tuple([int(4, 1024), int(4, 1024), z.union([z.literal(1), z.literal(3)])]);

const baselineFields = {
  datasetId: z.number().int().positive().meta({ label: 'Dataset' }),
  pca: PcaSpecSchema.optional(),
  classifier: ClassifierSpecSchema,
  seed: int(0, 2 ** 31 - 1).default(RUN_DEFAULTS.seed).meta({ label: 'Seed' }),
};

/** Off-the-shelf features: the activations of `node` of a pre-trained model file (TFLite, src/shared/models/tflite), flattened. */
export const BackboneFeaturesSchema = z
  .object({
    file: z.string().min(1).meta({ label: 'Model file' }),
    /** SHA-256 (hex) of the file when recorded. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    /** A node of the file's graph whose output is the feature vector (e.g. its global pooling). */
    node: z.string().min(1).meta({ label: 'Node' }),
    inputRange: InputRangeSchema,
  })
  .strict();
export type BackboneFeatures = z.infer<typeof BackboneFeaturesSchema>;

export const FeaturesRunSpecSchema = z
  .object({
    kind: z.literal('features'),
    ...baselineFields,
    backbone: BackboneFeaturesSchema,
    /** The backbone's input size (from the file). */
    inputShape: InputShapeSchema,
  })
  .strict();
export type FeaturesRunSpec = z.infer<typeof FeaturesRunSpecSchema>;

export const ClassicRunSpecSchema = z
  .object({
    kind: z.literal('classic'),
    ...baselineFields,
    /** One descriptor, or several whose vectors are concatenated in this order. */
    descriptors: z.array(DescriptorSpecSchema).min(1).max(8),
    inputShape: InputShapeSchema.default([64, 64, 3]),
  })
  .strict();
export type ClassicRunSpec = z.infer<typeof ClassicRunSpecSchema>;

export const BaselineRunSpecSchema = z.discriminatedUnion('kind', [FeaturesRunSpecSchema, ClassicRunSpecSchema]);
export type BaselineRunSpec = z.infer<typeof BaselineRunSpecSchema>;
export type BaselineRunSpecInput = z.input<typeof BaselineRunSpecSchema>;

/** A network run spec with its kind written out (stored specs without `kind` are networks). */
export const NetworkRunSpecSchema = RunSpecSchema;

/** Any run's spec: a network (kind absent or 'network'), features or classic. */
export const AnyRunSpecSchema = z.union([BaselineRunSpecSchema, RunSpecSchema]);
export type AnyRunSpec = BaselineRunSpec | RunSpec;
export type RunKind = 'network' | BaselineRunSpec['kind'];

/** The kind of a parsed (or stored) spec: 'network' when it has no `kind`. */
export function runKindOf(spec: object): RunKind {
  const kind = (spec as { kind?: unknown }).kind;
  return kind === 'features' || kind === 'classic' ? kind : 'network';
}

export const isBaselineSpec = (spec: AnyRunSpec): spec is BaselineRunSpec => runKindOf(spec) !== 'network';

/**
 * Parse any run spec: a `kind` of 'features' or 'classic' is checked against its schema,
 * anything else (no kind, 'network') by parseRunSpec.
 * @throws SpecError naming the field path.
 */
export function parseAnyRunSpec(input: unknown): AnyRunSpec {
  const kind = input && typeof input === 'object' ? (input as { kind?: unknown }).kind : undefined;
  if (kind === 'features' || kind === 'classic') {
    const r = BaselineRunSpecSchema.safeParse(input);
    if (!r.success) throw new SpecError(formatZodError(r.error), zodField(r.error));
    return r.data;
  }
  if (kind !== undefined && kind !== 'network') throw new SpecError(`kind: expected 'network', 'features' or 'classic', got ${JSON.stringify(kind)}`, 'kind');
  const { kind: _k, ...rest } = input as Record<string, unknown>;
  void _k;
  return parseRunSpec(rest);
}

/** A short label of a classifier: "linear SVM C=1", "RBF SVM C=10 γ=0.01", "random forest 100", "logistic regression". */
export function describeClassifier(c: ClassifierSpec): string {
  switch (c.type) {
    case 'svm':
      return `${c.kernel === 'rbf' ? 'RBF' : 'linear'} SVM C=${c.C}${c.gamma !== undefined ? ` γ=${c.gamma}` : ''}`;
    case 'randomForest':
      return `random forest ${c.nEstimators}`;
    case 'logisticRegression':
      return 'logistic regression';
  }
}

/** The base name of a file path (no node:path in shared). */
const baseName = (p: string): string => p.split(/[\\/]/).pop()!.replace(/\.[^.]+$/, '');

/** The features a baseline reads, in words: "HoG 9×8px×2 + LBP …" or "mobilenet_v1_0.5_160_quant:features/pool". */
export function describeFeatures(spec: BaselineRunSpec): string {
  return spec.kind === 'classic' ? spec.descriptors.map(describeDescriptor).join(' + ') : `${baseName(spec.backbone.file)}:${spec.backbone.node}`;
}

/** A baseline's pipeline in words: features → PCA n → classifier. */
export function describeBaseline(spec: BaselineRunSpec): string {
  return [describeFeatures(spec), spec.pca ? `PCA ${spec.pca.components}` : null, describeClassifier(spec.classifier)].filter(Boolean).join(' → ');
}

/** What a baseline job records beside its predictions (`<run>/baseline.json`): sizes and seconds of its pipeline. */
export const BaselineReportSchema = z.object({
  featureDim: z.number().int(),
  pcaComponents: z.number().int().nullable(),
  /** Fraction of the standardized training variance the kept components explain. */
  pcaExplained: z.number().nullable(),
  /** Numbers the fitted pipeline keeps: the backbone's weights up to its node (a features run), standardizer, PCA, classifier. */
  parameters: z.number().int(),
  /** Of those, the backbone's (0 for descriptors; absent in reports written before it was recorded). */
  backboneParameters: z.number().int().optional(),
  featureSeconds: z.number(),
  featuresCached: z.boolean(),
  fitSeconds: z.number(),
  /** Seconds per image to classify: its features' extraction (measured when they were computed; the same for a run reading them from the cache) and the classifier. */
  inferenceSecondsPerImage: z.number(),
  /** Of those, the classifier's (standardizer, PCA and classifier on the features; absent in reports written before it was recorded). */
  classifierSecondsPerImage: z.number().optional(),
  trainCount: z.number().int(),
  /** The random forest's feature importance (per input of the classifier). */
  featureImportance: z.array(z.number()).optional(),
});
export type BaselineReport = z.infer<typeof BaselineReportSchema>;
