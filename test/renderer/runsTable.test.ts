// @vitest-environment happy-dom
/** The runs table renders statuses and accuracies from store data and follows live events. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import RunsTable from '../../src/renderer/components/RunsTable.vue';
import { setApi } from '../../src/renderer/api';
import { useRunsStore } from '../../src/renderer/stores/runs';
import { FakeApi } from './fakeApi';
import { run } from './fixtures';

let api: FakeApi;
beforeEach(() => {
  setActivePinia(createPinia());
  api = new FakeApi();
  setApi(api);
});
afterEach(() => setApi(null));

describe('RunsTable', () => {
  it('a completed run without test accuracy says "no test split" (a failed one shows —)', () => {
    const w = mount(RunsTable, { props: { runs: [run({ id: 4, status: 'completed', testAccuracy: null, testLoss: null }), run({ id: 5, status: 'failed', testAccuracy: null })] } });
    const cells = w.findAll('[data-testid="run-row-test-accuracy"]').map((c) => c.text());
    expect(cells).toEqual(['no test split', '—']);
  });

  it('a long sweep run name is clipped with an ellipsis, the whole name in its title (trial item 8)', () => {
    const name = 'ablation-lenet5 · model.dropoutRate=0.5, model.batchNormalization=on, training.regularization=L2 0.0001, training.augmentation=on · seed 3';
    const w = mount(RunsTable, { props: { runs: [run({ id: 9, name })] } });
    const cell = w.get('[data-testid="run-row-name"]');
    expect(cell.attributes('title')).toBe(name);
    expect(cell.classes()).toContain('clip');
    // That the metric columns stay on a 1400 px page is checked in the E2E test (test/e2e/compare.test.ts).
  });

  it('renders statuses and accuracies from the store', async () => {
    const store = useRunsStore();
    store.list = [
      run({ id: 1, name: 'mlp-a', status: 'completed', bestValAccuracy: 0.8612, testAccuracy: 0.8534, samplesPerSec: 5210 }),
      run({ id: 2, name: 'lenet', preset: 'lenet5', status: 'failed', error: 'boom', testAccuracy: null }),
      run({ id: 3, name: 'lin', preset: 'linear', status: 'running', finishedAt: null, durationSeconds: null }),
    ];
    const w = mount(RunsTable, { props: { runs: store.list } });
    const rows = w.findAll('[data-testid="run-row"]');
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r.attributes('data-status'))).toEqual(['completed', 'failed', 'running']);
    expect(rows.map((r) => r.get('[data-testid="run-row-status"]').text())).toEqual(['completed', 'failed', 'running']);
    expect(rows[0].get('.badge').classes()).toContain('badge-completed');
    expect(rows[1].get('.badge').classes()).toContain('badge-failed');
    expect(rows[0].get('[data-testid="run-row-test-accuracy"]').text()).toBe('85.34%');
    expect(rows[0].get('[data-testid="run-row-best-val"]').text()).toBe('86.12%');
    expect(rows[1].get('[data-testid="run-row-test-accuracy"]').text()).toBe('—');
    expect(rows[0].text()).toContain('01:39');
    expect(rows[0].text()).toContain('5,210');
    expect(rows[1].text()).toContain('LeNet-5');
    await rows[1].trigger('click');
    expect(w.emitted('open')?.[0]).toEqual([2]);
  });

  it('updates status and best validation accuracy from run events', async () => {
    const store = useRunsStore();
    store.list = [run({ id: 5, status: 'queued', backend: null })];
    api.handle('runs.get', () => ({ ...run({ id: 5, status: 'completed', testAccuracy: 0.9, bestValAccuracy: 0.91 }), spec: {} as never }));
    store.init();
    api.emit('run.status', { runId: 5, status: 'running', backend: 'webgpu', error: null });
    expect(store.list[0].status).toBe('running');
    expect(store.list[0].backend).toBe('webgpu');
    api.emit('run.metrics', { runId: 5, metrics: [{ name: 'val_accuracy', epoch: 0, step: null, value: 0.7, time: 1 }] });
    expect(store.list[0].bestValAccuracy).toBe(0.7);
    api.emit('run.status', { runId: 5, status: 'completed', backend: 'webgpu', error: null });
    await flushPromises();
    expect(store.list[0].testAccuracy).toBe(0.9);
    const w = mount(RunsTable, { props: { runs: store.list } });
    expect(w.get('[data-testid="run-row-test-accuracy"]').text()).toBe('90.00%');
    store.dispose();
  });
});
