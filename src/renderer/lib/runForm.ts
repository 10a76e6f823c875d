/**
 * The New-run form's state and its translation to a RunSpec. The controls are generated
 * from the zod schemas (./schemaForm.ts): the training part of the state has the shape of
 * TrainingSpec itself (numbers may be '' while the user edits), so the spec is the state and
 * every validation message comes from the schema's own issue, by path. The model is held
 * apart by the page (a ModelSpec the architecture editor edits), built from the preset
 * choice below until the user edits it.
 */
import { z } from 'zod';
import type { DatasetSummary } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import { defaultInputShape } from '../../shared/input-shape';
import type { MonitorMetric } from '../../shared/metrics';
import {
  buildPreset,
  DenseLayerSchema,
  describeModel,
  DropoutLayerSchema,
  INPUT_NAME,
  isGraphSpec,
  ModelSpecSchema,
  PRESET_LABELS,
  PresetNameSchema,
  RUN_DEFAULTS,
  RunSpecSchema,
  toGraph,
  TrainingSpecSchema,
  type BackendChoice,
  type LayerShapeInfo,
  type ModelSpec,
  type PresetName,
  type RunSpec,
  type RunSpecInput,
} from '../../shared/spec';
import { describeField, describeFields, labelAt, splitPath, zodIssues, type FieldDescriptor } from './schemaForm';

/** Numbers may be '' while the user edits a field; validation then names that field. */
export type Num = number | '';
export type BuildablePreset = Exclude<PresetName, 'custom'>;

/**
 * The preset picker and its options, as a schema: the hidden-unit and dropout fields are the
 * dense and dropout layers' own field schemas, so their bounds and labels are the layers'.
 * Dropout rate and width multiplier left empty mean the preset's default.
 */
export const PresetFormSchema = z.object({
  name: PresetNameSchema.exclude(['custom']).meta({ label: 'Preset', optionLabels: PRESET_LABELS }),
  hiddenLayers: z.union([z.literal(1), z.literal(2)]).meta({ label: 'Hidden layers' }),
  hidden1: DenseLayerSchema.shape.units.meta({ label: 'Hidden units 1' }),
  hidden2: DenseLayerSchema.shape.units.meta({ label: 'Hidden units 2' }),
  dropoutRate: DropoutLayerSchema.shape.rate.optional(),
  batchNormalization: z.boolean().meta({ label: 'Batch normalization' }),
  widthMultiplier: z.number().gt(0).max(4).optional().meta({ label: 'Width multiplier α', step: 0.25, description: 'scales every layer’s width (Howard et al. 2017, §3.3)' }),
});
export type PresetOptionKey = Exclude<keyof z.infer<typeof PresetFormSchema>, 'name'>;

/** Which options each preset takes (src/shared/graph-builder.ts PresetOptions; the ResNets always have batch normalization). */
export const PRESET_OPTIONS: Readonly<Record<BuildablePreset, readonly PresetOptionKey[]>> = {
  linear: [],
  mlp: ['hiddenLayers', 'hidden1', 'hidden2', 'dropoutRate', 'batchNormalization'],
  lenet5: ['dropoutRate', 'batchNormalization'],
  alexnet: ['dropoutRate', 'batchNormalization', 'widthMultiplier'],
  vgg11: ['dropoutRate', 'batchNormalization', 'widthMultiplier'],
  vgg16: ['dropoutRate', 'batchNormalization', 'widthMultiplier'],
  inception: ['dropoutRate', 'batchNormalization', 'widthMultiplier'],
  resnet20: ['dropoutRate'],
  resnet32: ['dropoutRate'],
  resnet56: ['dropoutRate'],
  mobilenet: ['dropoutRate', 'widthMultiplier'],
};

export interface PresetForm {
  name: BuildablePreset;
  hiddenLayers: 1 | 2;
  hidden1: Num;
  hidden2: Num;
  dropoutRate: Num;
  batchNormalization: boolean;
  widthMultiplier: Num;
}

