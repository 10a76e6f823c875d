// @vitest-environment happy-dom
/**
 * A dataset can be deleted from the UI: from its page and from the datasets table, with a
 * confirmation that states what goes with it (images, classes, versions, runs with their
 * checkpoints and predictions) and that needs the dataset's name typed; it calls
 * `datasets.delete` once, and the lists afterwards no longer show the dataset or its runs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createMemoryHistory, type Router } from 'vue-router';
import App from '../../src/renderer/App.vue';
import { setApi } from '../../src/renderer/api';
import { createAppRouter } from '../../src/renderer/router';
import type { DatasetDetail, DatasetSummary, RunSummary } from '../../src/shared/api';
import { FakeApi } from './fakeApi';
import { fashion, run } from './fixtures';
import { sizeThumbGrid } from './layout';

sizeThumbGrid();

const other: DatasetSummary = { ...fashion, id: 4, name: 'cats', itemCount: 36, classCount: 2 };
let datasets: DatasetSummary[];
let runs: RunSummary[];
let api: FakeApi;
let wrapper: VueWrapper | undefined;
let router: Router;

const detailOf = (d: DatasetSummary): DatasetDetail => ({ ...d, classes: [], split: { mode: 'given', train: 80, val: 10, test: 10, valFromTrain: 10, seed: 1 }, imports: [] });

async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await flushPromises();
    await new Promise((r) => setTimeout(r, 0));
  }
}

async function mountAt(path: string): Promise<VueWrapper> {
  const pinia = createPinia();
  setActivePinia(pinia);
  router = createAppRouter(createMemoryHistory());
  await router.push(path);
  await router.isReady();
  // happy-dom has no canvas: the class chart is not drawn (it has nothing to do with deleting).
  wrapper = mount(App, { global: { plugins: [pinia, router], stubs: { EChart: true } }, attachTo: document.body });
  await settle();
  return wrapper;
}

beforeEach(() => {
  datasets = [fashion, other];
  runs = [run({ id: 1, datasetId: 3 }), run({ id: 2, datasetId: 3, status: 'running' }), run({ id: 3, datasetId: 4 })];
  api = new FakeApi()
    .handle('datasets.list', () => datasets)
    .handle('datasets.get', (p) => {
      const d = datasets.find((x) => x.id === p.datasetId);
      if (!d) throw Object.assign(new Error(`datasetId: ${p.datasetId} not found`), { code: 'not_found' });
      return detailOf(d);
    })
    .handle('datasets.items', () => ({ total: 0, items: [] }))
    .handle('runs.list', (p) => runs.filter((r) => p.datasetId === undefined || r.datasetId === p.datasetId))
    .handle('versions.list', (p) =>
      p.datasetId === 3
        ? [1, 2].map((id) => ({ id, datasetId: 3, contentHash: `v${id}`, itemCount: 70000, createdAt: 1_760_000_000 + id, runIds: [id] }))
        : [],
    )
    .handle('system.info', () => ({}) as never)
    .handle('datasets.delete', (p) => {
      datasets = datasets.filter((d) => d.id !== p.datasetId);
      runs = runs.filter((r) => r.datasetId !== p.datasetId);
      return { ok: true as const };
    });
  setApi(api);
});
afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  setApi(null);
});

const deletes = () => api.calls.filter((c) => c.name === 'datasets.delete').map((c) => c.params);

describe('deleting a dataset', () => {
  it('from its page: says what goes with it, needs the name typed, then deletes and returns to the list', async () => {
    const w = await mountAt('/datasets/3');
    await w.get('[data-testid="dataset-delete"]').trigger('click');
    await settle();
    const msg = w.get('[data-testid="dataset-delete-dialog-message"]').text();
    expect(msg).toContain('This deletes 70,000 images, 10 classes, 2 dataset versions and 2 runs with their metrics, checkpoints and predictions.');
    expect(msg).toContain('1 of these runs is still queued or training.');
    expect(msg).toContain('cannot be undone');
    const ok = w.get('[data-testid="dataset-delete-dialog-confirm"]');
    expect(ok.attributes('disabled')).toBeDefined();
    // Enter with the wrong name does nothing either.
    await w.get('[data-testid="dataset-delete-dialog-input"]').setValue('Fashion');
    expect(ok.attributes('disabled')).toBeDefined();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    await ok.trigger('click');
    await settle();
    expect(deletes()).toEqual([]);

    await w.get('[data-testid="dataset-delete-dialog-input"]').setValue('Fashion-MNIST');
    expect(ok.attributes('disabled')).toBeUndefined();
    await ok.trigger('click');
    await settle();
    expect(deletes()).toEqual([{ datasetId: 3 }]);
    expect(router.currentRoute.value.path).toBe('/datasets');
    expect(w.findAll('[data-testid="dataset-row"]').map((r) => r.attributes('data-dataset-name'))).toEqual(['cats']);
  });

  it('from the datasets table: cancel keeps it; confirming removes its row', async () => {
    const w = await mountAt('/datasets');
    const row = () => w.get('[data-testid="dataset-row"][data-dataset-id="4"]');
    await row().get('[data-testid="dataset-row-delete"]').trigger('click');
    await settle();
    // The row's delete button does not open the dataset.
    expect(router.currentRoute.value.path).toBe('/datasets');
    expect(w.get('[data-testid="dataset-delete-dialog-message"]').text()).toContain('This deletes 36 images, 2 classes, 0 dataset versions and 1 run with their metrics, checkpoints and predictions.');
    await w.get('[data-testid="dataset-delete-dialog-cancel"]').trigger('click');
    expect(w.find('[data-testid="dataset-delete-dialog"]').exists()).toBe(false);
    expect(deletes()).toEqual([]);

    await row().get('[data-testid="dataset-row-delete"]').trigger('click');
    await settle();
    await w.get('[data-testid="dataset-delete-dialog-input"]').setValue('cats');
    await w.get('[data-testid="dataset-delete-dialog-confirm"]').trigger('click');
    await settle();
    expect(deletes()).toEqual([{ datasetId: 4 }]);
    expect(w.find('[data-testid="dataset-delete-dialog"]').exists()).toBe(false);
    expect(w.findAll('[data-testid="dataset-row"]').map((r) => r.attributes('data-dataset-name'))).toEqual(['Fashion-MNIST']);
  });

  it('a refused delete keeps the dialog open with the server’s reason', async () => {
    api.handle('datasets.delete', () => {
      throw Object.assign(new Error('datasetId: 4 is busy'), { code: 'conflict' });
    });
    const w = await mountAt('/datasets');
    await w.get('[data-testid="dataset-row"][data-dataset-id="4"] [data-testid="dataset-row-delete"]').trigger('click');
    await settle();
    await w.get('[data-testid="dataset-delete-dialog-input"]').setValue('cats');
    await w.get('[data-testid="dataset-delete-dialog-confirm"]').trigger('click');
    await settle();
    expect(w.get('[data-testid="dataset-delete-error"]').text()).toContain('busy');
    expect(w.findAll('[data-testid="dataset-row"]')).toHaveLength(2);
  });
});
