// @vitest-environment happy-dom
/**
 * A queued run says why it waits: its place in the queue, what trains ahead of it and the
 * queue's concurrency (from queue.get), instead of a bare "Waiting for the first step…".
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

function setup(concurrency: number): void {
  setActivePinia(createPinia());
  setApi(new FakeApi().handle('queue.get', () => ({ concurrency, cores: 8, threadsPerEngine: 8, queued: 2, running: 1 })));
  useRunsStore().list = [
    run({ id: 1, name: 'demo', status: 'running', createdAt: 100 }),
    run({ id: 2, name: 'second', status: 'queued', createdAt: 200 }),
    run({ id: 3, name: 'third', status: 'queued', createdAt: 300 }),
    run({ id: 4, name: 'old', status: 'completed', createdAt: 50 }),
  ];
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

  it('the first queued run is next in line', async () => {
    setup(2);
    const w = mount(RunProgress, { props: { progress: null, epochs: 5, runId: 2 } });
    await flushPromises();
    const reason = w.get('[data-testid="run-queue-reason"]').text();
    expect(reason).toContain('Queued: next in line');
    expect(reason).toContain('2 runs at a time');
  });

  it('a running run shows no queue reason', async () => {
    setup(1);
    const w = mount(RunProgress, { props: { progress: null, epochs: 5, runId: 1 } });
    await flushPromises();
    expect(w.find('[data-testid="run-queue-reason"]').exists()).toBe(false);
  });
});
