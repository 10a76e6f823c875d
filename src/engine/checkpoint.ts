/**
 * Checkpoints in the TF.js layers format (model.json + weights.bin), written and read with
 * node:fs because tfjs-node (and its file:// handler) is not available.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve, isAbsolute } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { MonitorState, PlateauState } from './schedules';

/**
 * Save `model` as `<dir>/model.json` and `<dir>/weights.bin`, loadable with
 * `tf.loadLayersModel` (file:// in tfjs-node, or fromMemory with the parsed files).
 * @returns the path of model.json
 * @throws Error when the folder cannot be created or written.
 */
export async function saveCheckpoint(model: tfl.LayersModel, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const jsonPath = join(dir, 'model.json');
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData == null ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? 'layerwise',
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      await writeFile(join(dir, 'weights.bin'), new Uint8Array(weightData));
      await writeFile(jsonPath, JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return jsonPath;
}

/** A checkpoint file that is missing or damaged; `file` is its path, and the message names it. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`checkpoint ${file}: ${reason}`);
  }
}

/** Bytes per element of each dtype a weights manifest may name (tfjs io's DTYPE_VALUE_SIZE_MAP; no quantization). */
const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, uint8: 1 };

/** The parsed model.json and the weights it names, read and checked (sizes against the manifest). */
export interface CheckpointArtifacts {
  modelJson: tf.io.ModelJSON;
  artifacts: tf.io.ModelArtifacts;
}

/**
 * Read `<dir>/model.json` and the weight files its manifest names, checking what can be
 * checked before tfjs sees them: the JSON parses, has a layers topology and a manifest, every
 * weight file lies inside `dir`, and the files' total size equals the manifest's
 * (Σ prod(shape) · bytes per dtype).
 * @throws CheckpointError naming the file that is missing, unreadable, unparsable or of the wrong size.
 */
export async function readCheckpointArtifacts(dir: string): Promise<CheckpointArtifacts> {
  const jsonPath = join(dir, 'model.json');
  const read = async (file: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CheckpointError(file, code === 'ENOENT' ? 'missing' : `unreadable (${code ?? String(e)})`);
    }
  };
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse((await read(jsonPath)).toString('utf8')) as tf.io.ModelJSON;
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(jsonPath, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof modelJson !== 'object' || modelJson === null || typeof modelJson.modelTopology !== 'object' || modelJson.modelTopology === null)
    throw new CheckpointError(jsonPath, 'no modelTopology');
  if (!Array.isArray(modelJson.weightsManifest)) throw new CheckpointError(jsonPath, 'no weightsManifest');
  const root = resolve(dir);
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of modelJson.weightsManifest) {
    let expected = 0;
    for (const w of group.weights) {
      const size = BYTES_PER_ELEMENT[w.dtype];
      if (size === undefined || w.quantization) throw new CheckpointError(jsonPath, `weight ${w.name}: dtype ${w.dtype}${w.quantization ? ' (quantized)' : ''} not supported`);
      expected += w.shape.reduce((a, b) => a * b, 1) * size;
      weightSpecs.push(w);
    }
    let actual = 0;
    const files: string[] = [];
    for (const p of group.paths) {
      const file = resolve(root, p);
      const rel = relative(root, file);
      if (rel.startsWith('..') || isAbsolute(rel)) throw new CheckpointError(jsonPath, `weights path ${p} lies outside the checkpoint folder`);
      const b = await read(file);
      actual += b.length;
      buffers.push(b);
      files.push(file);
    }
    if (actual !== expected) throw new CheckpointError(files.join(', ') || jsonPath, `${actual} bytes, the manifest names ${expected} (truncated or damaged)`);
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.length) as ArrayBuffer;
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: modelJson.modelTopology,
    format: modelJson.format,
    generatedBy: modelJson.generatedBy,
    convertedBy: modelJson.convertedBy,
    weightSpecs,
    weightData,
  };
  if (modelJson.userDefinedMetadata) artifacts.userDefinedMetadata = modelJson.userDefinedMetadata;
  return { modelJson, artifacts };
}

/**
 * Load a checkpoint written by `saveCheckpoint` (or any TF.js layers model in `dir`) into a
 * tfjs LayersModel with its weights, on the current backend. The caller disposes the model.
 * @throws CheckpointError naming the file when model.json or a weights file is missing or damaged,
 * including a topology tfjs cannot build (named as model.json).
 */
export async function readCheckpoint(dir: string): Promise<tfl.LayersModel> {
  const { artifacts } = await readCheckpointArtifacts(dir);
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new CheckpointError(join(dir, 'model.json'), `cannot be loaded (${(e as Error).message})`);
  }
}

/**
 * Load a checkpoint's weights into `model` (built from the same spec: weights matched by
 * name, every one required), keeping the model's own layer classes (e.g. the native batch norm).
 * @throws CheckpointError naming the file when it is missing or damaged or its weights do not fit the model.
 */
