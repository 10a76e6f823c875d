// @vitest-environment happy-dom
/** The New-run form: client-side validation naming the field, and the live layer table. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createMemoryHistory } from 'vue-router';
import App from '../../src/renderer/App.vue';
import { setApi } from '../../src/renderer/api';
import { createAppRouter } from '../../src/renderer/router';
import { buildPreset, PRESET_LABELS, RunSpecSchema, type ModelSpec, type RunSpec } from '../../src/shared/spec';
import { FakeApi } from './fakeApi';
import { fashion } from './fixtures';

let api: FakeApi;
let wrapper: VueWrapper;

async function mountAt(path: string): Promise<VueWrapper> {
  const pinia = createPinia();
  setActivePinia(pinia);
  const router = createAppRouter(createMemoryHistory());
  await router.push(path);
  await router.isReady();
  wrapper = mount(App, { global: { plugins: [pinia, router] }, attachTo: document.body });
  await flushPromises();
  return wrapper;
}

beforeEach(() => {
  api = new FakeApi().handle('datasets.list', () => [fashion]).handle('runs.start', () => ({ runId: 12 }));
  setApi(api);
});
afterEach(() => {
  wrapper?.unmount();
  setApi(null);
});

const q = (w: VueWrapper, id: string) => w.get(`[data-testid="${id}"]`);

describe('New run form', () => {
  it('starts from sensible defaults and the dataset shape', async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    expect((q(w, 'run-dataset').element as HTMLSelectElement).value).toBe('3');
    expect((q(w, 'run-optimizer').element as HTMLSelectElement).value).toBe('adam');
    expect((q(w, 'run-learning-rate').element as HTMLInputElement).value).toBe('0.001');
    expect((q(w, 'run-batch-size').element as HTMLInputElement).value).toBe('64');
    expect((q(w, 'run-epochs').element as HTMLInputElement).value).toBe('2');
    expect((q(w, 'run-seed').element as HTMLInputElement).value).toBe('42');
    expect((q(w, 'run-height').element as HTMLInputElement).value).toBe('28');
    expect((q(w, 'run-channels').element as HTMLSelectElement).value).toBe('1');
    expect(w.find('[data-testid="run-form-error"]').exists()).toBe(false);
    expect(q(w, 'run-start').attributes('disabled')).toBeUndefined();
  });

  it('a box clicked in the architecture marks its layer-table row, and a row clicked selects its box and opens it in the editor', async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    await q(w, 'run-preset').setValue('lenet5');
    const row = (name: string) => w.findAll('[data-testid="layer-row"]').find((r) => r.get('[data-testid="layer-name"]').text() === name)!;
    await w.get('[data-testid="arch-node"][data-node-name="conv2d_2"]').trigger('click');
    expect(row('conv2d_2').attributes('data-selected')).toBe('true');
    expect(w.findAll('[data-testid="layer-row"][data-selected="true"]')).toHaveLength(1);
    await row('dense_1').trigger('click');
    expect(w.get('[data-testid="arch-node"][data-node-name="dense_1"]').attributes('data-selected')).toBe('true');
    expect(w.get('[data-testid="arch-selected"]').text()).toBe('dense_1');
    expect(row('conv2d_2').attributes('data-selected')).toBeUndefined();
  });

  it('names the field and disables Start for batch size 0', async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    await q(w, 'run-batch-size').setValue('0');
    const err = q(w, 'run-form-error');
    // The field's label, the rule in words, the spec path for reference.
    expect(err.text()).toBe('Batch size: must be a whole number ≥ 1 (training.batchSize)');
    expect(q(w, 'run-start').attributes('disabled')).toBeDefined();
    expect(q(w, 'run-batch-size').attributes('aria-invalid')).toBe('true');
    // Enter (form submit) does not send an invalid spec.
    await q(w, 'new-run-form').trigger('submit');
    expect(api.calls.some((c) => c.name === 'runs.start')).toBe(false);

    await q(w, 'run-batch-size').setValue('32');
    expect(w.find('[data-testid="run-form-error"]').exists()).toBe(false);
    expect(q(w, 'run-start').attributes('disabled')).toBeUndefined();
  });

  it("shows LeNet-5's layer shapes and parameter counts for 28×28×1", async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    await q(w, 'run-preset').setValue('lenet5');
    // Independent computation: conv (P·P·d + 1)·K, dense (n + 1)·m, sizes (N + 2z − P)/s + 1.
    const conv = (p: number, d: number, k: number) => (p * p * d + 1) * k;
    const dense = (n: number, m: number) => (n + 1) * m;
    const size = (n: number, p: number, s: number, z: number) => Math.floor((n + 2 * z - p) / s) + 1;
    const h1 = size(28, 5, 1, 2); // 'same' padding: z = 2 → 28
    const p1 = size(h1, 2, 2, 0); // 14
    const h2 = size(p1, 5, 1, 0); // 10
    const p2 = size(h2, 2, 2, 0); // 5
    const flat = p2 * p2 * 16; // 400
    const expected = [conv(5, 1, 6), 0, conv(5, 6, 16), 0, 0, dense(flat, 120), dense(120, 84), dense(84, 10)];
    expect(expected.slice(0, 3)).toEqual([156, 0, 2416]);

    const rows = w.findAll('[data-testid="layer-row"]');
    const params = rows.map((r) => Number(r.get('[data-testid="layer-params"]').text().replace(/,/g, '')));
    expect(rows.map((r) => r.attributes('data-layer-type'))).toEqual(['conv2d', 'maxPooling2d', 'conv2d', 'maxPooling2d', 'flatten', 'dense', 'dense', 'dense']);
    expect(params).toEqual(expected);
    expect(rows[0].text()).toContain(`(${h1}, ${h1}, 6)`);
    expect(rows[2].text()).toContain(`(${h2}, ${h2}, 16)`);
    expect(rows[4].text()).toContain(`(${flat})`);
    const total = expected.reduce((a, b) => a + b, 0);
    expect(total).toBe(61706);
    expect(Number(q(w, 'total-params').text().replace(/,/g, ''))).toBe(total);
  });

  it('sends a valid spec and opens the run page; server errors name the field', async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    await q(w, 'run-epochs').setValue('3');
    await q(w, 'new-run-form').trigger('submit');
    await flushPromises();
    const call = api.calls.find((c) => c.name === 'runs.start');
    expect(call).toBeDefined();
    const spec = (call?.params as { spec: { training: { epochs: number; batchSize: number }; datasetId: number } }).spec;
    expect(spec.datasetId).toBe(3);
    expect(spec.training.epochs).toBe(3);

    api.handle('runs.start', () => {
      throw Object.assign(new Error('dataset has no training items'), { code: 'invalid_params', field: 'spec.datasetId' });
    });
    await mountAt('/runs/new?datasetId=3');
    await q(wrapper, 'new-run-form').trigger('submit');
    await flushPromises();
    expect(q(wrapper, 'run-form-error').text()).toBe('Dataset: dataset has no training items (datasetId)');
  });

  it('shows one readable message per form field (dropout on two layers is one message)', async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    await q(w, 'run-dropout').setValue('1');
    await q(w, 'run-learning-rate').setValue('0');
    const lines = w.findAll('[data-testid="run-form-error"] .issue').map((l) => l.text());
    expect(lines).toEqual(['Dropout rate: must be less than 1 (model.nodes[1].layer.rate, model.nodes[3].layer.rate)', 'Learning rate: must be greater than 0 (training.optimizer.learningRate)']);
    expect(q(w, 'run-dropout').attributes('aria-invalid')).toBe('true');
    await q(w, 'run-dropout').setValue('');
    expect(q(w, 'run-form-error').text()).not.toContain('NaN');
  });

  it('defaults the input of a large mixed-size photo dataset to at most 64 px a side, and warns about huge models and a missing test split', async () => {
    const photos = { ...fashion, id: 4, name: 'hymenoptera', classCount: 2, counts: { train: 245, val: 153, test: 0 }, typicalShape: [512, 768, 3] as [number, number, number] };
    api.handle('datasets.list', () => [fashion, photos]);
    const w = await mountAt('/runs/new?datasetId=4');
    expect((q(w, 'run-height').element as HTMLInputElement).value).toBe('64');
    expect((q(w, 'run-width').element as HTMLInputElement).value).toBe('64');
    expect((q(w, 'run-channels').element as HTMLSelectElement).value).toBe('3');
    expect(w.find('[data-testid="run-form-ok"]').exists()).toBe(true);
    const warnings = () => w.findAll('[data-testid="run-form-warning"]').map((x) => x.text());
    expect(warnings()).toEqual(['This dataset has no test split: the run will report no test accuracy.']);
    // The photos' own size: an MLP of 151 million parameters; still valid, but warned about.
    await q(w, 'run-height').setValue('512');
    await q(w, 'run-width').setValue('768');
    expect(Number(q(w, 'total-params').text().replace(/,/g, ''))).toBeGreaterThan(150_000_000);
    expect(warnings()[0]).toMatch(/^This model has 151 million parameters/);
    expect(q(w, 'run-start').attributes('disabled')).toBeUndefined();
  });

  it('without a usable GPU (system.info), the GPU choice is disabled and flagged; a gpu form is not sent; the server refusal names the Backend field', async () => {
    api.handle('system.info', () => ({ version: '0', dataDir: '/d', host: 'headless', sampleDatasetPath: null, gpu: { available: false, detail: 'no WebGPU adapter' } }));
    const w = await mountAt('/runs/new?datasetId=3');
    const opt = q(w, 'run-backend-gpu');
    expect(opt.attributes('disabled')).toBeDefined();
    expect(opt.text()).toBe('GPU (none found)');
    expect(q(w, 'run-gpu-note').text()).toBe('No usable GPU on this machine (no WebGPU adapter): runs train on the CPU.');
    // Chosen anyway (e.g. a form state from before): Start is disabled, the field flagged, nothing sent.
    (q(w, 'run-backend').element as HTMLSelectElement).value = 'gpu';
    await q(w, 'run-backend').trigger('change');
    expect(q(w, 'run-form-error').text()).toBe('Backend: this machine has no usable GPU (no WebGPU adapter); choose Auto or CPU (backend)');
    expect(q(w, 'run-start').attributes('disabled')).toBeDefined();
    expect(q(w, 'run-backend').attributes('aria-invalid')).toBe('true');
    await q(w, 'new-run-form').trigger('submit');
    expect(api.calls.some((c) => c.name === 'runs.start')).toBe(false);
  });

  it('with a GPU, the GPU choice is offered', async () => {
    api.handle('system.info', () => ({ version: '0', dataDir: '/d', host: 'headless', sampleDatasetPath: null, gpu: { available: true, detail: 'NVIDIA H200' } }));
    const w = await mountAt('/runs/new?datasetId=3');
    expect(q(w, 'run-backend-gpu').attributes('disabled')).toBeUndefined();
    expect(w.find('[data-testid="run-gpu-note"]').exists()).toBe(false);
  });
});

/** The spec the form sent with runs.start. */
function sentSpec(): RunSpec {
  const call = [...api.calls].reverse().find((c) => c.name === 'runs.start');
  if (!call) throw new Error('runs.start was not called');
  return (call.params as { spec: RunSpec }).spec;
}
async function submit(w: VueWrapper): Promise<void> {
  await q(w, 'new-run-form').trigger('submit');
  await flushPromises();
}
/** Choose a file in the Import spec input, as the browser's file dialog does. */
async function importFile(w: VueWrapper, name: string, text: string): Promise<void> {
  const input = q(w, 'run-import-file');
  Object.defineProperty(input.element, 'files', { value: [new File([text], name, { type: 'application/json' })], configurable: true });
  await input.trigger('change');
  await flushPromises();
  await new Promise((r) => setTimeout(r, 20));
  await flushPromises();
}
/** What "Export …" downloads: the Blob handed to URL.createObjectURL, read back as JSON, and the file name. */
async function captureDownload(w: VueWrapper, testid: string): Promise<{ name: string; json: unknown }> {
  const blobs: Blob[] = [];
  const names: string[] = [];
  const orig = URL.createObjectURL;
  const click = HTMLAnchorElement.prototype.click;
  URL.createObjectURL = (b: Blob | MediaSource) => {
    blobs.push(b as Blob);
    return 'blob:captured';
  };
  HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
    names.push(this.download);
  };
  try {
    await q(w, testid).trigger('click');
  } finally {
    URL.createObjectURL = orig;
    HTMLAnchorElement.prototype.click = click;
  }
  expect(blobs).toHaveLength(1);
  return { name: names[0], json: JSON.parse(await blobs[0].text()) };
}

