// @vitest-environment happy-dom
/**
 * A sweep from the New-run page, before any run exists: "Sweep / ablation…" takes the form's
 * valid spec to /sweeps/new?draft=1, the sweep form starts from it (a reload of the tab keeps
 * it), and Start sends a SweepSpec whose base is that spec.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, type VueWrapper } from '@vue/test-utils';
import { setApi } from '../../src/renderer/api';
import type { RunSpec } from '../../src/shared/spec';
import { FakeApi } from './fakeApi';
import { fashion } from './fixtures';
import { mountApp } from './mountApp';

let api: FakeApi;
let wrapper: VueWrapper | undefined;
let created: { spec: { base: RunSpec } } | null;

beforeEach(() => {
  sessionStorage.clear();
  created = null;
  api = new FakeApi()
    .handle('datasets.list', () => [fashion])
    .handle('queue.get', () => ({ concurrency: 1, cores: 2, threadsPerEngine: 2, queued: 0, running: 0 }))
    .handle('sweeps.create', (p) => {
      created = p as typeof created;
      return { sweepId: 4, runIds: [1, 2] };
    });
  setApi(api);
});
afterEach(() => {
  wrapper?.unmount();
  setApi(null);
});

describe('sweep from the New-run page', () => {
  it('carries the form spec into the sweep form and starts a sweep over it', async () => {
    wrapper = await mountApp('/runs/new?datasetId=3');
    await wrapper.get('[data-testid="run-learning-rate"]').setValue('0.005');
    await wrapper.get('[data-testid="run-sweep"]').trigger('click');
    await flushPromises();
    expect(wrapper.vm.$router.currentRoute.value.fullPath).toBe('/sweeps/new?draft=1');
    expect(wrapper.find('[data-testid="sweep-form"]').exists()).toBe(true);
    expect(wrapper.get('[data-testid="sweep-preview"]').text()).toMatch(/\d+ variants? × \d+ seeds?/);
    wrapper.unmount();

    // A reload of the tab (a fresh app, same sessionStorage) still has the base.
    wrapper = await mountApp('/sweeps/new?draft=1');
    expect(wrapper.find('[data-testid="sweep-form"]').exists()).toBe(true);
    await wrapper.get('[data-testid="sweep-start"]').trigger('click');
    await flushPromises();
    expect(created).not.toBeNull();
    expect(created!.spec.base.datasetId).toBe(3);
    expect(created!.spec.base.training.optimizer.learningRate).toBe(0.005);
    expect(wrapper.vm.$router.currentRoute.value.fullPath).toBe('/sweeps/4');
  });

  it('without a run or a draft the page says where a sweep starts', async () => {
    wrapper = await mountApp('/sweeps/new');
    expect(wrapper.text()).toMatch(/Start a sweep from a run .* or from the New-run page/);
    expect(wrapper.find('[data-testid="sweep-form"]').exists()).toBe(false);
  });
});
