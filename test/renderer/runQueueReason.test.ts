// @vitest-environment happy-dom
/**
 * A queued run says why it waits: its place in the queue, what trains ahead of it and the
 * queue's concurrency (from queue.get) with the control that changes it, instead of a bare
 * "Waiting for the first step…"; a queued run that has a free slot says its engine is starting.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../src/renderer/api';
import RunProgress from '../../src/renderer/components/RunProgress.vue';
import { useRunsStore } from '../../src/renderer/stores/runs';
import { FakeApi } from './fakeApi';
import { run } from './fixtures';

afterEach(() => setApi(null));

function setup(concurrency: number, list = [
  run({ id: 1, name: 'demo', status: 'running', createdAt: 100 }),
  run({ id: 2, name: 'second', status: 'queued', createdAt: 200 }),
  run({ id: 3, name: 'third', status: 'queued', createdAt: 300 }),
  run({ id: 4, name: 'old', status: 'completed', createdAt: 50 }),
]): FakeApi {
  setActivePinia(createPinia());
  let current = concurrency;
  const info = () => ({ concurrency: current, cores: 8, threadsPerEngine: 8, queued: 2, running: 1 });
  const api = new FakeApi().handle('queue.get', info).handle('queue.setConcurrency', (p) => ((current = (p as { concurrency: number }).concurrency), info()));
  setApi(api);
  useRunsStore().list = list;
  return api;
}

describe('RunProgress for a queued run', () => {
  it('names its place in the queue, the run training ahead and the concurrency', async () => {
    setup(1);
    const w = mount(RunProgress, { props: { progress: null, epochs: 5, runId: 3 } });
    await flushPromises();
    const reason = w.get('[data-testid="run-queue-reason"]').text();
    expect(reason).toContain('Queued: 1 run ahead');
    expect(reason).toContain('run #1 "demo" is training');
    expect(reason).toContain('1 run at a time');
  });

  it('the first queued run is next in line, with the concurrency control beside the reason', async () => {
    const api = setup(1);
    const w = mount(RunProgress, { props: { progress: null, epochs: 5, runId: 2 } });
    await flushPromises();
    const reason = w.get('[data-testid="run-queue-reason"]').text();
    expect(reason).toContain('Queued: next in line');
    expect(reason).toContain('1 run at a time');
    const input = w.get<HTMLInputElement>('[data-testid="run-queue-concurrency"]');
    expect(input.element.value).toBe('1');
    await input.setValue('2');
    await flushPromises();
    expect(api.calls.filter((c) => c.name === 'queue.setConcurrency').map((c) => c.params)).toEqual([{ concurrency: 2 }]);
    // Two slots, one taken: the queue starts run 2 now.
    expect(w.get('[data-testid="run-progress"]').text()).toContain('Starting the engine…');
    expect(w.find('[data-testid="run-queue-reason"]').exists()).toBe(false);
  });

  it('the very first run, queued while its engine starts, says so (not "Queued")', async () => {
    setup(1, [run({ id: 1, name: 'first', status: 'queued', createdAt: 100 })]);
    const w = mount(RunProgress, { props: { progress: null, epochs: 5, runId: 1 } });
    await flushPromises();
    expect(w.get('[data-testid="run-progress"]').text()).toContain('Starting the engine…');
    expect(w.find('[data-testid="run-queue-reason"]').exists()).toBe(false);
    expect(w.text()).not.toContain('Queued');
  });

  it('a running run shows no queue reason', async () => {
    setup(1);
    const w = mount(RunProgress, { props: { progress: null, epochs: 5, runId: 1 } });
    await flushPromises();
    expect(w.find('[data-testid="run-queue-reason"]').exists()).toBe(false);
  });
});
