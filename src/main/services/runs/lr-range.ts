/**
 * The learning-rate range test (src/shared/lr-range.ts, src/engine/lr-range.ts) as a short
 * engine job (./engine-job.ts): the spec is checked, its dataset packed, one engine process runs
 * the steps and answers with the points and the suggested rate. Nothing is stored.
 * The augmentation preview (src/engine/augment-preview.ts) the same way, its images as PNG.
 */
import { LrRangeParamsSchema, LrRangeResultSchema, type LrRangeResult } from '../../../shared/lr-range';
import { ApiError } from '../../../shared/errors';
import { parseRunSpec } from '../../../shared/spec';
import type { EngineLauncher } from '../../engine-launcher';
import { runEngineJob } from './engine-job';
import type { PackMeta } from '../../../shared/pack';
import sharp from 'sharp';
import { AugmentPreviewSchema, type AugmentPreview } from '../../../shared/augment-preview';

/** Seconds an LR range test may take before its engine is killed. */
export const LR_RANGE_TIMEOUT_S = 600;

/**
 * Run the test for `spec` (a RunSpec input) with `params` (defaults: 1e-6 → 1 over 100 steps).
 * @throws SpecError / ApiError invalid_params naming the field (the spec, the params, the class count);
 *   ApiError internal with the engine's reason when it fails.
 */
export async function runLrRange(
  deps: { launcher: EngineLauncher; datasets: { prepareTraining(datasetId: number, inputShape: [number, number, 1 | 3]): Promise<{ packDir: string; meta: PackMeta }> } },
  req: { spec: unknown; params?: unknown },
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<LrRangeResult> {
  const spec = parseRunSpec(req.spec);
  const pr = LrRangeParamsSchema.safeParse(req.params ?? {});
  if (!pr.success) {
    const issue = pr.error.issues[0];
    const field = ['params', ...issue.path.map(String)].join('.');
    throw new ApiError('invalid_params', `${field}: ${issue.message}`, field);
  }
  const prepared = await deps.datasets.prepareTraining(spec.datasetId, spec.model.inputShape);
  if (prepared.meta.numClasses !== spec.model.numClasses) {
    throw new ApiError('invalid_params', `model.numClasses: the dataset has ${prepared.meta.numClasses} classes but the model outputs ${spec.model.numClasses}`, 'model.numClasses');
  }
  return runEngineJob(deps.launcher, { type: 'lrRange', jobId: 1, spec, packDir: prepared.packDir, params: pr.data }, (r) => LrRangeResultSchema.parse(r), 'the learning-rate range test', {
    timeoutS: LR_RANGE_TIMEOUT_S,
    onProgress,
  });
}

/** How a short job reaches the engine and the packs. */
type JobDeps = Parameters<typeof runLrRange>[0];

/**
 * The first `count` (default 16, at most the batch size) training images of `spec` as the
 * engine will train on them, each with a PNG data URL for the page.
 * @throws SpecError naming the field; ApiError internal when the engine fails.
 */
export async function runAugmentPreview(deps: JobDeps, req: { spec: unknown; count?: number }): Promise<AugmentPreview> {
  const spec = parseRunSpec(req.spec);
  const prepared = await deps.datasets.prepareTraining(spec.datasetId, spec.model.inputShape);
  const preview = await runEngineJob(deps.launcher, { type: 'augmentPreview', jobId: 1, spec, packDir: prepared.packDir, count: req.count ?? 16 }, (r) => AugmentPreviewSchema.parse(r), 'the augmentation preview', {
    timeoutS: 120,
  });
  const { width, height, channels } = preview;
  const images = await Promise.all(
    preview.images.map(async (img) => {
      const png = await sharp(Buffer.from(img.pixelsBase64, 'base64'), { raw: { width, height, channels } }).png().toBuffer();
      return { ...img, png: `data:image/png;base64,${png.toString('base64')}` };
    }),
  );
  return { ...preview, images };
}
