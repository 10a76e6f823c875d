/**
 * Spec files and model tables for the CLI (`layerwise train --spec FILE`, `layerwise spec`,
 * `layerwise describe`): reading a JSON file that holds a whole RunSpec or just a ModelSpec,
 * errors that name the file and the field path ("spec.json: model.nodes[3].layer.filters: …"),
 * and the layer table (node, type, inputs, output shape, parameters, multiply-adds, totals).
 */
import { readFileSync } from 'node:fs';
import { ApiError, SpecError, zodField } from '../../shared/errors';
import { describeModel, formatZodError, modelTotals, ModelSpecSchema, parseRunSpec, PresetNameSchema, type ModelSpec, type PresetName, type RunSpec, type RunSpecInput } from '../../shared/spec';

/** The presets `train --preset`, `spec` and `describe` take. */
export const PRESETS = PresetNameSchema.options.filter((p): p is Exclude<PresetName, 'custom'> => p !== 'custom');

/** A spec file as read: a whole run spec (its raw object, checked once the flags are merged in) or a model spec (checked). */
export type SpecFile = { path: string; kind: 'run'; run: Record<string, unknown> } | { path: string; kind: 'model'; model: ModelSpec };

/** The error `err` with every line of its message prefixed by the file's name; code and field kept. */
export function inFile(path: string, err: unknown): ApiError {
  const e = err instanceof ApiError ? err : new SpecError(String((err as Error)?.message ?? err));
  const message = e.message
    .split('\n')
    .map((l) => `${path}: ${l}`)
    .join('\n');
  return e instanceof SpecError ? new SpecError(message, e.field) : new ApiError(e.code, message, e.field);
}

/** A model spec from a raw object: schema, then shapes (describeModel). @throws SpecError whose lines start with "model.…" field paths. */
function checkModel(raw: unknown): ModelSpec {
  const r = ModelSpecSchema.safeParse(raw);
  if (!r.success) throw new SpecError(formatZodError(r.error, 'model'), zodField(r.error, 'model'));
  describeModel(r.data);
  return r.data;
}

/**
 * Read a spec file. An object with `model`, `training` or `datasetId` is a run spec (returned raw:
 * the CLI merges its flags in, then `checkRunSpec`); anything else is a model spec, checked here.
 * @throws ApiError invalid_params (field 'spec') naming the file when it cannot be read or is not
 *   JSON; SpecError naming the file and the field path when the model spec is invalid.
 */
export function readSpecFile(path: string): SpecFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ApiError('invalid_params', `${path}: cannot read the spec file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'spec');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ApiError('invalid_params', `${path}: not valid JSON (${(e as Error).message})`, 'spec');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ApiError('invalid_params', `${path}: expected a JSON object (a run spec or a model spec)`, 'spec');
  const o = raw as Record<string, unknown>;
  if ('model' in o || 'training' in o || 'datasetId' in o) return { path, kind: 'run', run: o };
  try {
    return { path, kind: 'model', model: checkModel(o) };
  } catch (e) {
    throw inFile(path, e);
  }
}

/** parseRunSpec with its errors naming the file. @throws SpecError "<file>: <field path>: …". */
export function checkRunSpec(path: string, raw: unknown): RunSpec {
  try {
    return parseRunSpec(raw);
  } catch (e) {
    throw inFile(path, e);
  }
}

/** The model of a spec file (a run spec's `model`, checked). @throws as readSpecFile, and SpecError for a run spec's invalid model. */
export function modelOfFile(file: SpecFile): ModelSpec {
  if (file.kind === 'model') return file.model;
  try {
    return checkModel(file.run.model);
  } catch (e) {
    throw inFile(file.path, e);
  }
}

const n = (v: number): string => v.toLocaleString('en-US');

/**
 * The layer table of a model: one row per node (name, layer type, inputs, output shape
 * H×W×C or units, parameters as Keras counts them, multiply-adds per image) and the totals
 * (nodes, parameters, of which trainable: batch norm's moving mean and variance are not,
 * multiply-adds).
 * @throws SpecError from describeModel when the model does not fit its input.
 */
export function modelTable(spec: ModelSpec): { header: string[]; rows: string[][]; totals: string } {
  const info = describeModel(spec);
  const rows = info.map((i) => [i.name, i.layer.type, i.inputs.join(', '), i.outputShape.join('×'), n(i.params), n(i.macs)]);
  const t = modelTotals(info);
  const stats = info.filter((i) => i.layer.type === 'batchNormalization').reduce((a, i) => a + i.params / 2, 0);
  const totals = `total: ${t.nodes} nodes, ${n(t.params)} parameters (${n(t.params - stats)} trainable), ${n(t.macs)} multiply-adds per image; input ${spec.inputShape.join('×')}, ${spec.numClasses} classes`;
  return { header: ['node', 'type', 'inputs', 'output', 'params', 'mult-adds'], rows, totals };
}

/** The `train` flags a run spec file's own values give way to when typed on the command line (commander's attribute names). */
export const TRAINING_FLAGS = ['epochs', 'batchSize', 'learningRate', 'optimizer', 'seed', 'maxTrainSamples', 'backend'] as const;
export type TrainingFlag = (typeof TRAINING_FLAGS)[number];

/**
 * A run spec file's object with the command line's training merged in: what the file leaves
 * out (training, seed, backend) comes from `flags` (a run spec built from the flags and their
 * defaults); what the file has stays, unless its flag was typed (`typed`), then the flag wins
 * (`--optimizer` alone takes that optimizer's default learning rate unless `--learning-rate` is
 * typed too). Not validated: checkRunSpec does that, naming the file.
 */
export function mergeRunSpec(file: Record<string, unknown>, flags: RunSpecInput, typed: ReadonlySet<TrainingFlag>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...file };
  for (const k of ['seed', 'backend'] as const) if (out[k] === undefined || typed.has(k)) out[k] = flags[k];
  const t = file.training;
  if (t === undefined) out.training = flags.training;
  else if (typeof t === 'object' && t !== null && !Array.isArray(t)) {
    const training: Record<string, unknown> = { ...t };
    const f = flags.training as Record<string, unknown>;
    for (const k of ['epochs', 'batchSize', 'maxTrainSamples'] as const) if (typed.has(k)) training[k] = f[k];
    if (typed.has('optimizer')) training.optimizer = f.optimizer;
    else if (typed.has('learningRate') && typeof training.optimizer === 'object' && training.optimizer !== null) {
      training.optimizer = { ...(training.optimizer as object), learningRate: (f.optimizer as { learningRate: number }).learningRate };
    }
    out.training = training;
  }
  return out;
}
