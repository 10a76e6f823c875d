// @vitest-environment happy-dom
/**
 * The run page's training controls (Resume, Re-run, New run from this one, the tested epoch)
 * and the New-run form filled in from a run (`/runs/new?from=RUN`), against a fake API.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createMemoryHistory, type Router } from 'vue-router';
import App from '../../src/renderer/App.vue';
import { setApi } from '../../src/renderer/api';
import { createAppRouter } from '../../src/renderer/router';
import type { Metric, RunDetail } from '../../src/shared/api';
import { buildPreset, parseRunSpec } from '../../src/shared/spec';
import { FakeApi } from './fakeApi';
import { fashion, run } from './fixtures';

let api: FakeApi;
let wrapper: VueWrapper;
let router: Router;

const spec = parseRunSpec({
  datasetId: 3,
  seed: 17,
  backend: 'cpu',
  model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }),
  training: {
    optimizer: { type: 'momentum', learningRate: 0.02, momentum: 0.8 },
    batchSize: 48,
    epochs: 5,
    earlyStopping: { monitor: 'val_loss', patience: 2, minDelta: 0.01 },
    learningRateSchedule: { type: 'cosine', warmupEpochs: 1 },
    randomLabels: true,
  },
});
const detail = (over: Partial<RunDetail>): RunDetail => ({ ...run({ id: 8, name: 'lenet baseline', preset: 'lenet5' }), spec, ...over });

async function mountAt(path: string): Promise<VueWrapper> {
  const pinia = createPinia();
  setActivePinia(pinia);
  router = createAppRouter(createMemoryHistory());
  await router.push(path);
  await router.isReady();
  wrapper = mount(App, { global: { plugins: [pinia, router], stubs: { EChart: true } }, attachTo: document.body });
  await flushPromises();
  return wrapper;
}
const q = (w: VueWrapper, id: string) => w.get(`[data-testid="${id}"]`);

beforeEach(() => {
  api = new FakeApi().handle('datasets.list', () => [fashion]).handle('runs.list', () => []);
  setApi(api);
});
afterEach(() => {
  wrapper?.unmount();
  setApi(null);
});

describe('run page controls', () => {
  it('a completed run shows the tested epoch, offers Re-run and New run from this one, not Resume', async () => {
    const current = detail({ status: 'completed', testAccuracy: 0.9, bestValAccuracy: 0.91, bestEpoch: 2, stoppedEarly: true });
    api.handle('runs.get', ({ runId }) => (runId === 8 ? current : detail({ id: 9, name: 'lenet baseline (re-run)', status: 'queued' }))).handle('runs.metrics', () => [] as Metric[]).handle('runs.rerun', () => ({ runId: 9 }));
    const w = await mountAt('/runs/8');
    expect(q(w, 'run-tested-epoch').text()).toBe('3 / 5 · stopped early');
    expect(q(w, 'run-tested-epoch').attributes('title')).toContain('the best by val loss');
    expect(q(w, 'run-tested-why').text()).toBe('the best by val loss, not the best val accuracy');
    expect(w.find('[data-testid="run-resume"]').exists()).toBe(false);
    expect(q(w, 'run-clone').attributes('href')).toBe('/runs/new?from=8');
    await q(w, 'run-rerun').trigger('click');
    await flushPromises();
    expect(api.calls.find((c) => c.name === 'runs.rerun')?.params).toEqual({ runId: 8 });
    expect(router.currentRoute.value.fullPath).toBe('/runs/9');
  });

  it('warns on a BN run whose training steps are fewer than 3 / (1 − momentum), not on one with enough or without BN', async () => {
    const bnModel = buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10, batchNormalization: true });
    const old = { ...bnModel, nodes: bnModel.nodes!.map((n) => (n.layer.type === 'batchNormalization' ? { ...n, layer: { ...n.layer, momentum: 0.99 } } : n)) };
    const steps = (n: number): Metric[] => Array.from({ length: n }, (_, i) => ({ name: 'loss', epoch: 0, step: i, value: 1, time: i }) as Metric);
    for (const [model, n, warns] of [[old, 64, true], [old, 300, false], [bnModel, 64, false], [spec.model, 5, false]] as const) {
      api = new FakeApi().handle('datasets.list', () => [fashion]).handle('runs.list', () => []);
      setApi(api);
      api.handle('runs.get', () => detail({ status: 'completed', spec: { ...spec, model } })).handle('runs.metrics', () => steps(n));
      const w = await mountAt('/runs/8');
      const warning = w.find('[data-testid="run-bn-warning"]');
      expect(warning.exists(), `${n} steps`).toBe(warns);
      if (warns) expect(warning.text()).toContain('momentum 0.99) have not settled: 64 training steps, about 300 needed');
      w.unmount();
    }
  });

  it('Resume on a cancelled run calls runs.resume and reloads its metrics', async () => {
    let status: RunDetail['status'] = 'cancelled';
    let metricsCalls = 0;
    api
      .handle('runs.get', () => detail({ status, bestValAccuracy: 0.7 }))
      .handle('runs.metrics', () => {
        metricsCalls++;
        return [{ name: 'val_accuracy', epoch: 0, step: null, value: 0.7, time: 1 }] as Metric[];
      })
      .handle('runs.resume', () => {
        status = 'queued';
        return { runId: 8, fromEpoch: 0 };
      });
    const w = await mountAt('/runs/8');
    expect(metricsCalls).toBe(1);
    await q(w, 'run-resume').trigger('click');
    await flushPromises();
    expect(api.calls.filter((c) => c.name === 'runs.resume').map((c) => c.params)).toEqual([{ runId: 8 }]);
    expect(metricsCalls).toBe(2);
    expect(q(w, 'run-status').text().toLowerCase()).toContain('queued');
    expect(w.find('[data-testid="run-resume"]').exists()).toBe(false);
  });

  it('shows the server’s refusal of a resume', async () => {
    api.handle('runs.get', () => detail({ status: 'interrupted', error: 'interrupted: the app stopped during the run' })).handle('runs.metrics', () => []).handle('runs.resume', () => {
      throw Object.assign(new Error('datasetId: the dataset changed since run 8 started'), { code: 'conflict', field: 'datasetId' });
    });
    const w = await mountAt('/runs/8');
    await q(w, 'run-resume').trigger('click');
    await flushPromises();
    expect(w.text()).toContain('the dataset changed since run 8 started');
  });
});

describe('New run from this one (?from=RUN)', () => {
  it('fills the form with the run’s spec, newer fields included; starting sends that spec', async () => {
    api.handle('runs.get', () => detail({ status: 'completed' })).handle('runs.start', () => ({ runId: 12 })).handle('runs.metrics', () => []);
    const w = await mountAt('/runs/new?from=8');
    const value = (id: string) => (q(w, id).element as HTMLInputElement).value;
    expect(value('run-dataset')).toBe('3');
    expect(value('run-optimizer')).toBe('momentum');
    expect(value('run-learning-rate')).toBe('0.02');
    expect(value('run-batch-size')).toBe('48');
    expect(value('run-epochs')).toBe('5');
    expect(value('run-seed')).toBe('17');
    expect(value('run-patience')).toBe('2');
    expect(value('run-monitor')).toBe('val_loss');
    expect((q(w, 'run-random-labels').element as HTMLInputElement).checked).toBe(true);
    expect(w.text()).toContain('Filled in from run 8 ("lenet baseline")');
    await q(w, 'run-epochs').setValue('7');
    await q(w, 'new-run-form').trigger('submit');
    await flushPromises();
    const sent = api.calls.find((c) => c.name === 'runs.start')?.params as { spec: typeof spec };
    expect(sent.spec.training).toEqual({ ...spec.training, epochs: 7 });
    expect(sent.spec.model).toEqual(spec.model);
    expect(sent.spec.seed).toBe(17);
  });
});

describe('learning-rate range test on the New-run page', () => {
  it('runs runs.lrRange on the form’s spec, shows the suggestion, and Use it sets the learning rate', async () => {
    const points = [1e-6, 1e-4, 1e-2, 1].map((learningRate, step) => ({ step, learningRate, loss: 2 - step * 0.3, smoothed: 2 - step * 0.3 }));
    api.handle('runs.lrRange', () => ({ points, suggestedLearningRate: 0.0123456, minLossLearningRate: 1, diverged: true }));
    const w = await mountAt('/runs/new?datasetId=3');
    await q(w, 'lr-range-run').trigger('click');
    await flushPromises();
    const call = api.calls.find((c) => c.name === 'runs.lrRange')?.params as { spec: { datasetId: number; training: { batchSize: number } }; params: { steps: number } };
    expect(call.spec.datasetId).toBe(3);
    expect(call.spec.training.batchSize).toBe(64);
    expect(call.params).toEqual({ steps: 100 });
    expect(q(w, 'lr-range-suggested').text()).toContain('suggested 0.012');
    await q(w, 'lr-range-use').trigger('click');
    expect((q(w, 'run-learning-rate').element as HTMLInputElement).value).toBe('0.012');
  });
});

describe('augmentation preview on the New-run page', () => {
  it('asks runs.augmentPreview for the form’s spec and shows each image with its label', async () => {
    const png = 'data:image/png;base64,iVBORw0KGgo=';
    api.handle('runs.augmentPreview', () => ({ height: 28, width: 28, channels: 1, images: ['shirt', 'bag'].map((label, i) => ({ packIndex: i, label, pixelsBase64: '', png })) }));
    const w = await mountAt('/runs/new?datasetId=3');
    await q(w, 'run-horizontal-flip').setValue(true);
    await q(w, 'augment-preview-show').trigger('click');
    await flushPromises();
    const call = api.calls.find((c) => c.name === 'runs.augmentPreview')?.params as { spec: { training: { augmentation: { horizontalFlip: boolean } } }; count: number };
    expect(call.spec.training.augmentation.horizontalFlip).toBe(true);
    expect(call.count).toBe(16);
    const tiles = w.findAll('[data-testid="augment-preview-tile"]');
    expect(tiles.map((t) => t.text())).toEqual(['shirt', 'bag']);
    expect(tiles[0].get('img').attributes('src')).toBe(png);
  });
});
