// @vitest-environment happy-dom
/**
 * The run page's Inspect section as a user meets it (FakeApi for the host): ←/→ move from the
 * focused tab (WAI-ARIA tabs pattern); the Adversarial tab's last result is there again after
 * leaving and coming back, and a cancelled attack says so; a misclassified image picked in
 * Activations shows its true label and the prediction; a dense output is a bar tall enough to see.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { setApi } from '../../src/renderer/api';
import InspectActivations from '../../src/renderer/components/InspectActivations.vue';
import InspectAdversarial from '../../src/renderer/components/InspectAdversarial.vue';
import InspectPanel from '../../src/renderer/components/InspectPanel.vue';
import { useInspectJob } from '../../src/renderer/composables/inspectJob';
import type { Item, RunDetail } from '../../src/shared/api';
import { AttackParamsSchema, type AttackResult } from '../../src/shared/attack';
import type { EngineJob } from '../../src/shared/inspect';
import { FakeApi } from './fakeApi';

let api: FakeApi;
let pinia: Pinia;
const wrappers: VueWrapper[] = [];
const track = (w: VueWrapper): VueWrapper => (wrappers.push(w), w);

beforeEach(() => {
  pinia = createPinia();
  setActivePinia(pinia);
  api = new FakeApi();
  setApi(api);
});
afterEach(() => {
  for (const w of wrappers.splice(0)) w.unmount();
  setApi(null);
});

const job = (jobId: number, status: EngineJob['status'], kind: EngineJob['kind'] = 'attack'): EngineJob => ({ jobId, runId: 7, kind, what: 'fgsm', epoch: 0, status, phase: 'done', done: 1, total: 1, error: null });

describe('Inspect tabs', () => {
  it('ArrowRight moves from the focused tab, not the selected one; ArrowLeft wraps', async () => {
    api.handle('inspect.checkpoints', () => ({ epochs: [], best: null, numClasses: 2, classNames: ['a', 'b'] }));
    const w = track(mount(InspectPanel, { props: { run: { id: 7, datasetId: 3 } as RunDetail }, global: { plugins: [pinia] }, attachTo: document.body }));
    await flushPromises();
    const tab = (t: string) => w.get(`[data-testid="inspect-tab-${t}"]`);
    expect(tab('filters').attributes('aria-selected')).toBe('true');
    // Focus on Saliency while Filters is still selected (as after Tab from a focused, not activated, tab).
    (tab('saliency').element as HTMLElement).focus();
    await tab('saliency').trigger('keydown', { key: 'ArrowRight' });
    expect(tab('adversarial').attributes('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(tab('adversarial').element);
    await tab('adversarial').trigger('keydown', { key: 'ArrowRight' });
    expect(tab('filters').attributes('aria-selected')).toBe('true');
    await tab('filters').trigger('keydown', { key: 'ArrowLeft' });
    expect(tab('adversarial').attributes('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(tab('adversarial').element);
  });
});

describe('Adversarial tab', () => {
  const result: AttackResult = {
    params: AttackParamsSchema.parse({ methods: ['fgsm'], epsilons: [0, 8], galleryCount: 0 }),
    cleanAccuracy: 0.9,
    count: 50,
    points: [
      { method: 'fgsm', epsilon: 0, accuracy: 0.9, targetRate: null, count: 50 },
      { method: 'fgsm', epsilon: 8, accuracy: 0.42, targetRate: null, count: 50 },
    ],
    gallery: { height: 2, width: 2, channels: 1, classNames: ['a', 'b'], items: [] },
    seconds: 1.5,
  };
  const mountTab = () => track(mount(InspectAdversarial, { props: { runId: 7, datasetId: 3, epoch: null, classNames: ['a', 'b'] }, global: { plugins: [pinia], stubs: { EChart: true } }, attachTo: document.body }));

  it("keeps the run's last result when the tab is left and opened again", async () => {
    api.handle('attack.start', () => ({ jobId: 21 })).handle('jobs.get', () => job(21, 'completed')).handle('attack.result', () => result);
    const first = mountTab();
    await first.get('[data-testid="attack-run"]').trigger('submit');
    await flushPromises();
    expect(first.get('[data-testid="attack-summary"]').text()).toContain('50 test images');
    first.unmount();
    wrappers.splice(wrappers.indexOf(first), 1);
    const again = mountTab();
    await flushPromises();
    expect(again.get('[data-testid="attack-summary"]').text()).toContain('clean accuracy 90.00%');
    expect(again.get('[data-testid="attack-table"]').text()).toContain('42.00%');
    // The form says what the kept result was made with.
    expect((again.get('[data-testid="attack-eps"]').element as HTMLInputElement).value).toBe('0,8');
    expect((again.get('[data-testid="attack-pgd"]').element as HTMLInputElement).checked).toBe(false);
    expect(api.calls.filter((c) => c.name === 'attack.start')).toHaveLength(1);
  });

  it('says "cancelled" when the attack is cancelled, also after coming back', async () => {
    api.handle('attack.start', () => ({ jobId: 22 })).handle('jobs.get', () => job(22, 'running')).handle('jobs.cancel', () => ({ cancelled: true }) as never);
    const w = mountTab();
    await w.get('[data-testid="attack-run"]').trigger('submit');
    await flushPromises();
    expect(w.find('[data-testid="attack-cancel"]').exists()).toBe(true);
    await w.get('[data-testid="attack-cancel"]').trigger('click');
    api.emit('job.finished', job(22, 'cancelled'));
    await flushPromises();
    expect(api.calls.some((c) => c.name === 'jobs.cancel')).toBe(true);
    expect(w.get('[data-testid="attack-cancelled"]').text()).toMatch(/cancelled/i);
    expect(w.find('[data-testid="attack-cancel"]').exists()).toBe(false);
    w.unmount();
    wrappers.splice(wrappers.indexOf(w), 1);
    expect(mountTab().find('[data-testid="attack-cancelled"]').exists()).toBe(true);
  });
});

describe('Activations tab', () => {
  it('a misclassified image shows its true label and prediction; a dense output is a visible bar', async () => {
    const wrong: Item = { id: 41, hash: 'h41', name: 'img41.png', classId: 101, split: 'test', width: 28, height: 28, prediction: { classId: 100, confidence: 0.87, givenProbability: 0.1 } };
    const units = 128;
    const q = new Uint8Array(units).map((_, i) => i * 2);
    api
      .handle('datasets.get', () => ({ classes: [{ id: 100, index: 0, name: 'sneaker', color: null, counts: { train: 0, val: 0, test: 0, total: 0 } }, { id: 101, index: 1, name: 'ankle boot', color: null, counts: { train: 0, val: 0, test: 0, total: 0 } }] }) as never)
      .handle('datasets.items', (p) => ({ items: 'misclassified' in p && p.misclassified ? [wrong] : [], total: 1 }) as never)
      .handle('inspect.start', () => ({ jobId: 30 }))
      .handle('jobs.get', () => job(30, 'completed', 'inspect'))
      .handle('inspect.result', () => ({
        op: 'activations',
        epoch: 0,
        inputShape: [2, 2, 1],
        input: btoa('\0\0\0\0'),
        preprocessing: 'x / 255',
        scores: { logits: [1, 0], probabilities: [0.87, 0.13], predicted: 0 },
        nodes: [
          { node: 'input', type: 'Input', inputs: [], depth: 0, shape: [2, 2, 1], min: 0, max: 0, maxAbs: 0, dataBase64: btoa('\0\0\0\0') },
          { node: 'dense_1', type: 'Dense', inputs: ['input'], depth: 1, shape: [units], min: -1, max: 1, maxAbs: 1, dataBase64: btoa(String.fromCharCode(...q)) },
        ],
      }));
    const handle = useInspectJob(() => 7, () => null);
    const w = track(mount(InspectActivations, { props: { handle, runId: 7, datasetId: 3, classNames: ['sneaker', 'ankle boot'], epoch: null }, global: { plugins: [pinia] }, attachTo: document.body }));
    await flushPromises();
    await w.get('[data-testid="inspect-source-mistakes"]').setValue(true);
    await flushPromises();
    await w.get('[data-testid="inspect-thumb"]').trigger('click');
    await flushPromises();
    const label = w.get('[data-testid="inspect-picked-label"]').text();
    expect(label).toContain('true label ankle boot');
    expect(label).toContain('predicted sneaker (87.00%)');
    const node = w.findAll('[data-testid="inspect-node"]').find((n) => n.text().includes('dense_1'))!;
    const canvas = node.get('canvas').element as HTMLCanvasElement;
    expect(parseFloat(canvas.style.height)).toBeGreaterThanOrEqual(16);
    expect(parseFloat(canvas.style.width)).toBeGreaterThanOrEqual(units);
  });
});