describe('New run form generated from the schemas', () => {
  it('each optimizer shows its own fields with the schema defaults; a typed learning rate is kept across optimizers, an untouched one follows the optimizer', async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    const has = (id: string) => w.find(`[data-testid="${id}"]`).exists();
    expect(['run-beta1', 'run-beta2', 'run-epsilon'].every(has)).toBe(true);
    expect(has('run-momentum')).toBe(false);
    await q(w, 'run-optimizer').setValue('sgd');
    expect(['run-beta1', 'run-momentum', 'run-epsilon', 'run-rho'].some(has)).toBe(false);
    // Untouched: SGD's own starting rate (0.01, the Keras default) instead of Adam's 0.001.
    expect((q(w, 'run-learning-rate').element as HTMLInputElement).value).toBe('0.01');
    await q(w, 'run-optimizer').setValue('momentum');
    expect((q(w, 'run-momentum').element as HTMLInputElement).value).toBe('0.9');
    await q(w, 'run-learning-rate').setValue('0.05');
    await q(w, 'run-optimizer').setValue('rmsprop');
    expect((q(w, 'run-learning-rate').element as HTMLInputElement).value).toBe('0.05');
    expect((q(w, 'run-rho').element as HTMLInputElement).value).toBe('0.9');
    // RMSprop's own momentum default (0), not the 0.9 the momentum optimizer started with.
    expect((q(w, 'run-momentum').element as HTMLInputElement).value).toBe('0');
    // The bounds of the inputs are the schema's: rho in (0, 1).
    expect(q(w, 'run-rho').attributes('min')).toBe('0');
    expect(q(w, 'run-rho').attributes('max')).toBe('1');
    await q(w, 'run-learning-rate-schedule').setValue('step');
    expect((q(w, 'run-step-size').element as HTMLInputElement).value).toBe('1');
    await q(w, 'run-gamma').setValue('0');
    expect(q(w, 'run-form-error').text()).toBe('Gamma: must be greater than 0 (training.learningRateSchedule.gamma)');
    expect(q(w, 'run-gamma').attributes('aria-invalid')).toBe('true');
    await q(w, 'run-gamma').setValue('0.5');
    await submit(w);
    expect(sentSpec().training.optimizer).toEqual({ type: 'rmsprop', learningRate: 0.05, rho: 0.9, momentum: 0, epsilon: 1e-7 });
    expect(sentSpec().training.learningRateSchedule).toEqual({ type: 'step', stepSize: 1, gamma: 0.5 });
  });

  it('each problem is also shown beside its own field, and goes when fixed', async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    await q(w, 'run-batch-size').setValue('0');
    await q(w, 'run-dropout').setValue('1');
    await q(w, 'run-learning-rate').setValue('');
    expect(q(w, 'run-batch-size-error').text()).toBe('must be a whole number ≥ 1');
    expect(q(w, 'run-dropout-error').text()).toBe('must be less than 1');
    expect(q(w, 'run-learning-rate-error').text()).toBe('enter a number');
    expect(w.find('[data-testid="run-epochs-error"]').exists()).toBe(false);
    await q(w, 'run-batch-size').setValue('8');
    expect(w.find('[data-testid="run-batch-size-error"]').exists()).toBe(false);
    expect(q(w, 'run-dropout-error').text()).toBe('must be less than 1');
  });

  it('a hidden-units value the dense layer refuses is named on the hidden-units field', async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    await q(w, 'run-hidden1').setValue('0');
    expect(q(w, 'run-form-error').text()).toBe('Hidden units 1: must be a whole number ≥ 1 (model.nodes[1].layer.units)');
    expect(q(w, 'run-hidden1').attributes('aria-invalid')).toBe('true');
    await q(w, 'run-hidden1').setValue('');
    expect(q(w, 'run-form-error').text()).toBe('Hidden units 1: enter a whole number (preset.hidden1)');
  });

  it('the preset picker lists every preset with its options; a preset that cannot be built says why and blocks Start', async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    const options = q(w, 'run-preset').findAll('option').map((o) => [o.attributes('value'), o.text()]);
    expect(options).toEqual(Object.entries(PRESET_LABELS).filter(([k]) => k !== 'custom'));
    const has = (id: string) => w.find(`[data-testid="${id}"]`).exists();
    expect(['run-hidden-layers', 'run-hidden1', 'run-dropout', 'run-batchnorm'].every(has)).toBe(true);
    expect(has('run-hidden2')).toBe(false);
    await q(w, 'run-hidden-layers').setValue('2');
    expect(has('run-hidden2')).toBe(true);
    await q(w, 'run-preset').setValue('mobilenet');
    expect(['run-width-multiplier', 'run-dropout'].every(has)).toBe(true);
    expect(['run-hidden1', 'run-batchnorm'].some(has)).toBe(false);
    await q(w, 'run-preset').setValue('resnet20');
    expect(has('run-batchnorm')).toBe(false);
    // Whatever src/shared/presets-deep.ts gives today: its refusal, or its graph.
    let built: ModelSpec | null = null;
    let refusal = '';
    try {
      built = buildPreset('resnet20', { inputShape: [28, 28, 1], numClasses: 10 });
    } catch (e) {
      refusal = (e as Error).message.replace(/^preset: /, '');
    }
    if (built) {
      expect(w.findAll('[data-testid="layer-row"]').map((r) => r.attributes('data-node-name'))).toEqual(built.nodes?.map((n) => n.name));
      expect(q(w, 'run-model-status').text()).toBe('ResNet-20');
    } else {
      expect(q(w, 'run-form-error').text()).toBe(`Preset: ${refusal} (preset)`);
      expect(q(w, 'run-preset').attributes('aria-invalid')).toBe('true');
      expect(q(w, 'run-start').attributes('disabled')).toBeDefined();
    }
  });
});