export async function loadCheckpointWeights(model: tfl.LayersModel, dir: string): Promise<void> {
  const { artifacts } = await readCheckpointArtifacts(dir);
  const named = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
  try {
    model.loadWeights(named, true);
  } catch (e) {
    throw new CheckpointError(join(dir, 'weights.bin'), `does not fit the model (${(e as Error).message})`);
  } finally {
    tf.dispose(Object.values(named));
  }
}

/** Where training stood after a checkpoint's epoch, written beside it as `train-state.json` (last: its presence means the checkpoint is whole). */
export interface TrainState {
  /** The 0-based epoch the checkpoint ends. */
  epoch: number;
  /** Global steps done (the next step's dropout seed). */
  globalStep: number;
  /** Seconds spent in training steps and samples trained, for the run's samples/s. */
  trainSeconds: number;
  trainSamples: number;
  /** The monitors' states (src/engine/schedules.ts) and whether early stopping had stopped. */
  earlyStopping: MonitorState;
  plateau: PlateauState | null;
  stopped: boolean;
  /** Adam's running β₁ᵗ, β₂ᵗ (restored as they were: tfjs' setWeights recomputes them by pow, a few ulps off the product). */
  adamAccBeta?: [number, number];
}

export const TRAIN_STATE_FILE = 'train-state.json';

interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

/**
 * Write the optimizer's state (`optimizer.bin` + `optimizer.json`: tfjs `getWeights()` —
 * the iteration count and the slots, Adam's m and v, momentum's accumulators, RMSProp's
 * averages, in the optimizer's order) and then `train-state.json` into `dir`.
 */
export async function saveTrainState(dir: string, optimizer: tf.Optimizer, state: TrainState): Promise<void> {
  const weights = await optimizer.getWeights();
  try {
    const { data, specs } = await tf.io.encodeWeights(weights);
    await writeFile(join(dir, 'optimizer.bin'), new Uint8Array(data));
    await writeFile(join(dir, 'optimizer.json'), JSON.stringify({ className: optimizer.getClassName(), weights: specs }));
  } finally {
    // getWeights() makes the iteration scalar; the slots are the optimizer's own variables.
    for (const w of weights) if (w.name === 'iter') w.tensor.dispose();
  }
  const adam = optimizer.getClassName() === 'Adam' ? (optimizer as unknown as AdamInternals) : null;
  const full: TrainState = adam ? { ...state, adamAccBeta: [adam.accBeta1.dataSync()[0], adam.accBeta2.dataSync()[0]] } : state;
  await writeFile(join(dir, TRAIN_STATE_FILE), JSON.stringify(full));
}

/**
 * Read `train-state.json` and restore the optimizer's state from `dir` into `optimizer`
 * (a fresh optimizer of the same class whose variables come in the same order).
 * @throws CheckpointError naming the file that is missing, damaged or of another optimizer.
 */
export async function loadTrainState(dir: string, optimizer: tf.Optimizer): Promise<TrainState> {
  const statePath = join(dir, TRAIN_STATE_FILE);
  const jsonPath = join(dir, 'optimizer.json');
  const binPath = join(dir, 'optimizer.bin');
  const readJson = async (file: string): Promise<unknown> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CheckpointError(file, code === 'ENOENT' ? 'missing' : `unreadable (${code ?? String(e)})`);
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new CheckpointError(file, `not valid JSON (${(e as Error).message})`);
    }
  };
  const state = (await readJson(statePath)) as TrainState;
  if (typeof state?.epoch !== 'number' || typeof state.globalStep !== 'number') throw new CheckpointError(statePath, 'no epoch / globalStep');
  const meta = (await readJson(jsonPath)) as { className?: string; weights?: tf.io.WeightsManifestEntry[] };
  if (meta.className !== optimizer.getClassName() || !Array.isArray(meta.weights)) throw new CheckpointError(jsonPath, `holds ${meta.className ?? 'no'} optimizer state, the run uses ${optimizer.getClassName()}`);
  let bin: Buffer;
  try {
    bin = await readFile(binPath);
  } catch (e) {
    throw new CheckpointError(binPath, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable');
  }
  const expected = meta.weights.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1) * (BYTES_PER_ELEMENT[w.dtype] ?? NaN), 0);
  if (bin.length !== expected) throw new CheckpointError(binPath, `${bin.length} bytes, optimizer.json names ${expected} (truncated or damaged)`);
  const map = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length) as ArrayBuffer, meta.weights);
  try {
    await optimizer.setWeights(meta.weights.map((w) => ({ name: w.name, tensor: map[w.name] })));
  } finally {
    tf.dispose(Object.values(map));
  }
  if (state.adamAccBeta && optimizer.getClassName() === 'Adam') {
    const adam = optimizer as unknown as AdamInternals;
    tf.tidy(() => {
      adam.accBeta1.assign(tf.scalar(state.adamAccBeta![0]));
      adam.accBeta2.assign(tf.scalar(state.adamAccBeta![1]));
    });
  }
  return state;
}
