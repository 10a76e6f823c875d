/**
 * Multi-step tasks shared by the CLI and the headless host's demo mode: wait for an
 * import, find a dataset by id or name, and build a preset run spec from plain options.
 */
import { defaultInputShape } from '../../shared/input-shape';
import type { DatasetDetail, DatasetSummary, EventPayload, ImportJob } from '../../shared/api';
import { buildPreset, defaultLearningRate, RUN_DEFAULTS, type ModelSpecInput, type PresetName, type RunSpecInput } from '../../shared/spec';
import { ApiError } from '../../shared/errors';
import type { App } from '../services/app';

/**
 * Resolve when import job `jobId` has finished (done, failed or cancelled), reporting each
 * `import.progress` event to `onProgress`.
 */
export function waitForImport(app: Pick<App, 'onEvent' | 'handle'>, jobId: number, onProgress?: (p: EventPayload<'import.progress'>) => void): Promise<ImportJob> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (job: ImportJob): void => {
      if (settled) return;
      settled = true;
      sub.dispose();
      resolve(job);
    };
    const sub = app.onEvent((e) => {
      if (e.event === 'import.progress' && e.payload.jobId === jobId) onProgress?.(e.payload);
      if (e.event === 'import.finished' && e.payload.id === jobId) settle(e.payload);
    });
    // The job may have finished before we subscribed.
    (app.handle('imports.get', { jobId }) as Promise<ImportJob>).then(
      (job) => {
        if (job.status !== 'running') settle(job);
      },
      (err) => {
        if (!settled) {
          settled = true;
          sub.dispose();
          reject(err);
        }
      },
    );
  });
}

/**
 * The dataset named by `ref`: an id ("3") or a name (exact, then case-insensitive).
 * @throws ApiError not_found when none matches; conflict when a name matches several.
 */
export async function findDataset(app: Pick<App, 'handle'>, ref: string): Promise<DatasetDetail> {
  const list = (await app.handle('datasets.list', {})) as DatasetSummary[];
  let match = /^\d+$/.test(ref) ? list.filter((d) => d.id === Number(ref)) : [];
  if (match.length === 0) match = list.filter((d) => d.name === ref);
  if (match.length === 0) match = list.filter((d) => d.name.toLowerCase() === ref.toLowerCase());
  if (match.length === 0) throw new ApiError('not_found', `dataset "${ref}" not found (see \`layerwise datasets\` or import one with \`layerwise import\`)`, 'dataset');
  if (match.length > 1) throw new ApiError('conflict', `several datasets are named "${ref}": use the id (${match.map((d) => d.id).join(', ')})`, 'dataset');
  return (await app.handle('datasets.get', { datasetId: match[0].id })) as DatasetDetail;
}

export interface PresetRunOptions {
  preset: Exclude<PresetName, 'custom'>;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  optimizer?: 'sgd' | 'momentum' | 'rmsprop' | 'adam';
  /** [height, width, channels]; default: the dataset's typical image shape, capped at 64 px per side. */
  inputShape?: [number, number, 1 | 3];
  seed?: number;
  maxTrainSamples?: number;
  /** Dropout rate; default: the preset's (0 for linear, MLP, LeNet-5; src/shared/presets-deep.ts for the others). */
  dropout?: number;
  batchNormalization?: boolean;
  /** Width multiplier α of the deep presets; default: the preset's. */
  widthMultiplier?: number;
  backend?: 'auto' | 'gpu' | 'cpu';
}


/** A run spec (not yet validated: runs.start does that) for a preset on a dataset; options left out take RUN_DEFAULTS (the form's defaults). */
export function presetRunSpec(ds: Pick<DatasetSummary, 'id' | 'classCount' | 'typicalShape'>, o: PresetRunOptions): RunSpecInput {
  const inputShape = o.inputShape ?? defaultInputShape(ds.typicalShape);
  const model = buildPreset(o.preset, { inputShape, numClasses: ds.classCount, dropoutRate: o.dropout, batchNormalization: o.batchNormalization ?? false, widthMultiplier: o.widthMultiplier });
  return modelRunSpec(ds, model, o);
}

/** A run spec (not yet validated) training `model` on a dataset with the training options of `o` (RUN_DEFAULTS where left out). */
export function modelRunSpec(ds: Pick<DatasetSummary, 'id'>, model: ModelSpecInput, o: Omit<PresetRunOptions, 'preset'>): RunSpecInput {
  const type = o.optimizer ?? RUN_DEFAULTS.optimizer;
  const lr = o.learningRate ?? defaultLearningRate(type);
  return {
    datasetId: ds.id,
    model,
    training: {
      optimizer: { type, learningRate: lr } as RunSpecInput['training']['optimizer'],
      batchSize: o.batchSize ?? RUN_DEFAULTS.batchSize,
      epochs: o.epochs ?? RUN_DEFAULTS.epochs,
      maxTrainSamples: o.maxTrainSamples ?? RUN_DEFAULTS.maxTrainSamples,
    },
    seed: o.seed ?? RUN_DEFAULTS.seed,
    backend: o.backend ?? RUN_DEFAULTS.backend,
  };
}
