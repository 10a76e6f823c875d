// @vitest-environment happy-dom
/**
 * A fine-tune's run spec on the New-run page (issue 13): importing the JSON `layerwise spec
 * --pretrained` writes keeps its pre-trained backbone — said above the form, sent with
 * runs.start, exported with the spec — and "Train from scratch instead" drops it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createMemoryHistory } from 'vue-router';
import App from '../../src/renderer/App.vue';
import { setApi } from '../../src/renderer/api';
import { createAppRouter } from '../../src/renderer/router';
import { readTflite } from '../../src/shared/models/tflite';
import { fineTuneSpec, freezePoint } from '../../src/shared/pretrained';
import type { RunSpec } from '../../src/shared/spec';
import { sharedData } from '../helpers';
import { FakeApi } from './fakeApi';
import { fashion } from './fixtures';
import { ApiError } from '../../src/shared/errors';

const dir = sharedData('mobilenet-tflite');
let api: FakeApi;
let wrapper: VueWrapper;
const hym = { ...fashion, id: 5, name: 'hymenoptera', classCount: 2, itemCount: 397, counts: { train: 244, val: 153, test: 0 }, typicalShape: [375, 500, 3] as [number, number, number] };

beforeEach(() => {
  api = new FakeApi().handle('datasets.list', () => [hym]).handle('runs.start', () => ({ runId: 12 }));
  setApi(api);
});
afterEach(() => {
  wrapper?.unmount();
  setApi(null);
});

const q = (w: VueWrapper, id: string) => w.get(`[data-testid="${id}"]`);
/** The New-run page for dataset 5, mounted afresh. */
async function open(): Promise<void> {
  wrapper?.unmount();
  const pinia = createPinia();
  setActivePinia(pinia);
  const router = createAppRouter(createMemoryHistory());
  await router.push('/runs/new?datasetId=5');
  await router.isReady();
  wrapper = mount(App, { global: { plugins: [pinia, router] }, attachTo: document.body });
  await flushPromises();
}
const sent = (): RunSpec => ([...api.calls].reverse().find((c) => c.name === 'runs.start')!.params as { spec: RunSpec }).spec;

describe.skipIf(!dir)('New run with a pre-trained backbone', () => {
  it('keeps, shows, sends and drops the pretrained part of an imported run spec', async () => {
    const imported = readTflite(new Uint8Array(readFileSync(join(dir!, 'mobilenet_v1_0.5_160_quant.tflite'))));
    const { spec: model, featureNode } = fineTuneSpec(imported.spec, 2);
    const pretrained = { format: 'tflite', file: '/models/mobilenet_v1_0.5_160_quant.tflite', backbone: 'mobilenet_v1_0.5_160_quant', inputRange: 'symmetric', resize: 'cover', freezeUpTo: freezePoint(model, featureNode, 'likeImagenet'), featureNode, foldedBatchNorm: true, headInit: [311, 310] };
    const file = { datasetId: 5, model, pretrained, training: { optimizer: { type: 'adam', learningRate: 0.0001 }, batchSize: 16, epochs: 5 } };

    const importFile = async (): Promise<void> => {
      const input = q(wrapper, 'run-import-file');
      Object.defineProperty(input.element, 'files', { value: [new File([JSON.stringify(file)], 'ft.json', { type: 'application/json' })], configurable: true });
      await input.trigger('change');
      await flushPromises();
      await new Promise((r) => setTimeout(r, 20));
      await flushPromises();
    };
    const submit = async (): Promise<void> => {
      await q(wrapper, 'new-run-form').trigger('submit');
      await flushPromises();
    };

    await open();
    await importFile();
    expect(wrapper.find('[data-testid="run-import-error"]').exists()).toBe(false);
    expect(q(wrapper, 'run-pretrained').text()).toContain("Pre-trained backbone mobilenet_v1_0.5_160_quant: inputs in [−1, 1], frozen up to MobilenetV1/Conv2d_12_pointwise, the head started from the file's classes");
    await submit();
    expect(sent().pretrained).toEqual(pretrained);
    expect(sent().model.nodes).toEqual(model.nodes);

    // Dropped: the same graph trains from the seed.
    await open();
    await importFile();
    await q(wrapper, 'run-pretrained-drop').trigger('click');
    expect(wrapper.find('[data-testid="run-pretrained"]').exists()).toBe(false);
    await submit();
    expect(sent().pretrained).toBeUndefined();
    expect(sent().model.nodes).toEqual(model.nodes);
  });
});

