/**
 * The run spec of a fine-tune from a model file (issue 13): what `layerwise spec --pretrained
 * FILE` writes (to train with `layerwise train --spec OUT`) and the API's `models.pretrainedSpec`
 * answers (the New-run page's Pre-trained choice). The file is read by its model reader
 * (src/shared/models/tflite); the spec holds the backbone up to its global pooling and a new
 * head (src/shared/pretrained.ts fineTuneSpec), the freeze point of the chosen rule, the
 * backbone's input range, the file's absolute path and SHA-256, and — when a labels file is
 * given and every class name matches one of its lines — the head's start from those classes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ApiError } from '../../shared/errors';
import { readTfjsExport } from '../../shared/models/tfjs';
import { readTflite } from '../../shared/models/tflite';
import { fineTuneSpec, fineTuneTraining, freezePoint, matchClasses, type FreezeChoice, type PretrainedSpec } from '../../shared/pretrained';
import type { DatasetDetail } from '../../shared/api';
import { defaultLearningRate, RUN_DEFAULTS, type GraphModelSpec } from '../../shared/spec';

export interface PretrainedOptions {
  /** The dataset's class names in class-index order (their count is the head's size). */
  classNames: string[];
  /** A labels file: one name per output of the file's classifier (ImageNet's imagenet_labels.txt). */
  labels?: string;
  freeze: FreezeChoice;
  /** Dropout rate before the new head (0: none). */
  dropout?: number;
  /** The dataset's training images per epoch, for the fine-tune's batch size (fineTuneTraining); absent: unknown. */
  trainCount?: number;
}

/** The labels files looked for beside a TFLite model file when none is given (the TFLite image-classification examples ship them so). */
export const LABELS_BESIDE = ['imagenet_labels.txt', 'labels.txt'] as const;

/** A labels file beside a model file (LABELS_BESIDE, in that order), or null. */
export function labelsBeside(modelFile: string): string | null {
  for (const name of LABELS_BESIDE) {
    const p = join(dirname(resolve(modelFile)), name);
    if (existsSync(p)) return p;
  }
  return null;
}

const readOrFail = (path: string, what: string, field: string): Buffer => {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ApiError('invalid_params', `${field}: cannot read the ${what} ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, field);
  }
};

/**
 * The model and pretrained parts of a fine-tune's run spec from a `.tflite` file or a Layerwise
 * TF.js export's `model.json` (its classes from signature.json start the head when they match).
 * @returns them and a line saying what was made (backbone, freeze point, head start)
 * @throws ApiError invalid_params (field 'file' or 'labels') when a file cannot be read,
 *   the model file is not a TFLite model this reader maps, or it has no global pooling node.
 */
export function pretrainedRunSpec(
  file: string,
  o: PretrainedOptions,
): { model: GraphModelSpec; pretrained: PretrainedSpec; training: { batchSize: number; optimizer: { type: 'adam'; learningRate: number } }; labels: string | null; summary: string } {
  const path = resolve(file);
  // A Layerwise TF.js export (its model.json; signature.json and the weights beside it), else a TFLite file.
  const tfjs = extname(path).toLowerCase() === '.json';
  const bytes = tfjs ? null : readOrFail(path, 'model file', 'file');
  const imported = bytes ? readTflite(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path) : readTfjsExport((name) => readOrFail(join(dirname(path), name), 'export file', 'file'), path);
  const { spec: model, featureNode } = fineTuneSpec(imported.spec, o.classNames.length, o.dropout ?? 0);
  const freezeUpTo = freezePoint(model, featureNode, o.freeze);
  let headInit: number[] | undefined;
  let head = 'a new head from the seed';
  // A labels file beside a TFLite model (imagenet_labels.txt) is used unless one is given.
  const labelsFile = o.labels ? resolve(o.labels) : tfjs ? null : labelsBeside(path);
  // A TF.js export names its classes itself (signature.json): a run on the same classes starts with its head.
  const labels = labelsFile ? readOrFail(labelsFile, 'labels file', 'labels').toString('utf8').split(/\r?\n/) : 'classes' in imported ? [...imported.classes] : null;
  if (labels) {
    if (labels.at(-1) === '') labels.pop();
    const match = matchClasses(o.classNames, labels);
    if (match.every((m) => m !== null)) {
      headInit = match as number[];
      head = `the head from the file's classes ${o.classNames.map((c, i) => `${c} → "${labels[headInit![i]]}"`).join(', ')}`;
    } else head = `a new head from the seed (no single label for ${o.classNames.filter((_, i) => match[i] === null).join(', ')})`;
  }
  const pretrained: PretrainedSpec = {
    format: tfjs ? 'tfjs' : 'tflite',
    file: path,
    ...(bytes ? { sha256: createHash('sha256').update(bytes).digest('hex') } : {}),
    backbone: basename(path, extname(path)),
    inputRange: imported.inputRange,
    resize: 'cover',
    freezeUpTo,
    featureNode,
    foldedBatchNorm: imported.foldedBatchNorm,
    ...(headInit ? { headInit } : {}),
  };
  const ft = fineTuneTraining(o.trainCount ?? null, { batchSize: RUN_DEFAULTS.batchSize, learningRate: defaultLearningRate(RUN_DEFAULTS.optimizer) });
  const found = labelsFile && !o.labels ? ` (labels from ${basename(labelsFile)} beside the model file)` : '';
  const summary = `${pretrained.backbone}: ${model.nodes.length} nodes, input ${model.inputShape.join('×')} in ${imported.inputRange === 'symmetric' ? '[−1, 1]' : '[0, 1]'}, ${o.classNames.length} classes; frozen up to ${freezeUpTo ?? '(nothing)'}; ${head}${found}${imported.foldedBatchNorm ? '; batch normalization folded into the convolutions' : ''}; ${ft.note}`;
  return { model, pretrained, training: { batchSize: ft.batchSize, optimizer: { type: RUN_DEFAULTS.optimizer, learningRate: ft.learningRate } }, labels: labelsFile, summary };
}

/**
 * `models.pretrainedSpec`: the fine-tune's model and pretrained parts for a dataset, its class
 * names in class-index order giving the head's size and (with `labels`) its start.
 * @throws ApiError as pretrainedRunSpec; not_found from `datasets.get` for an unknown dataset.
 */
export async function pretrainedSpecForDataset(
  datasets: { get(datasetId: number): DatasetDetail | Promise<DatasetDetail> },
  p: { file: string; datasetId: number; freeze: FreezeChoice; labels?: string; dropout?: number },
): Promise<ReturnType<typeof pretrainedRunSpec>> {
  const ds = await datasets.get(p.datasetId);
  const classNames = [...ds.classes].sort((a, b) => a.index - b.index).map((c) => c.name);
  return pretrainedRunSpec(p.file, { classNames, labels: p.labels, freeze: p.freeze, dropout: p.dropout, trainCount: ds.counts.train });
}