describe('Spec JSON export and import', () => {
  it('Export spec downloads the RunSpec that Start sends; Export model the ModelSpec', async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    await q(w, 'run-preset').setValue('lenet5');
    await q(w, 'run-epochs').setValue('3');
    const run = await captureDownload(w, 'run-export-spec');
    expect(run.name).toBe('lenet5-run-spec.json');
    const model = await captureDownload(w, 'run-export-model');
    expect(model.name).toBe('lenet5-model.json');
    expect(model.json).toEqual(JSON.parse(JSON.stringify(buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }))));
    await submit(w);
    expect(run.json).toEqual(JSON.parse(JSON.stringify(sentSpec())));
    expect(RunSpecSchema.parse(run.json)).toEqual(sentSpec());
  });

  it('Import spec fills the form and the model from a RunSpec file; Start sends it', async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    const model = buildPreset('lenet5', { inputShape: [32, 32, 1], numClasses: 10, batchNormalization: true });
    const file = { datasetId: 3, model, training: { optimizer: { type: 'sgd', learningRate: 0.05 }, batchSize: 16, epochs: 4, augmentation: { horizontalFlip: true } }, seed: 7, backend: 'cpu' };
    await importFile(w, 'lenet.json', JSON.stringify(file));
    expect(w.find('[data-testid="run-import-error"]').exists()).toBe(false);
    expect(q(w, 'run-import-notice').text()).toBe('Imported the run spec from lenet.json.');
    const val = (id: string) => (q(w, id).element as HTMLInputElement).value;
    expect([val('run-optimizer'), val('run-learning-rate'), val('run-batch-size'), val('run-epochs'), val('run-seed'), val('run-backend'), val('run-height'), val('run-preset')]).toEqual(['sgd', '0.05', '16', '4', '7', 'cpu', '32', 'lenet5']);
    expect((q(w, 'run-horizontal-flip').element as HTMLInputElement).checked).toBe(true);
    // The file's model has batch normalization, the form's LeNet-5 options do not: the imported graph is kept as it is.
    expect(q(w, 'run-model-status').text()).toBe('Custom (imported from lenet.json)');
    expect(w.findAll('[data-testid="layer-row"]').map((r) => r.attributes('data-node-name'))).toEqual(model.nodes?.map((n) => n.name));
    await submit(w);
    const sent = sentSpec();
    expect(sent.model.nodes).toEqual(model.nodes);
    expect(sent.model.preset).toBe('custom');
    expect(sent.training).toEqual(RunSpecSchema.parse(file).training);
    expect([sent.seed, sent.backend]).toEqual([7, 'cpu']);
    const startCall = [...api.calls].reverse().find((c) => c.name === 'runs.start');
    expect((startCall?.params as { name?: string }).name).toBe('Custom (imported from lenet.json) on Fashion-MNIST');
  });

  it('an imported (edited) graph follows the input size, is kept when the preset settings change, and Rebuild discards it', async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    const model = buildPreset('lenet5', { inputShape: [32, 32, 1], numClasses: 10, batchNormalization: true });
    await importFile(w, 'lenet.json', JSON.stringify(model));
    expect(q(w, 'run-model-status').text()).toBe('Custom (imported from lenet.json)');
    const bn = () => w.findAll('[data-testid="layer-row"]').filter((r) => r.attributes('data-layer-type') === 'batchNormalization').length;
    expect(bn()).toBe(4);
    await q(w, 'run-height').setValue('28');
    await q(w, 'run-width').setValue('28');
    expect(q(w, 'run-model-status').text()).toBe('Custom (imported from lenet.json)');
    expect(bn()).toBe(4);
    // The first conv's output follows the new input: 28×28 with 'same' padding.
    expect(w.findAll('[data-testid="layer-row"]')[0].text()).toContain('(28, 28, 6)');
    await q(w, 'run-dropout').setValue('0.3');
    expect(w.find('[data-testid="run-model-preset-changed"]').exists()).toBe(true);
    expect(w.findAll('[data-testid="layer-row"]').some((r) => r.attributes('data-layer-type') === 'dropout')).toBe(false);
    await q(w, 'run-model-rebuild').trigger('click');
    expect(q(w, 'run-model-status').text()).toBe('LeNet-5');
    expect(bn()).toBe(0);
    expect(w.findAll('[data-testid="layer-row"]').filter((r) => r.attributes('data-layer-type') === 'dropout')).toHaveLength(3);
    expect(w.find('[data-testid="run-model-rebuild"]').exists()).toBe(false);
  });

  it('a ModelSpec file the preset gives is not "custom"; an old layer-list file becomes its graph', async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    await importFile(w, 'lenet-model.json', JSON.stringify(buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 })));
    expect(q(w, 'run-import-notice').text()).toBe('Imported the model from lenet-model.json.');
    expect(q(w, 'run-model-status').text()).toBe('LeNet-5');
    const layerList = { preset: 'custom', inputShape: [28, 28, 1], numClasses: 10, layers: [{ type: 'conv2d', filters: 4, kernelSize: 3 }, { type: 'dense', units: 10 }] };
    await importFile(w, 'old.json', JSON.stringify(layerList));
    // The layer list's implicit flatten is a node of its own now.
    expect(w.findAll('[data-testid="layer-row"]').map((r) => r.attributes('data-node-name'))).toEqual(['conv2d_0', 'flatten_auto_1', 'dense_1']);
    expect(q(w, 'run-model-status').text()).toBe('Custom (imported from old.json)');
  });

  it('Import refuses a file that is not a valid spec, naming the file and the field path, and leaves the form as it was', async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    await importFile(w, 'broken.json', '{"model": ');
    expect(q(w, 'run-import-error').text()).toMatch(/^broken\.json: not JSON \(/);
    const model = buildPreset('mlp', { inputShape: [28, 28, 1], numClasses: 10 });
    await importFile(w, 'bad.json', JSON.stringify({ model, training: { optimizer: { type: 'adam', learningRate: 0.001 }, batchSize: 0 } }));
    expect(q(w, 'run-import-error').text()).toBe('bad.json: training.batchSize: Batch size must be a whole number ≥ 1');
    const tiny = buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 });
    await importFile(w, 'tiny.json', JSON.stringify({ ...tiny, inputShape: [8, 8, 1] }));
    // By hand: 8×8 → conv 5×5 'same' 8×8×6 → pool 4×4×6 → conv 5×5 'valid' (4 − 5)/1 + 1 = 0: the third node.
    expect(q(w, 'run-import-error').text()).toMatch(/^tiny\.json: nodes\[2\] \("conv2d_2", conv2d\): output would be empty: input \[4, 4, 6\] gives \[0, 0, 16\]/);
    expect((q(w, 'run-batch-size').element as HTMLInputElement).value).toBe('64');
    expect(q(w, 'run-model-status').text()).toBe('MLP');
    expect(w.find('[data-testid="run-form-ok"]').exists()).toBe(true);
  });
});

