/**
 * The New-run form's state and its translation to a RunSpec input. Pure functions, so
 * the form, its live layer table and its validation all read from one place.
 */
import type { DatasetSummary } from '../../shared/api';
import { defaultInputShape } from '../../shared/input-shape';
import { buildPreset, describeModel, parseRunSpec, type LayerShapeInfo, type ModelSpec, type RunSpec, type RunSpecInput } from '../../shared/spec';

export type PresetChoice = 'linear' | 'mlp1' | 'mlp2' | 'lenet5';
export type OptimizerChoice = 'sgd' | 'momentum' | 'rmsprop' | 'adam';
export type ScheduleChoice = 'constant' | 'step' | 'exponential';
export type BackendChoice = 'auto' | 'gpu' | 'cpu';

/** Numbers may be '' while the user edits a field; validation then names that field. */
type Num = number | '';

export interface RunForm {
  name: string;
  datasetId: number | null;
  numClasses: number;
  preset: PresetChoice;
  hidden1: Num;
  hidden2: Num;
  height: Num;
  width: Num;
  channels: 1 | 3;
  optimizer: OptimizerChoice;
  learningRate: Num;
  momentum: Num;
  rho: Num;
  beta1: Num;
  beta2: Num;
  epsilon: Num;
  schedule: ScheduleChoice;
  stepSize: Num;
  gamma: Num;
  batchSize: Num;
  epochs: Num;
  l1: Num;
  l2: Num;
  dropoutRate: Num;
  batchNormalization: boolean;
  horizontalFlip: boolean;
  randomTranslation: Num;
  gaussianNoise: Num;
  seed: Num;
  backend: BackendChoice;
  maxTrainSamples: Num;
}

