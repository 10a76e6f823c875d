/**
 * Form fields derived from the real zod schemas (src/shared/spec.ts, src/shared/layers.ts):
 * labels, kinds, bounds (exclusive or not), defaults and options come from the schema, so a
 * copy of a schema with another bound gives another descriptor; a ZodError becomes one
 * plain-words message per field, named by label and path.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeFields, fieldAt, labelAt, zodIssues, type FieldDescriptor } from '../../src/renderer/lib/schemaForm';
import { buildPreset, Conv2DLayerSchema, DropoutLayerSchema, ModelSpecSchema, RunSpecSchema, TrainingSpecSchema } from '../../src/shared/spec';

const byPath = (fields: FieldDescriptor[]) => new Map(fields.map((f) => [f.path, f]));

function validSpec() {
  return {
    datasetId: 3,
    model: buildPreset('mlp', { inputShape: [28, 28, 1], numClasses: 10, hiddenUnits: [128], dropoutRate: 0.2 }),
    training: { optimizer: { type: 'adam', learningRate: 0.001 }, batchSize: 64, epochs: 2 },
    seed: 42,
    backend: 'auto',
  } as Record<string, unknown> & { training: Record<string, unknown> };
}

describe('field descriptors from the zod schemas', () => {
  it('training: whole numbers with their bounds and defaults, exclusive bounds, groups, booleans', () => {
    const f = byPath(describeFields(TrainingSpecSchema, 'training'));
    expect(f.get('training.batchSize')).toMatchObject({ label: 'Batch size', kind: 'integer', min: 1, exclusiveMin: false, max: 4096, exclusiveMax: false, default: 64, step: 1, optional: true });
    expect(f.get('training.epochs')).toMatchObject({ label: 'Epochs', kind: 'integer', min: 1, max: 1000, default: 2 });
    expect(f.get('training.maxTrainSamples')).toMatchObject({ kind: 'integer', min: 0, max: 100_000_000, default: 0, step: 1000 }); // meta step
    expect(f.get('training.regularization.l2')).toMatchObject({ label: 'L2', kind: 'number', min: 0, max: 1, default: 0, group: 'Regularization' });
    expect(f.get('training.augmentation.horizontalFlip')).toMatchObject({ label: 'Horizontal flip', kind: 'boolean', default: false, group: 'Augmentation' });
    expect(f.get('training.augmentation.randomTranslation')).toMatchObject({ min: 0, max: 0.5, step: 0.05 });
  });

  it('optimizer and schedule: a choice per discriminated union, each variant with its own fields', () => {
    const f = byPath(describeFields(TrainingSpecSchema, 'training'));
    const opt = f.get('training.optimizer') as FieldDescriptor;
    expect(opt.kind).toBe('choice');
    expect(opt.discriminator).toBe('type');
    expect(opt.options).toEqual([
      { value: 'sgd', label: 'SGD' },
      { value: 'momentum', label: 'SGD with momentum' },
      { value: 'rmsprop', label: 'RMSProp' },
      { value: 'adam', label: 'Adam' },
    ]);
    const adam = byPath(opt.variants?.adam ?? []);
    expect([...adam.keys()]).toEqual(['training.optimizer.learningRate', 'training.optimizer.beta1', 'training.optimizer.beta2', 'training.optimizer.epsilon']);
    // learningRate: z.number().gt(0).max(10) — exclusive below, inclusive above, no default.
    expect(adam.get('training.optimizer.learningRate')).toMatchObject({ label: 'Learning rate', kind: 'number', min: 0, exclusiveMin: true, max: 10, exclusiveMax: false, optional: false });
    expect(adam.get('training.optimizer.learningRate')?.default).toBeUndefined();
    expect(adam.get('training.optimizer.beta2')).toMatchObject({ min: 0, exclusiveMin: true, max: 1, exclusiveMax: true, default: 0.999 });
    expect(opt.variants?.sgd.map((x) => x.key)).toEqual(['learningRate']);
    expect(byPath(opt.variants?.rmsprop ?? []).get('training.optimizer.momentum')).toMatchObject({ default: 0, min: 0, exclusiveMax: true, max: 1 });
    expect(byPath(opt.variants?.momentum ?? []).get('training.optimizer.momentum')).toMatchObject({ default: 0.9 });

    const sched = f.get('training.learningRateSchedule') as FieldDescriptor;
    expect(sched.kind).toBe('choice');
    expect(sched.default).toEqual({ type: 'constant' });
    expect(sched.options?.map((o) => o.value)).toEqual(['constant', 'step', 'exponential', 'cosine', 'plateau']);
    expect(sched.variants?.constant).toEqual([]);
    expect(sched.variants?.step[0]).toMatchObject({ path: 'training.learningRateSchedule.stepSize', label: 'Step size', unit: 'epochs', kind: 'integer', min: 1, max: 10000 });
  });

  it('layers and the model: enums with their words, tuples element by element', () => {
    const conv = byPath(describeFields(Conv2DLayerSchema));
    expect(conv.get('filters')).toMatchObject({ label: 'Filters', kind: 'integer', min: 1, max: 4096, optional: false });
    expect(conv.get('padding')).toMatchObject({ label: 'Padding', kind: 'enum', default: 'valid', options: [{ value: 'same', label: 'same' }, { value: 'valid', label: 'valid' }] });
    expect(conv.get('kernelInitializer')).toMatchObject({ label: 'Kernel initializer', default: 'glorotUniform', options: [{ value: 'glorotUniform', label: 'Glorot uniform' }, { value: 'heNormal', label: 'He normal' }] });
    expect(conv.get('useBias')).toMatchObject({ kind: 'boolean', default: true });
    expect(byPath(describeFields(DropoutLayerSchema)).get('rate')).toMatchObject({ label: 'Dropout rate', min: 0, exclusiveMin: false, max: 1, exclusiveMax: true });

    const model = byPath(describeFields(ModelSpecSchema, 'model'));
    expect(model.get('model.inputShape[0]')).toMatchObject({ label: 'Input height', kind: 'integer', min: 4, max: 1024 });
    expect(model.get('model.inputShape[2]')).toMatchObject({ label: 'Channels', kind: 'enum', options: [{ value: 1, label: '1 (grayscale)' }, { value: 3, label: '3 (RGB)' }] });
    expect(model.get('model.preset')?.options?.map((o) => o.value)).toContain('resnet20');
    // A layer field inside the graph: the variant is chosen by the node's own type.
    const spec = validSpec();
    expect(fieldAt(RunSpecSchema, 'model.nodes[1].layer.rate', spec)).toMatchObject({ label: 'Dropout rate', max: 1, exclusiveMax: true });
    expect(fieldAt(RunSpecSchema, 'model.nodes[2].layer.units', spec)).toMatchObject({ label: 'Units', kind: 'integer', min: 1 });
    expect(labelAt(RunSpecSchema, 'model.nodes', spec)).toBe('Model');
  });

  it('bounds come from the schema: a copy with other bounds gives other descriptors', () => {
    const narrower = TrainingSpecSchema.extend({ batchSize: z.number().int().min(8).lt(512).default(32).meta({ label: 'Batch size' }) });
    expect(byPath(describeFields(narrower, 'training')).get('training.batchSize')).toMatchObject({ min: 8, max: 512, exclusiveMax: true, default: 32 });
    const rate = DropoutLayerSchema.extend({ rate: z.number().gt(0.1).max(0.9).meta({ label: 'Rate' }) });
    expect(byPath(describeFields(rate)).get('rate')).toMatchObject({ label: 'Rate', min: 0.1, exclusiveMin: true, max: 0.9, exclusiveMax: false });
    // Two bounds on one side: the tighter wins.
    expect(byPath(describeFields(z.object({ x: z.number().min(0).gt(2).max(9).lt(9) }))).get('x')).toMatchObject({ min: 2, exclusiveMin: true, max: 9, exclusiveMax: true });
  });
});

describe('ZodError → one message per field, by path', () => {
  const issuesOf = (spec: unknown) => {
    const r = RunSpecSchema.safeParse(spec);
    if (r.success) throw new Error('expected a refusal');
    return zodIssues(r.error, RunSpecSchema, spec).map((i) => `${i.label}: ${i.text} (${i.path})`);
  };

  it('bounds in words, with the label from the schema and the path', () => {
    const spec = validSpec();
    spec.training = { ...spec.training, batchSize: 0, optimizer: { type: 'adam', learningRate: 0 } };
    const model = spec.model as { nodes: { layer: { rate?: number } }[] };
    model.nodes[1].layer.rate = 1;
    expect(issuesOf(spec)).toEqual([
      'Dropout rate: must be less than 1 (model.nodes[1].layer.rate)',
      'Learning rate: must be greater than 0 (training.optimizer.learningRate)',
      'Batch size: must be a whole number ≥ 1 (training.batchSize)',
    ]);
  });

  it('empty and fractional whole numbers, a number too big, an unknown optimizer, an unknown key, a wrong enum value', () => {
    const spec = validSpec();
    spec.training = { ...spec.training, batchSize: '', epochs: 1.5, regularization: { l1: 2 } };
    spec.seed = -1;
    expect(issuesOf(spec)).toEqual([
      'Batch size: enter a whole number (training.batchSize)',
      'Epochs: must be a whole number (training.epochs)',
      'L1: must be ≤ 1 (training.regularization.l1)',
      'Seed: must be a whole number ≥ 0 (seed)',
    ]);
    const s2 = validSpec();
    s2.training = { ...s2.training, optimizer: { type: 'nadam', learningRate: 0.1 } };
    s2.backend = 'tpu';
    s2.extra = 1;
    expect(issuesOf(s2)).toEqual([
      'Optimizer: unknown type; choose one of "sgd", "momentum", "rmsprop", "adam" (training.optimizer.type)',
      'Backend: must be one of "Auto", "GPU", "CPU" (backend)',
      '(root): unknown field "extra" ()',
    ]);
  });
});
