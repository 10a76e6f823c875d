// @vitest-environment happy-dom
/**
 * Class deletion says how many images become unlabeled and passes that count; a confusion
 * matrix cell opens the labeling view filtered to that cell; suggestions resolve by key.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createMemoryHistory, type Router } from 'vue-router';
import App from '../../src/renderer/App.vue';
import ClassesPanel from '../../src/renderer/components/ClassesPanel.vue';
import { setApi } from '../../src/renderer/api';
import { createAppRouter } from '../../src/renderer/router';
import type { ClassInfo, DatasetDetail, Metric, RunDetail } from '../../src/shared/api';
import { buildPreset } from '../../src/shared/spec';
import { FakeApi } from './fakeApi';
import { fashion, run } from './fixtures';
import { sizeThumbGrid } from './layout';

sizeThumbGrid();

const classes: ClassInfo[] = [
  { id: 11, index: 0, name: 'T-shirt', color: '#ff0000', counts: { train: 10, val: 2, test: 3, total: 15 } },
  { id: 12, index: 1, name: 'Trouser', color: null, counts: { train: 1000, val: 134, test: 100, total: 1234 } },
];
const detail: DatasetDetail = { ...fashion, classCount: 2, classes, split: { mode: 'given', train: 80, val: 10, test: 10, valFromTrain: 10, seed: 1 }, imports: [] };

let api: FakeApi;
let wrapper: VueWrapper | undefined;
let router: Router;

async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await flushPromises();
    await new Promise((r) => setTimeout(r, 0));
  }
}

beforeEach(() => {
  api = new FakeApi();
  setApi(api);
});
afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  setApi(null);
});

describe('Classes panel', () => {
  it('confirms a delete with the number of images that become unlabeled and passes confirmCount', async () => {
    setActivePinia(createPinia());
    api.handle('classes.delete', (p) => ({ unlabeled: p.confirmCount })).handle('datasets.list', () => [fashion]);
    wrapper = mount(ClassesPanel, { props: { datasetId: 3, classes }, attachTo: document.body });
    const row = wrapper.findAll('[data-testid="class-item"]')[1];
    expect(row.attributes('data-class-name')).toBe('Trouser');
    await row.get('[data-testid="class-delete"]').trigger('click');
    const msg = wrapper.get('[data-testid="class-delete-dialog-message"]').text();
    expect(msg).toBe('Delete the class “Trouser”? 1,234 images will become unlabeled.');
    expect(api.calls).toHaveLength(0);
    await wrapper.get('[data-testid="class-delete-dialog-confirm"]').trigger('click');
    await settle();
    expect(api.calls.filter((c) => c.name === 'classes.delete').map((c) => c.params)).toEqual([{ classId: 12, confirmCount: 1234 }]);
    expect(wrapper.find('[data-testid="class-delete-dialog"]').exists()).toBe(false);
  });

  it('cancelling the delete calls nothing; add, rename and merge call their requests', async () => {
    setActivePinia(createPinia());
    api
      .handle('classes.add', (p) => ({ ...classes[0], id: 14, name: p.name }))
      .handle('classes.update', (p) => ({ ...classes[0], name: p.name ?? 'T-shirt' }))
      .handle('classes.merge', () => ({ moved: 15 }))
      .handle('datasets.list', () => [fashion]);
    wrapper = mount(ClassesPanel, { props: { datasetId: 3, classes }, attachTo: document.body });
    await wrapper.findAll('[data-testid="class-delete"]')[0].trigger('click');
    await wrapper.get('[data-testid="class-delete-dialog-cancel"]').trigger('click');
    await wrapper.get('[data-testid="class-add-name"]').setValue('Sneaker');
    await wrapper.get('[data-testid="class-add-form"]').trigger('submit');
    await settle();
    await wrapper.findAll('[data-testid="class-rename"]')[0].trigger('click');
    const input = wrapper.get('[data-testid="class-rename-input"]');
    await input.setValue('Top');
    await input.trigger('keydown', { key: 'Enter' });
    await settle();
    await wrapper.findAll('[data-testid="class-merge"]')[0].trigger('click');
    await wrapper.get('[data-testid="class-merge-target"]').setValue('12');
    await wrapper.get('[data-testid="class-merge-confirm"]').trigger('click');
    await settle();
    expect(api.calls.map((c) => [c.name, c.params]).filter(([n]) => String(n).startsWith('classes.'))).toEqual([
      ['classes.add', { datasetId: 3, name: 'Sneaker', color: '#4c78a8' }],
      ['classes.update', { classId: 11, name: 'Top' }],
      ['classes.merge', { sourceClassId: 11, targetClassId: 12 }],
    ]);
  });
});

describe('From a run’s mistakes back to the labels', () => {
  const runDetail: RunDetail = {
    ...run({ id: 7, name: 'lenet', status: 'completed', testAccuracy: 0.8, datasetVersionId: 2 }),
    spec: { datasetId: 3, model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 2 }), training: { optimizer: { type: 'adam', learningRate: 0.001 }, batchSize: 32, epochs: 1 } as never, seed: 1, backend: 'auto' } as never,
  };

  async function mountRun(): Promise<VueWrapper> {
    const pinia = createPinia();
    setActivePinia(pinia);
    api
      .handle('datasets.list', () => [fashion])
      .handle('runs.list', () => [runDetail])
      .handle('runs.get', () => runDetail)
      .handle('runs.metrics', () => [])
      .handle('datasets.get', () => detail)
      .handle('runs.confusion', (p) => ({ runId: 7, split: p.split ?? 'test', splitCounts: { train: 800, val: 92, test: 200 }, classIds: [11, 12], classNames: ['T-shirt', 'Trouser'], counts: p.split === 'test' ? [[90, 10], [5, 95]] : [[40, 2], [0, 50]], accuracy: 0.925 }))
      .handle('suggestions.list', () => ({
        total: 2,
        suggestions: [
          { item: { id: 501, hash: 'ha', name: 'a.png', classId: 11, split: 'test', width: 28, height: 28 }, givenClassId: 11, suggestedClassId: 12, score: 0.91, status: 'open' },
          { item: { id: 502, hash: 'hb', name: 'b.png', classId: 12, split: 'val', width: 28, height: 28 }, givenClassId: 12, suggestedClassId: 11, score: 0.5, status: 'open' },
        ],
      }))
      .handle('suggestions.resolve', () => ({ ok: true }))
      .handle('labels.history', () => ({ events: [], canUndo: false, canRedo: false }))
      .handle('versions.list', () => [])
      .handle('datasets.items', (p) => ({
        total: 1,
        items: [{ id: 600, hash: 'hc', name: 'c.png', classId: p.trueClassId ?? 11, split: 'test', width: 28, height: 28, prediction: { classId: p.predictedClassId ?? 12, confidence: 0.83, givenProbability: 0.1 } }],
      }));
    router = createAppRouter(createMemoryHistory());
    await router.push('/runs/7');
    await router.isReady();
    wrapper = mount(App, { global: { plugins: [pinia, router], stubs: { EChart: true } }, attachTo: document.body });
    await settle();
    return wrapper;
  }

  it('clicking a confusion cell opens the labeling view filtered to it, with predictions on the tiles', async () => {
    const w = await mountRun();
    expect(w.get('[data-testid="run-version"]').attributes('href')).toContain('diffFrom=2');
    const cells = w.findAll('[data-testid="confusion-cell"]');
    expect(cells.map((c) => c.attributes('data-count'))).toEqual(['90', '10', '5', '95']);
    const off = cells[1];
    expect(off.attributes('data-true-class-id')).toBe('11');
    expect(off.attributes('data-predicted-class-id')).toBe('12');
    await off.trigger('click');
    await settle();
    expect(router.currentRoute.value.path).toBe('/datasets/3/label');
    expect(router.currentRoute.value.query).toEqual({ runId: '7', trueClassId: '11', predictedClassId: '12', split: 'test' });
    const items = api.calls.filter((c) => c.name === 'datasets.items').at(-1)!.params;
    expect(items).toMatchObject({ datasetId: 3, runId: 7, trueClassId: 11, predictedClassId: 12, split: 'test' });
    const pred = w.get('[data-testid="tile-prediction"]');
    expect(pred.attributes('data-predicted-class')).toBe('Trouser');
    expect(pred.text()).toBe('Trouser 83%');
    expect(pred.classes()).toContain('wrong');
  });

  it('the val/test toggle reloads the matrix; a val cell links with split=val', async () => {
    const w = await mountRun();
    await w.get('[data-testid="confusion-split-val"]').trigger('click');
    await settle();
    expect(w.get('[data-testid="confusion-matrix"]').attributes('data-split')).toBe('val');
    await w.findAll('[data-testid="confusion-cell"]')[0].trigger('click');
    await settle();
    expect(router.currentRoute.value.query).toEqual({ runId: '7', trueClassId: '11', predictedClassId: '11', split: 'val' });
  });

  it('suggestions: a / r / x on the focused row resolve it', async () => {
    const w = await mountRun();
    const rows = w.findAll('[data-testid="suggestion-row"]');
    expect(rows.map((r) => [r.attributes('data-given-class'), r.attributes('data-suggested-class')])).toEqual([
      ['T-shirt', 'Trouser'],
      ['Trouser', 'T-shirt'],
    ]);
    // Where the suggestions come from, what the score is, and the test-set caveat.
    const note = w.get('[data-testid="suggestions-note"]').text();
    expect(note).toContain('val and test');
    expect(note).toContain('out-of-sample');
    expect(note).toContain('p(suggested) − p(given)');
    expect(note).toContain('biases its test accuracy');
    expect(rows.map((r) => r.get('[data-testid="suggestion-split"]').text())).toEqual(['test', 'val']);
    await rows[0].trigger('keydown', { key: 'a' });
    await settle();
    expect(api.calls.filter((c) => c.name === 'suggestions.resolve').map((c) => c.params)).toEqual([{ runId: 7, itemId: 501, action: 'accept' }]);
    expect(w.findAll('[data-testid="suggestion-row"]')).toHaveLength(1);
    await w.get('[data-testid="suggestion-row"]').trigger('keydown', { key: 'x' });
    await settle();
    expect(api.calls.filter((c) => c.name === 'suggestions.resolve').map((c) => c.params)[1]).toEqual({ runId: 7, itemId: 502, action: 'exclude' });
  });
});

describe('A cancelled run', () => {
  it('shows the best val accuracy and where it stopped (epoch X/N, step S) from its metrics', async () => {
    const cancelled: RunDetail = {
      ...run({ id: 8, name: 'stopped', status: 'cancelled', testAccuracy: null, bestValAccuracy: null }),
      spec: { datasetId: 3, model: buildPreset('linear', { inputShape: [28, 28, 1], numClasses: 2 }), training: { optimizer: { type: 'adam', learningRate: 0.001 }, batchSize: 32, epochs: 5 } as never, seed: 1, backend: 'auto' } as never,
    };
    const metrics: Metric[] = [
      ...Array.from({ length: 470 }, (_, s) => ({ name: 'loss' as const, epoch: s < 300 ? 0 : 1, step: s, value: 1 / (s + 1), time: s })),
      { name: 'val_accuracy', epoch: 0, step: null, value: 0.712, time: 300 },
      { name: 'val_loss', epoch: 0, step: null, value: 0.8, time: 300 },
    ];
    const pinia = createPinia();
    setActivePinia(pinia);
    api
      .handle('datasets.list', () => [fashion])
      .handle('runs.list', () => [cancelled])
      .handle('runs.get', () => cancelled)
      .handle('runs.metrics', () => metrics);
    router = createAppRouter(createMemoryHistory());
    await router.push('/runs/8');
    await router.isReady();
    wrapper = mount(App, { global: { plugins: [pinia, router], stubs: { EChart: true } }, attachTo: document.body });
    await settle();
    expect(wrapper.get('[data-testid="run-best-val"]').text()).toBe('71.20%');
    expect(wrapper.get('[data-testid="run-stopped"]').text()).toBe('stopped at epoch 2/5, step 470');
    expect(wrapper.find('[data-testid="run-results"]').exists()).toBe(false);
  });
});

describe('A run without a test split, from a model no better than chance', () => {
  const noTest: RunDetail = {
    ...run({ id: 9, name: 'hymenoptera', status: 'completed', testAccuracy: null, testLoss: null, bestValAccuracy: 0.51, datasetVersionId: 4 }),
    spec: { datasetId: 3, model: buildPreset('linear', { inputShape: [32, 32, 3], numClasses: 2 }), training: { optimizer: { type: 'sgd', learningRate: 1e-9 }, batchSize: 32, epochs: 1 } as never, seed: 5, backend: 'auto' } as never,
  };

  async function mountNoTest(): Promise<VueWrapper> {
    const pinia = createPinia();
    setActivePinia(pinia);
    api
      .handle('datasets.list', () => [fashion])
      .handle('runs.list', () => [noTest])
      .handle('runs.get', () => noTest)
      .handle('runs.metrics', () => [])
      .handle('datasets.get', () => detail)
      // The server's pick when no split is asked: val (the run has no test images).
      .handle('runs.confusion', (p) => ({ runId: 9, split: p.split ?? 'val', splitCounts: { train: 245, val: 153, test: 0 }, classIds: [11, 12], classNames: ['T-shirt', 'Trouser'], counts: p.split === 'train' ? [[100, 24], [90, 31]] : [[40, 30], [45, 38]], accuracy: 0.51 }))
      .handle('suggestions.list', () => ({
        total: 0,
        suggestions: [],
        gate: { passed: false, split: 'val', n: 153, correct: 78, accuracy: 78 / 153, lower: 0.431, upper: 0.588, majorityClassId: 12, majorityRate: 83 / 153 },
      }))
      .handle('labels.history', () => ({ events: [], canUndo: false, canRedo: false }))
      .handle('versions.list', () => []);
    router = createAppRouter(createMemoryHistory());
    await router.push('/runs/9');
    await router.isReady();
    wrapper = mount(App, { global: { plugins: [pinia, router], stubs: { EChart: true } }, attachTo: document.body });
    await settle();
    return wrapper;
  }

  it('says "no test split" instead of a test accuracy, and draws the val matrix, saying so', async () => {
    const w = await mountNoTest();
    expect(w.get('[data-testid="run-test-accuracy"]').text()).toBe('no test split');
    expect(w.find('[data-testid="run-test-loss"]').exists()).toBe(false);
    expect(api.calls.filter((c) => c.name === 'runs.confusion').map((c) => c.params)).toEqual([{ runId: 9 }]);
    expect(w.get('[data-testid="confusion-matrix"]').attributes('data-split')).toBe('val');
    expect(w.get('[data-testid="confusion-accuracy"]').text()).toBe('val accuracy 51.00%');
    expect(w.get('[data-testid="confusion-split-note"]').text()).toBe('No test split in this run: the matrix counts its val images (153).');
    expect(w.get('[data-testid="confusion-split-test"]').attributes('disabled')).toBeDefined();
    expect(w.get('[data-testid="confusion-split-val"]').classes()).toContain('on');
    await w.get('[data-testid="confusion-split-train"]').trigger('click');
    await settle();
    expect(w.get('[data-testid="confusion-matrix"]').attributes('data-split')).toBe('train');
  });

  it('shows no suggestions and says why, with the figures', async () => {
    const w = await mountNoTest();
    expect(w.findAll('[data-testid="suggestion-row"]')).toHaveLength(0);
    expect(w.get('[data-testid="suggestions-gate"]').text()).toBe(
      'No suggestions: the model is not clearly better than chance. Its val accuracy is 51.0% (95 % interval 43.1%–58.8%, 153 images), and always answering “Trouser” scores 54.2%. Suggestions are shown only when the interval\'s lower end is above that.',
    );
  });
});