/** TrainingSpec as the form holds it: the schema's shape, numbers possibly ''. */
export type TrainingForm = {
  optimizer: { type: 'sgd' | 'momentum' | 'rmsprop' | 'adam'; [k: string]: unknown };
  learningRateSchedule: { type: 'constant' | 'step' | 'exponential' | 'cosine' | 'plateau'; [k: string]: unknown };
  batchSize: Num;
  epochs: Num;
  regularization: { l1: Num; l2: Num };
  augmentation: { horizontalFlip: boolean; randomTranslation: Num; gaussianNoise: Num };
  maxTrainSamples: Num;
  earlyStopping: { monitor: MonitorMetric; patience: Num; minDelta: Num; mode: 'auto' | 'min' | 'max'; restoreBest: boolean };
  randomLabels: boolean;
  adversarial: { method: 'none' | 'fgsm' | 'pgd'; ratio: Num; epsilon: Num; steps: Num; robustEpsilon: Num; robustSteps: Num; robustImages: Num };
};

export interface RunForm {
  name: string;
  datasetId: number | null;
  numClasses: number;
  height: Num;
  width: Num;
  channels: 1 | 3;
  preset: PresetForm;
  training: TrainingForm;
  seed: Num;
  backend: BackendChoice;
}

/** The descriptors of the training fields (paths "training.…"), of the preset form ("preset.…"), of the input shape and the run's own. */
export const TRAINING_FIELDS: readonly FieldDescriptor[] = describeFields(TrainingSpecSchema, 'training');
export const PRESET_FIELDS: readonly FieldDescriptor[] = describeFields(PresetFormSchema, 'preset');
const modelFields = describeFields(ModelSpecSchema, 'model');
const runShape = RunSpecSchema.shape;
export const RUN_FIELDS = {
  height: modelFields.find((f) => f.path === 'model.inputShape[0]') as FieldDescriptor,
  width: modelFields.find((f) => f.path === 'model.inputShape[1]') as FieldDescriptor,
  channels: modelFields.find((f) => f.path === 'model.inputShape[2]') as FieldDescriptor,
  seed: describeField(runShape.seed, 'seed', 'seed'),
  backend: describeField(runShape.backend, 'backend', 'backend'),
  datasetId: describeField(runShape.datasetId, 'datasetId', 'datasetId'),
};
/** The form control (its path) that each spec path outside `training` belongs to. */
const INPUT_SHAPE_CONTROLS: Record<string, keyof RunForm> = { 'model.inputShape[0]': 'height', 'model.inputShape[1]': 'width', 'model.inputShape[2]': 'channels' };

/** Every field descriptor the form shows, by path (variant fields included). */
export const FIELD_BY_PATH: ReadonlyMap<string, FieldDescriptor> = (() => {
  const m = new Map<string, FieldDescriptor>();
  const add = (f: FieldDescriptor): void => {
    if (!m.has(f.path)) m.set(f.path, f);
    for (const v of Object.values(f.variants ?? {})) v.forEach(add);
  };
  [...TRAINING_FIELDS, ...PRESET_FIELDS, ...Object.values(RUN_FIELDS)].forEach(add);
  return m;
})();

/** The training part of a spec as the schema fills it from the run defaults (RUN_DEFAULTS, the optimizer's default learning rate). */
export function defaultTraining(): TrainingForm {
  const opt = (TRAINING_FIELDS.find((f) => f.path === 'training.optimizer') as FieldDescriptor).variants?.[RUN_DEFAULTS.optimizer] ?? [];
  const lr = opt.find((f) => f.key === 'learningRate')?.initial as number;
  return TrainingSpecSchema.parse({ optimizer: { type: RUN_DEFAULTS.optimizer, learningRate: lr } }) as TrainingForm;
}

export function defaultRunForm(): RunForm {
  return {
    name: '',
    datasetId: null,
    numClasses: 10,
    height: 28,
    width: 28,
    channels: 1,
    preset: { name: 'mlp', hiddenLayers: 1, hidden1: 128, hidden2: 64, dropoutRate: '', batchNormalization: false, widthMultiplier: '' },
    training: defaultTraining(),
    seed: RUN_DEFAULTS.seed,
    backend: RUN_DEFAULTS.backend,
  };
}

