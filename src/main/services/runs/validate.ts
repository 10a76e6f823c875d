/**
 * What RunService.start checks before a run row exists, beyond the spec schema: that the
 * dataset can train a classifier at all (at least two labeled classes), that a
 * requested GPU exists, and that a pre-trained backbone's file is there as the spec records it. Each refusal is an ApiError invalid_params naming its field, with
 * the figures a user needs to fix it.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { DatasetDetail } from '../../../shared/api';
import { ApiError } from '../../../shared/errors';
import type { PretrainedSpec } from '../../../shared/pretrained';
import type { GpuInfo } from '../../gpu-probe';

const plural = (n: number, word: string): string => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/**
 * The raw spec's `datasetId` when it is a positive integer (so that the dataset can be
 * checked before the spec's own schema, whose numClasses message would hide the cause).
 */
export function rawDatasetId(spec: unknown): number | null {
  const id = spec && typeof spec === 'object' ? (spec as { datasetId?: unknown }).datasetId : undefined;
  return typeof id === 'number' && Number.isInteger(id) && id > 0 ? id : null;
}

/**
 * Refuse a dataset with fewer than two labeled classes: a labeled class is a live class
 * with at least one labeled, non-excluded image (ClassInfo.counts.total).
 * @throws ApiError invalid_params, field `datasetId`, naming how many classes and labeled
 *   images the dataset has and the three ways to get labels.
 */
export function assertTrainable(ds: DatasetDetail): void {
  const labeled = ds.classes.filter((c) => c.counts.total > 0);
  if (labeled.length >= 2) return;
  const images = labeled.reduce((s, c) => s + c.counts.total, 0);
  const which = labeled.length === 1 ? ` ("${labeled[0].name}")` : '';
  const empty = ds.classes.length - labeled.length;
  throw new ApiError(
    'invalid_params',
    `datasetId: the dataset "${ds.name}" has ${plural(labeled.length, 'labeled class')}${which} and ${plural(images, 'labeled image')}` +
      `${empty > 0 ? ` (${plural(empty, 'more class')} without images)` : ''}; a classifier needs labeled images of at least two classes. ` +
      'Get labels from class folders, from a file-name pattern at import, or by labeling images in the app',
    'datasetId',
  );
}

/**
 * Refuse backend 'gpu' when the host found no usable adapter.
 * @throws ApiError invalid_params, field `backend`.
 */
export function assertBackend(backend: string, gpu: GpuInfo | null): void {
  if (backend !== 'gpu' || !gpu || gpu.available) return;
  throw new ApiError('invalid_params', `backend: 'gpu' was chosen but this machine has no usable GPU (${gpu.detail}); choose 'auto' or 'cpu'`, 'backend');
}

/**
 * Refuse a pre-trained backbone whose file the engine could not use: a relative path (the
 * engine runs in another working directory), a file that cannot be read, or one whose SHA-256
 * differs from the spec's.
 * @throws ApiError invalid_params, field `pretrained.file`.
 */
export async function assertPretrainedFile(p: PretrainedSpec | undefined): Promise<void> {
  if (!p) return;
  if (!isAbsolute(p.file)) throw new ApiError('invalid_params', `pretrained.file: "${p.file}" is not an absolute path`, 'pretrained.file');
  let bytes: Buffer;
  try {
    bytes = await readFile(p.file);
  } catch (e) {
    throw new ApiError('invalid_params', `pretrained.file: cannot read ${p.file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'pretrained.file');
  }
  if (p.sha256) {
    const got = createHash('sha256').update(bytes).digest('hex');
    if (got !== p.sha256) throw new ApiError('invalid_params', `pretrained.file: ${p.file} has SHA-256 ${got}, the spec records ${p.sha256} (the file changed since the spec was made)`, 'pretrained.file');
  }
}