describe.skipIf(!dir)('The Pre-trained choice on the New-run page', () => {
  it('asks the host for the fine-tune of a model file, sets the model and backbone, and starts with them', async () => {
    const imported = readTflite(new Uint8Array(readFileSync(join(dir!, 'mobilenet_v1_0.5_160_quant.tflite'))));
    const { spec: model, featureNode } = fineTuneSpec(imported.spec, 2);
    const pretrained = { format: 'tflite' as const, file: '/m/mobilenet_v1_0.5_160_quant.tflite', backbone: 'mobilenet_v1_0.5_160_quant', inputRange: 'symmetric' as const, resize: 'cover' as const, freezeUpTo: freezePoint(model, featureNode, 'features'), featureNode, foldedBatchNorm: true };
    api.handle('models.pretrainedSpec', (p) => {
      const params = p as { file: string; freeze: string; datasetId: number };
      if (!params.file.endsWith('.tflite')) throw new ApiError('invalid_params', `file: ${params.file}: not a TFLite file`, 'file');
      return { model, pretrained, training: { batchSize: 16, optimizer: { type: 'adam' as const, learningRate: 0.0001 } }, labels: null, summary: `mobilenet_v1_0.5_160_quant: ${model.nodes.length} nodes, frozen up to ${pretrained.freezeUpTo}; fine-tune defaults: (the host's line)` };
    });
    await open();

    expect(q(wrapper, 'pretrained-freeze').findAll('option').map((o) => o.text())[0]).toBe('Data like ImageNet: freeze most convolutions, train the top');
    await q(wrapper, 'pretrained-file').setValue('/m/labels.txt');
    await q(wrapper, 'pretrained-use').trigger('click');
    await flushPromises();
    expect(q(wrapper, 'pretrained-error').text()).toContain('file: /m/labels.txt: not a TFLite file');

    await q(wrapper, 'pretrained-file').setValue(pretrained.file);
    await q(wrapper, 'pretrained-freeze').setValue('features');
    await q(wrapper, 'pretrained-use').trigger('click');
    await flushPromises();
    const call = [...api.calls].reverse().find((c) => c.name === 'models.pretrainedSpec')!;
    expect(call.params).toEqual({ file: pretrained.file, datasetId: 5, freeze: 'features' });
    // The form's from-scratch defaults (Adam 1e-3, batch 64 = 4 steps/epoch on 244 photos) become the fine-tune's: 1e-4, batch 16 (16 steps).
    expect(q(wrapper, 'run-import-notice').text()).toBe(
      `Pre-trained: mobilenet_v1_0.5_160_quant: ${model.nodes.length} nodes, frozen up to MobilenetV1/Logits/AvgPool_1a. Training set to the fine-tune defaults: learning rate 0.0001 (a tenth of 0.001), batch size 16, 16 steps per epoch on 244 training images.`,
    );
    expect((q(wrapper, 'run-batch-size').element as HTMLInputElement).value).toBe('16');
    expect(Number((q(wrapper, 'run-learning-rate').element as HTMLInputElement).value)).toBe(0.0001);
    expect(q(wrapper, 'run-pretrained').text()).toContain('frozen up to MobilenetV1/Logits/AvgPool_1a');
    expect(wrapper.findAll('[data-testid="layer-row"]').map((r) => r.attributes('data-node-name'))).toEqual(model.nodes.map((n) => n.name));
    await q(wrapper, 'new-run-form').trigger('submit');
    await flushPromises();
    expect(sent().pretrained).toEqual(pretrained);
    expect(sent().model.inputShape).toEqual([160, 160, 3]);
    expect(sent().model.nodes).toEqual(model.nodes);
    expect(sent().training.batchSize).toBe(16);
    expect(sent().training.optimizer.learningRate).toBe(0.0001);
    // The run is named after the backbone, not "Custom (imported from …)".
    expect(([...api.calls].reverse().find((c) => c.name === 'runs.start')!.params as { name: string }).name).toBe('mobilenet_v1_0.5_160_quant fine-tune on hymenoptera');

    // Values the user typed are kept, and the notice says so.
    await open();
    await q(wrapper, 'run-batch-size').setValue('32');
    await q(wrapper, 'pretrained-file').setValue(pretrained.file);
    await q(wrapper, 'pretrained-use').trigger('click');
    await flushPromises();
    expect(q(wrapper, 'run-import-notice').text()).toContain('(your batch size 32 kept)');
    expect((q(wrapper, 'run-batch-size').element as HTMLInputElement).value).toBe('32');
    expect(Number((q(wrapper, 'run-learning-rate').element as HTMLInputElement).value)).toBe(0.0001);
  });
});
