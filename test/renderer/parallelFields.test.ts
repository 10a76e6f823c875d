// @vitest-environment happy-dom
/**
 * Compare page, parallel coordinates: runs with different architectures differ in dozens of
 * layer-level spec paths (model.nodes.<layer>.…); the field checkboxes offer the run-level
 * fields and keep the layer-level ones behind "show all fields".
 */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import ParallelCoords from '../../src/renderer/components/ParallelCoords.vue';
import EChart from '../../src/renderer/components/EChart.vue';
import type { CompareRun } from '../../src/shared/api';
import { buildPreset, parseRunSpec } from '../../src/shared/spec';
import { configTable } from '../../src/shared/compare';
import { run } from './fixtures';

const spec = (preset: 'mlp' | 'lenet5', lr: number) =>
  parseRunSpec({
    datasetId: 3,
    seed: 1,
    backend: 'cpu',
    model: buildPreset(preset, { inputShape: [28, 28, 1], numClasses: 10 }),
    training: { optimizer: { type: 'adam', learningRate: lr }, batchSize: 32, epochs: 2 },
  });
const cmp = (id: number, preset: 'mlp' | 'lenet5', lr: number): CompareRun => ({ ...run({ id }), spec: spec(preset, lr), epochsDone: 2, bestValEpoch: 1, valRobustAccuracy: null });

describe('ParallelCoords field choices', () => {
  it('offers run-level differing fields; layer-level ones only after "show all fields"', async () => {
    const runs = [cmp(1, 'mlp', 0.001), cmp(2, 'lenet5', 0.01)];
    const paths = configTable(runs.map((r) => r.spec), { differencesOnly: true }).map((r) => r.path);
    const nodePaths = paths.filter((p) => p.startsWith('model.nodes.'));
    expect(nodePaths.length).toBeGreaterThan(5); // the situation of the trial
    const w = mount(ParallelCoords, { props: { runs, paths }, global: { stubs: { EChart: true } } }) // no canvas in happy-dom;
    const offered = () => w.findAll('[data-testid="parallel-field"]').map((i) => (i.element as HTMLInputElement).value);
    expect(offered()).toContain('training.optimizer.learningRate');
    expect(offered().filter((p) => p.startsWith('model.nodes.'))).toEqual([]);
    await w.get('[data-testid="parallel-show-all"]').setValue(true);
    expect(offered().length).toBe(paths.length);
  });

  it('a long node name is cut on its axis (no overlap with the next one) and whole, escaped, in the line tooltip', () => {
    const long = 'MobilenetV1/MobilenetV1/Conv2d_11_pointwise/Relu6<b>';
    const ft = (id: number, freezeUpTo: string | null): CompareRun => {
      const r = cmp(id, 'mlp', 0.001);
      return { ...r, spec: { ...r.spec, pretrained: { freezeUpTo } } as unknown as CompareRun['spec'] };
    };
    const runs = [ft(1, long), ft(2, null)];
    const w = mount(ParallelCoords, { props: { runs, paths: ['pretrained.freezeUpTo'] }, global: { stubs: { EChart: true } } });
    const option = w.findComponent(EChart).props('option') as { parallelAxis: { name: string; axisLabel: { width?: number; overflow?: string; formatter: (v: number) => string } }[]; tooltip: { formatter: (p: unknown) => string } };
    const axis = option.parallelAxis[0];
    expect(axis.name).toBe('freezeUpTo');
    expect(axis.axisLabel.overflow).toBe('truncate');
    expect(axis.axisLabel.width).toBeGreaterThan(0);
    expect([0, 1].map((k) => axis.axisLabel.formatter(k))).toEqual([long, 'none (train all)']);
    const tip = option.tooltip.formatter({ name: '#1 run', dataIndex: 0 });
    expect(tip).toBe('#1 run<br>pretrained.freezeUpTo: MobilenetV1/MobilenetV1/Conv2d_11_pointwise/Relu6&lt;b&gt;');
  });
});