/** Input shape from a dataset's typical image shape [h, w, c]: the shared default rule (each side at most 64 px; 3 channels unless 1). */
export function shapeFromTypical(shape: [number, number, number] | null): { height: number; width: number; channels: 1 | 3 } {
  if (!shape) return { height: 28, width: 28, channels: 1 };
  const [height, width, channels] = defaultInputShape(shape);
  return { height, width, channels };
}

/** Above this many parameters the form warns (slow to train, large checkpoints, easy to overfit). */
export const LARGE_MODEL_PARAMS = 20_000_000;

/** Warnings that do not block a run: a very large model, a dataset without a test split. */
export function formWarnings(totalParams: number | null, dataset: Pick<DatasetSummary, 'counts'> | null | undefined): string[] {
  const w: string[] = [];
  if (totalParams !== null && totalParams > LARGE_MODEL_PARAMS)
    w.push(`This model has ${(totalParams / 1e6).toFixed(totalParams >= 1e8 ? 0 : 1)} million parameters: training will be slow and memory-hungry. A smaller input size or the LeNet-5 preset is usually enough.`);
  if (dataset && dataset.counts.test === 0) w.push('This dataset has no test split: the run will report no test accuracy.');
  return w;
}

const n = (v: Num): number => (v === '' ? Number.NaN : v);

/**
 * The model the preset part of the form describes (graph form).
 * @throws SpecError when the preset cannot be built (a deep preset not available, no hidden units).
 */
export function formModel(f: RunForm): ModelSpec {
  const p = f.preset;
  const takes = new Set(PRESET_OPTIONS[p.name]);
  const hiddenUnits = takes.has('hidden1') ? (p.hiddenLayers === 2 ? [n(p.hidden1), n(p.hidden2)] : [n(p.hidden1)]) : undefined;
  return buildPreset(p.name, {
    inputShape: [n(f.height), n(f.width), f.channels],
    numClasses: f.numClasses,
    ...(hiddenUnits ? { hiddenUnits } : {}),
    ...(takes.has('dropoutRate') && p.dropoutRate !== '' ? { dropoutRate: p.dropoutRate } : {}),
    ...(takes.has('batchNormalization') ? { batchNormalization: p.batchNormalization } : {}),
    ...(takes.has('widthMultiplier') && p.widthMultiplier !== '' ? { widthMultiplier: p.widthMultiplier } : {}),
  });
}

/** The RunSpec input the form and the model describe (unvalidated; numbers left as typed). `edited`: the model is no longer the preset's, so its preset is 'custom'. */
export function formToSpec(f: RunForm, model: ModelSpec, edited = false): RunSpecInput {
  return {
    datasetId: f.datasetId as number,
    model: edited ? { ...model, preset: 'custom' } : model,
    training: f.training as RunSpecInput['training'],
    seed: f.seed as number,
    backend: f.backend,
  };
}

/** One message of the form: a field's label, the problem in words, the spec paths it came from, the form controls to mark. */
export interface FormIssue {
  /** "Batch size: must be a whole number ≥ 1 (training.batchSize)". */
  text: string;
  /** The problem alone, as shown beside the field: "must be a whole number ≥ 1". */
  problem: string;
  paths: string[];
  /** Control paths ("training.batchSize", "preset.dropoutRate", "height", "datasetId"). */
  controls: string[];
}

interface RawIssue {
  path: string;
  label: string | null;
  text: string;
  /** Merge key: issues with one key are one message. */
  key: string;
  controls: string[];
}

/**
 * The form controls a spec path belongs to. Model paths: the input-shape fields, the dataset
 * (numClasses), and — while the model is the preset's — the preset option that wrote the
 * offending layer field (a dropout node's rate ← "Dropout rate", a hidden dense layer's
 * units ← the hidden-units field holding that value), else the preset picker.
 */