export function defaultRunForm(): RunForm {
  return {
    name: '',
    datasetId: null,
    numClasses: 10,
    preset: 'mlp1',
    hidden1: 128,
    hidden2: 64,
    height: 28,
    width: 28,
    channels: 1,
    optimizer: 'adam',
    learningRate: 0.001,
    momentum: 0.9,
    rho: 0.9,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
    schedule: 'constant',
    stepSize: 1,
    gamma: 0.5,
    batchSize: 64,
    epochs: 2,
    l1: 0,
    l2: 0,
    dropoutRate: 0,
    batchNormalization: false,
    horizontalFlip: false,
    randomTranslation: 0,
    gaussianNoise: 0,
    seed: 42,
    backend: 'auto',
    maxTrainSamples: 0,
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

/** The model part (throws when the preset cannot be built, e.g. no hidden units). */
export function formModel(f: RunForm): ModelSpec {
  const preset = f.preset === 'mlp1' || f.preset === 'mlp2' ? 'mlp' : f.preset;
  const hiddenUnits = f.preset === 'mlp1' ? [n(f.hidden1)] : f.preset === 'mlp2' ? [n(f.hidden1), n(f.hidden2)] : undefined;
  const rate = n(f.dropoutRate);
  return buildPreset(preset, {
    inputShape: [n(f.height), n(f.width), f.channels],
    numClasses: f.numClasses,
    hiddenUnits,
    dropoutRate: Number.isNaN(rate) ? 0 : rate,
    batchNormalization: f.batchNormalization,
  });
}

/** The RunSpec input the form describes (unvalidated; numbers left as typed). */
export function formToSpec(f: RunForm): RunSpecInput {
  const lr = f.learningRate as number;
  const optimizer =
    f.optimizer === 'sgd'
      ? { type: 'sgd' as const, learningRate: lr }
      : f.optimizer === 'momentum'
        ? { type: 'momentum' as const, learningRate: lr, momentum: f.momentum as number }
        : f.optimizer === 'rmsprop'
          ? { type: 'rmsprop' as const, learningRate: lr, rho: f.rho as number, momentum: f.momentum as number, epsilon: f.epsilon as number }
          : { type: 'adam' as const, learningRate: lr, beta1: f.beta1 as number, beta2: f.beta2 as number, epsilon: f.epsilon as number };
  const learningRateSchedule =
    f.schedule === 'step'
      ? { type: 'step' as const, stepSize: f.stepSize as number, gamma: f.gamma as number }
      : f.schedule === 'exponential'
        ? { type: 'exponential' as const, gamma: f.gamma as number }
        : { type: 'constant' as const };
  return {
    datasetId: f.datasetId as number,
    model: formModel(f),
    training: {
      optimizer,
      learningRateSchedule,
      batchSize: f.batchSize as number,
      epochs: f.epochs as number,
      regularization: { l1: f.l1 as number, l2: f.l2 as number },
      augmentation: { horizontalFlip: f.horizontalFlip, randomTranslation: f.randomTranslation as number, gaussianNoise: f.gaussianNoise as number },
      maxTrainSamples: f.maxTrainSamples as number,
    },
    seed: f.seed as number,
    backend: f.backend,
  };
}

export interface FormCheck {
  spec: RunSpec | null;
  /** Full message (one line per issue, each naming its field). */
  message: string | null;
  /** Dotted field paths named by the message, e.g. 'training.batchSize'. */
  fields: string[];
  layers: LayerShapeInfo[] | null;
  totalParams: number | null;
}

/** Field paths at the start of each line of a SpecError / server error message. */
export function fieldsOf(message: string): string[] {
  return message
    .split('\n')
    .map((line) => /^([\w.[\]]+):/.exec(line)?.[1])
    .filter((f): f is string => !!f)
    .map((f) => f.replace(/^spec\./, ''));
}

/** Validate the form as the server will (parseRunSpec), plus the live layer table. */
export function checkForm(f: RunForm): FormCheck {
  let layers: LayerShapeInfo[] | null = null;
  let model: ModelSpec | null = null;
  try {
    model = formModel(f);
    layers = describeModel(model);
  } catch {
    layers = null;
  }
  const totalParams = layers ? layers.reduce((a, l) => a + l.params, 0) : null;
  if (f.datasetId === null) return { spec: null, message: 'datasetId: choose a dataset', fields: ['datasetId'], layers, totalParams };
  try {
    if (!model) formModel(f);
    const spec = parseRunSpec(formToSpec(f));
    return { spec, message: null, fields: [], layers, totalParams };
  } catch (e) {
    const message = (e as Error).message;
    return { spec: null, message, fields: fieldsOf(message), layers, totalParams };
  }
}

/** Which form control a spec field path belongs to (for marking it invalid). */
export function controlForField(path: string): keyof RunForm | null {
  const p = path.replace(/^spec\./, '');
  const table: [RegExp, keyof RunForm][] = [
    [/^datasetId/, 'datasetId'],
    [/^model\.inputShape\[0\]/, 'height'],
    [/^model\.inputShape\[1\]/, 'width'],
    [/^model\.inputShape/, 'channels'],
    [/^model\.numClasses/, 'datasetId'],
    [/^hiddenUnits/, 'hidden1'],
    [/^model\.layers\[\d+\]\.rate/, 'dropoutRate'],
    [/^model\.layers\[\d+\]\.units/, 'hidden1'],
    [/^model/, 'preset'],
    [/^training\.optimizer\.learningRate/, 'learningRate'],
    [/^training\.optimizer\.momentum/, 'momentum'],
    [/^training\.optimizer\.rho/, 'rho'],
    [/^training\.optimizer\.beta1/, 'beta1'],
    [/^training\.optimizer\.beta2/, 'beta2'],
    [/^training\.optimizer\.epsilon/, 'epsilon'],
    [/^training\.learningRateSchedule\.stepSize/, 'stepSize'],
    [/^training\.learningRateSchedule\.gamma/, 'gamma'],
    [/^training\.batchSize/, 'batchSize'],
    [/^training\.epochs/, 'epochs'],
    [/^training\.regularization\.l1/, 'l1'],
    [/^training\.regularization\.l2/, 'l2'],
    [/^training\.augmentation\.randomTranslation/, 'randomTranslation'],
    [/^training\.augmentation\.gaussianNoise/, 'gaussianNoise'],
    [/^training\.maxTrainSamples/, 'maxTrainSamples'],
    [/^seed/, 'seed'],
    [/^backend/, 'backend'],
  ];
  for (const [re, key] of table) if (re.test(p)) return key;
  return null;
}

/** The form a stored spec came from, for "run again" (best effort). */
export function presetLabel(preset: string, model?: ModelSpec): string {
  if (preset === 'mlp' && model) {
    const hidden = model.layers.filter((l) => l.type === 'dense').length - 1;
    return `MLP (${hidden} hidden)`;
  }
  return ({ linear: 'Linear', mlp: 'MLP', lenet5: 'LeNet-5', custom: 'Custom' } as Record<string, string>)[preset] ?? preset;
}

/** The label each form control shows (as in RunConfigForm). */
export const CONTROL_LABELS: Record<keyof RunForm, string> = {
  name: 'Name',
  datasetId: 'Dataset',
  numClasses: 'Classes',
  preset: 'Model',
  hidden1: 'Hidden units 1',
  hidden2: 'Hidden units 2',
  height: 'Input height',
  width: 'Input width',
  channels: 'Channels',
  optimizer: 'Optimizer',
  learningRate: 'Learning rate',
  momentum: 'Momentum',
  rho: 'Rho',
  beta1: 'β₁',
  beta2: 'β₂',
  epsilon: 'ε',
  schedule: 'LR schedule',
  stepSize: 'Step size (epochs)',
  gamma: 'Gamma',
  batchSize: 'Batch size',
  epochs: 'Epochs',
  l1: 'L1',
  l2: 'L2',
  dropoutRate: 'Dropout rate',
  batchNormalization: 'Batch normalization',
  horizontalFlip: 'Horizontal flip',
  randomTranslation: 'Random translation',
  gaussianNoise: 'Gaussian noise σ',
  seed: 'Seed',
  backend: 'Backend',
  maxTrainSamples: 'Max train samples',
};

/** Controls that only take whole numbers. */
const INTEGER_CONTROLS = new Set<keyof RunForm>(['hidden1', 'hidden2', 'height', 'width', 'stepSize', 'batchSize', 'epochs', 'seed', 'maxTrainSamples']);

/** A validator's text (zod's "Too small: expected number to be >=1", …) in plain words; other text as it is. */
export function readableIssue(text: string, control: keyof RunForm | null): string {
  const whole = control !== null && INTEGER_CONTROLS.has(control);
  const kind = whole ? 'a whole number' : 'a number';
  if (/expected (number|int), received (NaN|string|undefined|null)/.test(text)) return `enter ${kind}`;
  if (/expected int, received number/.test(text)) return 'must be a whole number';
  const m = /Too (small|big): expected \w+ to (?:be|have) ([<>]=?)\s*(-?[\d.e+-]+)/.exec(text);
  if (m) {
    const [, , op, v] = m;
    const rel = op === '>=' ? '≥' : op === '<=' ? '≤' : op === '>' ? 'greater than' : 'less than';
    return whole ? `must be a whole number ${rel} ${v}` : `must be ${rel} ${v}`;
  }
  return text;
}

export interface FormIssue {
  /** The form control it belongs to (null: none, e.g. a model-level problem). */
  control: keyof RunForm | null;
  /** "Batch size: must be a whole number ≥ 1 (training.batchSize)". */
  text: string;
  /** The spec path(s) it came from. */
  paths: string[];
}

/**
 * A validation / server message (one "path: text" line per issue) as one readable line per
 * form field: the field's label, the problem in plain words, the spec path for reference.
 * Issues of one control (dropout on two layers) are merged.
 */
export function formIssues(message: string): FormIssue[] {
  const out: FormIssue[] = [];
  const byControl = new Map<string, FormIssue>();
  for (const line of message.split('\n').filter((l) => l.trim())) {
    const m = /^([\w.[\]]+):\s*(.*)$/.exec(line);
    if (!m) {
      out.push({ control: null, text: line, paths: [] });
      continue;
    }
    const path = m[1].replace(/^spec\./, '');
    const control = controlForField(path);
    const key = control ?? `path:${path}`;
    const prev = byControl.get(key);
    if (prev) {
      prev.paths.push(path);
      continue;
    }
    const label = control && control !== 'preset' ? CONTROL_LABELS[control] : path.startsWith('model') ? 'Model' : path;
    const issue: FormIssue = { control, text: `${label}: ${readableIssue(m[2], control)}`, paths: [path] };
    byControl.set(key, issue);
    out.push(issue);
  }
  return out.map((i) => ({ ...i, text: i.paths.length ? `${i.text} (${i.paths.length > 2 ? `${i.paths.slice(0, 2).join(', ')}, …` : i.paths.join(', ')})` : i.text }));
}
