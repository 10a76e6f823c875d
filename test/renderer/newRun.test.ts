// @vitest-environment happy-dom
/** The New-run form: client-side validation naming the field, and the live layer table. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createMemoryHistory } from 'vue-router';
import App from '../../src/renderer/App.vue';
import { setApi } from '../../src/renderer/api';
import { createAppRouter } from '../../src/renderer/router';
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
    expect(lines).toEqual(['Dropout rate: must be less than 1 (model.layers[1].rate, model.layers[3].rate)', 'Learning rate: must be greater than 0 (training.optimizer.learningRate)']);
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
});