function controlsOf(path: string, f: RunForm, model: ModelSpec | null, edited: boolean): string[] {
  if (!path.startsWith('model')) return [path];
  if (INPUT_SHAPE_CONTROLS[path]) return [INPUT_SHAPE_CONTROLS[path]];
  if (path === 'model.numClasses') return ['datasetId'];
  if (edited) return ['architecture'];
  const m = /^model\.nodes\[(\d+)\]\.layer\.(\w+)$/.exec(path);
  const node = m && model?.nodes ? model.nodes[Number(m[1])] : undefined;
  if (node && m) {
    if (node.layer.type === 'dropout' && m[2] === 'rate') return ['preset.dropoutRate'];
    if (node.layer.type === 'dense' && m[2] === 'units') {
      const v = node.layer.units as unknown;
      const hit = (['hidden1', 'hidden2'] as const).filter((k) => f.preset[k] === v || (Number.isNaN(v) && f.preset[k] === ''));
      if (hit.length) return hit.map((k) => `preset.${k}`);
    }
  }
  return ['preset.name'];
}

/** Merge key of a model layer field ("layer:dropout.rate") so that one field on many nodes is one message. */
function layerKey(path: string, model: ModelSpec | null): string | null {
  const m = /^model\.nodes\[(\d+)\]\.layer\.(\w+)$/.exec(path);
  const node = m && model?.nodes ? model.nodes[Number(m[1])] : undefined;
  return node && m ? `layer:${node.layer.type}.${m[2]}` : null;
}

/** Join raw issues into one message per key, "Label: text (path, path)"; more than two paths are cut with "…". */
function mergeIssues(raw: RawIssue[]): FormIssue[] {
  const out: (FormIssue & { key: string; head: string })[] = [];
  for (const r of raw) {
    const prev = out.find((o) => o.key === r.key);
    if (prev) {
      if (!prev.paths.includes(r.path)) prev.paths.push(r.path);
      for (const c of r.controls) if (!prev.controls.includes(c)) prev.controls.push(c);
      continue;
    }
    out.push({ key: r.key, head: r.label ? `${r.label}: ${r.text}` : r.text, text: '', problem: r.text, paths: r.path ? [r.path] : [], controls: [...r.controls] });
  }
  return out.map((o) => ({
    text: o.paths.length ? `${o.head} (${o.paths.length > 2 ? `${o.paths.slice(0, 2).join(', ')}, …` : o.paths.join(', ')})` : o.head,
    problem: o.problem,
    paths: o.paths,
    controls: o.controls,
  }));
}

/** The label of a form control path ("preset.dropoutRate" → "Dropout rate"). */
function controlLabel(control: string): string | null {
  return FIELD_BY_PATH.get(control)?.label ?? null;
}

/**
 * An error that is not a ZodError (a SpecError from describeModel or buildPreset, a server
 * refusal) as raw issues: one per "path: text" line, else the message with the error's field.
 */
function errorIssues(e: unknown, f: RunForm, model: ModelSpec | null, edited: boolean, specInput: unknown): RawIssue[] {
  const message = e instanceof Error ? e.message : String(e);
  const field = e instanceof ApiError && e.field ? e.field.replace(/^spec\./, '') : (e as { field?: string }).field?.replace(/^spec\./, '');
  const out: RawIssue[] = [];
  for (const line of message.split('\n').filter((l) => l.trim())) {
    const m = /^(?:spec\.)?([\w[\]]+(?:\.[\w[\]]+)*):\s*(.*)$/.exec(line);
    const path = m ? m[1] : (field ?? '');
    const text = m ? m[2] : line;
    const controls = path === 'preset' ? ['preset.name'] : path === 'hiddenUnits' ? ['preset.hidden1'] : controlsOf(path, f, model, edited);
    const label = m ? (path === 'preset' || path === 'hiddenUnits' ? controlLabel(controls[0]) : (labelAt(RunSpecSchema, splitPath(path), specInput) ?? path)) : null;
    out.push({ path, label, text: m ? text : line, key: layerKey(path, model) ?? `path:${path}:${m ? '' : line}`, controls });
  }
  return out;
}

export interface FormCheck {
  /** The spec to send, with defaults filled in; null while anything is wrong. */
  spec: RunSpec | null;
  /** One message per field, in form order of discovery. */
  issues: FormIssue[];
  /** Control path → the problem shown beside it (the first issue of that control). */
  errors: Map<string, string>;
  /** describeModel of the current model (null when it cannot be described). */
  layers: LayerShapeInfo[] | null;
  totalParams: number | null;
}

