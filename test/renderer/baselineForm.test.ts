// @vitest-environment happy-dom
/**
 * Baselines on the New-run page and the Pipelines page (issue 11), against a fake API:
 * the run kind switches to the baseline form; a bad descriptor value is named and blocks
 * Start; Start sends the spec the form shows (the schemas' defaults, empty optional fields
 * left out); a features run reads its backbone first; the Pipelines page sorts its rows, says
 * when there are none and shows a refusal.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, type VueWrapper } from '@vue/test-utils';
import { setApi } from '../../src/renderer/api';
import { ApiError } from '../../src/shared/errors';
import type { PipelineRow } from '../../src/shared/pipelines';
import { FakeApi } from './fakeApi';
import { fashion } from './fixtures';
import { mountApp } from './mountApp';

let api: FakeApi;
let wrapper: VueWrapper;
const hym = { ...fashion, id: 5, name: 'hymenoptera', classCount: 2, itemCount: 398, counts: { train: 245, val: 153, test: 0 }, typicalShape: [375, 500, 3] as [number, number, number] };

beforeEach(() => {
  api = new FakeApi().handle('datasets.list', () => [hym]).handle('runs.start', () => ({ runId: 12 }));
  setApi(api);
});
afterEach(() => {
  wrapper?.unmount();
  setApi(null);
});

const q = (w: VueWrapper, id: string) => w.get(`[data-testid="${id}"]`);
async function open(path: string): Promise<void> {
  wrapper?.unmount();
  wrapper = await mountApp(path);
}
const sent = (): Record<string, unknown> => ([...api.calls].reverse().find((c) => c.name === 'runs.start')!.params as { spec: Record<string, unknown> }).spec;

describe('New run: classic and features runs', () => {
  it('classic HoG → linear SVM: a bad cell size is named, the defaults are sent', async () => {
    await open('/runs/new?datasetId=5');
    await q(wrapper, 'run-kind-classic').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-testid="new-run-form"]').exists()).toBe(false);
    expect((q(wrapper, 'baseline-dataset').element as HTMLSelectElement).value).toBe('5');
    await q(wrapper, 'baseline-pixels-per-cell').setValue('1');
    expect(q(wrapper, 'baseline-form-error').text()).toContain('Cell size');
    expect(q(wrapper, 'baseline-pixels-per-cell-error').text()).not.toBe('');
    expect((q(wrapper, 'baseline-start').element as HTMLButtonElement).disabled).toBe(true);
    await q(wrapper, 'baseline-pixels-per-cell').setValue('8');
    expect(q(wrapper, 'baseline-summary').text()).toBe('HoG 9×8px×2 → linear SVM C=1');
    await q(wrapper, 'baseline-form').trigger('submit');
    await flushPromises();
    expect(sent()).toEqual({
      kind: 'classic',
      datasetId: 5,
      descriptors: [{ type: 'hog', orientations: 9, pixelsPerCell: 8, cellsPerBlock: 2, blockNorm: 'L2-Hys' }],
      inputShape: [64, 64, 3],
      classifier: { type: 'svm', kernel: 'linear', C: 1, probability: true },
      seed: 42,
    });
  });

  it('features: Start waits for the backbone; its default node, PCA 64 and a random forest are sent', async () => {
    const backbone = { backbone: { file: '/m/mobilenet.tflite', node: 'pool', inputRange: 'symmetric' as const }, inputShape: [224, 224, 3] as [number, number, 3], nodes: ['conv', 'pool'], defaultNode: 'pool' };
    api.handle('models.backbone', (p) => {
      if (p.file !== '/m/mobilenet.tflite') throw new ApiError('invalid_params', `backbone.file: cannot read ${p.file}`, 'backbone.file');
      return backbone;
    });
    await open('/runs/new?datasetId=5&kind=features');
    expect(q(wrapper, 'baseline-form-error').text()).toContain('Backbone: read a model file first');
    await q(wrapper, 'baseline-backbone-file').setValue('/m/missing.tflite');
    await q(wrapper, 'baseline-backbone-read').trigger('click');
    await flushPromises();
    expect(q(wrapper, 'baseline-backbone-error').text()).toContain('cannot read /m/missing.tflite');
    await q(wrapper, 'baseline-backbone-file').setValue('/m/mobilenet.tflite');
    await q(wrapper, 'baseline-backbone-read').trigger('click');
    await flushPromises();
    expect((q(wrapper, 'baseline-backbone-node').element as HTMLSelectElement).value).toBe('pool');
    await q(wrapper, 'baseline-classifier').setValue('randomForest');
    await q(wrapper, 'baseline-form').trigger('submit');
    await flushPromises();
    expect(sent()).toEqual({ kind: 'features', datasetId: 5, backbone: backbone.backbone, inputShape: [224, 224, 3], pca: { components: 64 }, classifier: { type: 'randomForest', nEstimators: 100, maxSamples: 1 }, seed: 42 });
  });
});

const row = (runId: number, kind: PipelineRow['kind'], pipeline: string, accuracy: number | null): PipelineRow => ({
  runId, name: pipeline, kind, pipeline, status: accuracy === null ? 'running' : 'completed', datasetVersionId: 1, split: accuracy === null ? null : 'val',
  accuracy, macroF1: accuracy, valAccuracy: accuracy, testAccuracy: null, trainingSeconds: 3, inferenceMsPerImage: 0.5, parameters: 1000 * runId,
});

describe('Pipelines page', () => {
  it('lists the rows best first, sorts by a column, and says when there are none or why not', async () => {
    api.handle('runs.pipelines', () => ({ datasetVersionId: 1, versions: [1], rows: [row(1, 'network', 'LeNet-5', 0.7), row(2, 'classic', 'HoG', null), row(3, 'features', 'MobileNet', 0.96)] }));
    await open('/pipelines?dataset=5');
    const ids = (): string[] => wrapper.findAll('[data-testid="pipeline-row"]').map((r) => r.attributes('data-run-id')!);
    expect(ids()).toEqual(['3', '1', '2']);
    expect(wrapper.findAll('[data-testid="pipeline-accuracy"]').map((c) => c.text())).toEqual(['96.00%', '70.00%', '—']);
    await q(wrapper, 'pipelines-sort-parameters').trigger('click');
    expect(ids()).toEqual(['1', '2', '3']);
    await q(wrapper, 'pipelines-sort-parameters').trigger('click');
    expect(ids()).toEqual(['3', '2', '1']);

    api.handle('runs.pipelines', () => ({ datasetVersionId: null, versions: [], rows: [] }));
    await open('/pipelines?dataset=5');
    expect(q(wrapper, 'pipelines-empty').text()).toContain('No runs on this dataset yet');

    api.handle('runs.pipelines', () => {
      throw new ApiError('not_found', 'dataset 5 not found', 'datasetId');
    });
    await open('/pipelines?dataset=5');
    expect(q(wrapper, 'pipelines-error').text()).toContain('dataset 5 not found');
    expect(wrapper.find('[data-testid="pipelines-empty"]').exists()).toBe(false);

    await open('/pipelines');
    expect(q(wrapper, 'pipelines-pick').text()).toContain('Choose a dataset');
  });
});
