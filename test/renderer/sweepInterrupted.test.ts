// @vitest-environment happy-dom
/**
 * A sweep whose host stopped mid-run (trial item 6): the run the restart interrupted shows the
 * status 'interrupted' (not 'failed'), the counts say "1 interrupted, 0 failed", the sweep does
 * not read "finished with failures", and "Resume 1 interrupted run" calls runs.resume for it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createMemoryHistory } from 'vue-router';
import App from '../../src/renderer/App.vue';
import { createAppRouter } from '../../src/renderer/router';
import { setApi } from '../../src/renderer/api';
import type { SweepDetail } from '../../src/shared/sweep-api';
import { ablationTable } from '../../src/shared/sweep-table';
import { FakeApi } from './fakeApi';
import { fashion } from './fixtures';

let api: FakeApi;
let wrapper: VueWrapper | undefined;

const variantList = [
  { index: 0, values: { 'training.optimizer.learningRate': 0.01 }, label: 'lr 0.01' },
  { index: 1, values: { 'training.optimizer.learningRate': 0.001 }, label: 'lr 0.001' },
];
const runList: SweepDetail['runList'] = [
  { runId: 1, variant: 0, seed: 1, status: 'completed', bestValAccuracy: 0.8, testAccuracy: 0.79, error: null },
  { runId: 2, variant: 1, seed: 1, status: 'interrupted', bestValAccuracy: 0.5, testAccuracy: null, error: 'interrupted: the app stopped during the run' },
];
const sweep: SweepDetail = {
  id: 3, name: 'lr sweep', datasetId: 3, datasetName: 'fashion', createdAt: 1, cancelledAt: null, variants: 2, seeds: 1, runs: 2, deleted: 0,
  counts: { queued: 0, running: 0, completed: 1, failed: 0, cancelled: 0, interrupted: 1 },
  spec: {}, variantList, runList, table: ablationTable(variantList, runList),
};

beforeEach(() => {
  api = new FakeApi()
    .handle('datasets.list', () => [fashion])
    .handle('runs.list', () => [])
    .handle('queue.get', () => ({ concurrency: 1, cores: 2, threadsPerEngine: 2, queued: 0, running: 0 }))
    .handle('sweeps.list', () => [sweep])
    .handle('sweeps.get', () => sweep)
    .handle('runs.resume', ({ runId }) => ({ runId, fromEpoch: 0 }));
  setApi(api);
});
afterEach(() => {
  wrapper?.unmount();
  setApi(null);
});

describe('a sweep with an interrupted run', () => {
  it('shows it interrupted, not failed, and resumes it', async () => {
    const pinia = createPinia();
    setActivePinia(pinia);
    const router = createAppRouter(createMemoryHistory());
    await router.push('/sweeps/3');
    await router.isReady();
    // ECharts needs a canvas happy-dom lacks: the charts are stubbed.
    wrapper = mount(App, { global: { plugins: [pinia, router], stubs: { EChart: true } }, attachTo: document.body });
    await flushPromises();
    const w = wrapper;
    expect(w.get('[data-testid="sweep-counts"]').text()).toMatch(/0 failed, 1 interrupted, 0 cancelled/);
    expect(w.get('[data-testid="sweep-state"]').text()).not.toMatch(/failures/);
    const badges = w.findAll('[data-status]').map((b) => b.attributes('data-status'));
    expect(badges).toContain('interrupted');
    expect(badges).not.toContain('failed');
    const resume = w.get('[data-testid="sweep-resume"]');
    expect(resume.text()).toMatch(/Resume 1 interrupted run\b/);
    await resume.trigger('click');
    await flushPromises();
    expect(api.calls.filter((c) => c.name === 'runs.resume').map((c) => c.params)).toEqual([{ runId: 2 }]);
  });
});
