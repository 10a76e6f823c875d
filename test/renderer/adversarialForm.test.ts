// @vitest-environment happy-dom
/**
 * The New-run form's Adversarial robustness row (training.adversarial, from the zod schema's
 * labels): off by default, and what is set there reaches runs.start as the spec's
 * training.adversarial; an ε beyond 255 is refused naming the field.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, type VueWrapper } from '@vue/test-utils';
import { setApi } from '../../src/renderer/api';
import { RunSpecSchema } from '../../src/shared/spec';
import { FakeApi } from './fakeApi';
import { fashion } from './fixtures';
import { mountApp } from './mountApp';

let api: FakeApi;
let wrapper: VueWrapper;

const mountNewRun = async (): Promise<VueWrapper> => (wrapper = await mountApp('/runs/new?datasetId=3'));

beforeEach(() => {
  api = new FakeApi().handle('datasets.list', () => [fashion]).handle('runs.start', () => ({ runId: 12 }));
  setApi(api);
});
afterEach(() => {
  wrapper?.unmount();
  setApi(null);
});

const q = (w: VueWrapper, id: string) => w.get(`[data-testid="${id}"]`);

describe('New run form: adversarial training', () => {
  it('is off by default; PGD-k settings reach runs.start as training.adversarial', async () => {
    const w = await mountNewRun();
    expect((q(w, 'run-adversarial-method').element as HTMLSelectElement).value).toBe('none');
    expect(q(w, 'run-adversarial').text()).toContain('Robust accuracy at ε');
    // Off: the attack's training fields are hidden; FGSM shows share and ε, PGD-k its steps too.
    expect(w.find('[data-testid="run-adversarial-epsilon"]').exists()).toBe(false);
    await q(w, 'run-adversarial-method').setValue('fgsm');
    expect(w.find('[data-testid="run-adversarial-epsilon"]').exists()).toBe(true);
    expect(w.find('[data-testid="run-adversarial-steps"]').exists()).toBe(false);
    await q(w, 'run-adversarial-method').setValue('pgd');
    await q(w, 'run-adversarial-ratio').setValue('0.5');
    await q(w, 'run-adversarial-epsilon').setValue('25.5');
    await q(w, 'run-adversarial-steps').setValue('7');
    await q(w, 'run-adversarial-robust-epsilon').setValue('25.5');
    await q(w, 'new-run-form').trigger('submit');
    await flushPromises();
    const call = api.calls.find((c) => c.name === 'runs.start');
    expect(call).toBeDefined();
    const spec = RunSpecSchema.parse((call!.params as { spec: unknown }).spec);
    expect(spec.training.adversarial).toEqual({ method: 'pgd', ratio: 0.5, epsilon: 25.5, steps: 7, robustEpsilon: 25.5, robustSteps: 10, robustImages: 500 });
  });

  it('refuses ε above 255, naming the field', async () => {
    const w = await mountNewRun();
    await q(w, 'run-adversarial-method').setValue('fgsm');
    await q(w, 'run-adversarial-epsilon').setValue('300');
    await flushPromises();
    expect(w.find('[data-testid="run-adversarial-epsilon-error"]').exists()).toBe(true);
    await q(w, 'new-run-form').trigger('submit');
    await flushPromises();
    expect(api.calls.some((c) => c.name === 'runs.start')).toBe(false);
  });
});