/**
 * Validate the form as the server will (the RunSpec schema, then describeModel's shapes), as
 * one readable message per field. `model`: the page's model state (null while none could be
 * built), `modelError`: why the preset could not be built, `edited`: the model is the user's.
 */
export function checkForm(f: RunForm, model: ModelSpec | null, modelError: unknown = null, edited = false): FormCheck {
  let layers: LayerShapeInfo[] | null = null;
  if (model) {
    try {
      layers = describeModel(model);
    } catch {
      layers = null;
    }
  }
  const totalParams = layers ? layers.reduce((a, l) => a + l.params, 0) : null;
  const raw: RawIssue[] = [];
  const p = f.preset;
  if (PRESET_OPTIONS[p.name].includes('hidden1')) {
    for (const k of p.hiddenLayers === 2 ? (['hidden1', 'hidden2'] as const) : (['hidden1'] as const)) {
      if (p[k] === '') raw.push({ path: `preset.${k}`, label: controlLabel(`preset.${k}`), text: 'enter a whole number', key: `path:preset.${k}`, controls: [`preset.${k}`] });
    }
  }
  if (modelError && !edited) raw.push(...errorIssues(modelError, f, model, edited, null));
  if (f.datasetId === null) raw.push({ path: 'datasetId', label: RUN_FIELDS.datasetId.label, text: 'choose a dataset', key: 'path:datasetId', controls: ['datasetId'] });
  if (model && f.datasetId !== null && model.numClasses !== f.numClasses) {
    raw.push({ path: 'model.numClasses', label: 'Classes', text: `the dataset has ${f.numClasses} classes but the model outputs ${model.numClasses}`, key: 'path:model.numClasses', controls: ['datasetId'] });
  }
  let spec: RunSpec | null = null;
  if (model && raw.length === 0) {
    const input = formToSpec(f, model, edited);
    const r = RunSpecSchema.safeParse(input);
    if (!r.success) {
      for (const i of zodIssues(r.error, RunSpecSchema, input)) {
        const controls = controlsOf(i.path, f, model, edited);
        const own = controls.length === 1 && controls[0].startsWith('preset.') && controls[0] !== 'preset.name' ? controlLabel(controls[0]) : null;
        raw.push({ path: i.path, label: own ?? i.label, text: i.text, key: layerKey(i.path, model) ?? `path:${i.path}`, controls });
      }
    } else {
      try {
        describeModel(r.data.model);
        spec = r.data;
      } catch (e) {
        raw.push(...errorIssues(e, f, model, edited, input));
      }
    }
  }
  const issues = mergeIssues(raw);
  return { spec, issues, errors: fieldErrors(issues), layers, totalParams };
}

/** Control path → the first problem of that control, for the text beside each field. */
export function fieldErrors(issues: readonly FormIssue[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const i of issues) for (const c of i.controls) if (!m.has(c)) m.set(c, i.problem);
  return m;
}

/** A refusal from the server (runs.start) as form messages: "Dataset: dataset has no training items (datasetId)". */
export function serverIssues(e: unknown, f: RunForm, model: ModelSpec | null, edited: boolean): FormIssue[] {
  const err = e as { message?: string; field?: string };
  const message = err.message ?? String(e);
  const field = err.field?.replace(/^spec\./, '');
  // A message that does not start with its field gets it, so that it is labelled by it.
  const text = field && !/^(?:spec\.)?[\w[\].]+:/.test(message) ? `${field}: ${message}` : message;
  return mergeIssues(errorIssues(Object.assign(new Error(text), field ? { field } : {}), f, model, edited, null));
}

/** How a run's model is named (src/shared/model-name.ts). */
export { presetLabel } from '../../shared/model-name';

/** The graph form of a model spec: a layer list becomes its chain of named nodes (./graph.ts toGraph, implicit flattens as nodes). */
export function graphForm(model: ModelSpec): ModelSpec {
  if (isGraphSpec(model)) return model;
  const g = toGraph(model);
  return { preset: model.preset, inputShape: model.inputShape, numClasses: model.numClasses, nodes: g.nodes.map((node) => ({ name: node.name, layer: node.layer, inputs: node.inputs.length ? [...node.inputs] : [INPUT_NAME] })) };
}
