// @vitest-environment happy-dom
/**
 * The run list's selection and filters, and Compare's config table: checkboxes bind the
 * selection (select-all covers the shown rows only), each filter keeps exactly the runs a
 * user expects, the URL's run list parses, and "Differences only" hides the equal paths.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import ConfigDiffTable from '../../src/renderer/components/ConfigDiffTable.vue';
import RunsTable from '../../src/renderer/components/RunsTable.vue';
import { axisDecimals, CATEGORY_JITTER, defaultParallelFields, fieldAxis, formatLogTick, rangeFormatter } from '../../src/renderer/lib/compareChart';
import { navSection } from '../../src/renderer/lib/navSection';
import { compareLocation, filterChoices, filterRuns, NO_FILTERS, parseRunIds } from '../../src/renderer/lib/runFilters';
import type { CompareRun, Params, Result } from '../../src/shared/api';
import { COMPARE_BATCH_SAMPLES } from '../../src/shared/compare';
import { setApi } from '../../src/renderer/api';
import { useCompareStore } from '../../src/renderer/stores/compare';
import { FakeApi } from './fakeApi';
import { buildPreset, parseRunSpec } from '../../src/shared/spec';
import { withDropout } from '../../src/shared/sweep';
import { run } from './fixtures';

beforeEach(() => setActivePinia(createPinia()));
afterEach(() => setApi(null));

const day = (s: string): number => new Date(`${s}T12:00:00`).getTime() / 1000;
const runs = [
  run({ id: 1, datasetId: 1, datasetName: 'a', preset: 'mlp', status: 'completed', tags: ['baseline'], createdAt: day('2026-11-01') }),
  run({ id: 2, datasetId: 1, datasetName: 'a', preset: 'lenet5', status: 'failed', tags: [], createdAt: day('2026-11-20') }),
  run({ id: 3, datasetId: 2, datasetName: 'b', preset: 'mlp', status: 'completed', tags: ['baseline', 'aug'], createdAt: day('2026-12-01') }),
];
const ids = (f: Partial<typeof NO_FILTERS>): number[] => filterRuns(runs, { ...NO_FILTERS, ...f }).map((r) => r.id);

describe('run filters', () => {
  it('keep the runs of a dataset, preset, tag, status and date', () => {
    expect(ids({})).toEqual([1, 2, 3]);
    expect(ids({ datasetId: 1 })).toEqual([1, 2]);
    expect(ids({ preset: 'mlp' })).toEqual([1, 3]);
    expect(ids({ tag: 'aug' })).toEqual([3]);
    expect(ids({ status: 'failed' })).toEqual([2]);
    expect(ids({ since: '2026-11-20' })).toEqual([2, 3]);
    expect(ids({ tag: 'baseline', datasetId: 1 })).toEqual([1]);
    expect(filterChoices(runs)).toEqual({ datasets: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }], presets: ['lenet5', 'mlp'], tags: ['aug', 'baseline'], statuses: ['completed', 'failed'] });
  });

  it('the Compare link carries the selection, and parses back', () => {
    expect(compareLocation([3, 1])).toEqual({ path: '/compare', query: { runs: '3,1' } });
    expect(parseRunIds('3,1,x,1,-2, 7')).toEqual([3, 1, 7]);
    expect(parseRunIds(undefined)).toEqual([]);
  });

  it('axis labels carry the decimals the data range needs (trial item 9, 10)', () => {
    // Val accuracies 97.41 … 98.73 % in 5 ticks: a step of 0.26 points → 1 decimal, so no "98%, 98%, 97%".
    const pct = rangeFormatter([0.9741, 0.9873, 0.98], 100, '%');
    expect([0.974, 0.976, 0.978, 0.98].map(pct)).toEqual(['97.4%', '97.6%', '97.8%', '98.0%']);
    // Wall time 0.079 … 25 s: whole seconds; the first label is not "0.07899999618530273".
    expect(rangeFormatter([0.07899999618530273, 25])(0.07899999618530273)).toBe('0');
    expect(rangeFormatter([0.07899999618530273, 0.9])(0.07899999618530273)).toBe('0.1');
    expect(axisDecimals(0, 25)).toBe(0);
    expect(axisDecimals(1e-4, 1e-3)).toBe(4);
    expect(axisDecimals(0.5, 0.5)).toBe(3);
  });

  it('parallel coordinates default to the knobs and the learning rate; equal categories are spread apart', () => {
    const paths = ['model.batchNormalization', 'model.dropoutRate', 'model.nodes.dense_1_dropout.layer.rate', 'model.nodes.dense_1.inputs', 'seed', 'training.earlyStopping.monitor', 'training.epochs', 'training.lrSchedule.type', 'training.optimizer.beta1', 'training.optimizer.learningRate', 'training.optimizer.type'];
    expect(defaultParallelFields(paths)).toEqual(['model.batchNormalization', 'model.dropoutRate', 'training.optimizer.learningRate', 'training.earlyStopping.monitor', 'training.epochs', 'training.lrSchedule.type']);
    // Six runs with the same monitor: their positions around category 0 spread over most of ±CATEGORY_JITTER.
    const cr = (id: number, monitor: string) => ({ id, spec: { training: { earlyStopping: { monitor } } } }) as unknown as CompareRun;
    const a = fieldAxis([1, 2, 3, 4, 5, 6].map((id) => cr(id, 'val_loss')).concat(cr(7, 'val_accuracy')), 'training.earlyStopping.monitor');
    expect(a.kind).toBe('category');
    expect(a.categories).toEqual(['val_loss', 'val_accuracy']);
    const first = a.values.slice(0, 6) as number[];
    for (const v of first) expect(Math.abs(v)).toBeLessThan(CATEGORY_JITTER);
    expect(Math.max(...first) - Math.min(...first)).toBeGreaterThan(CATEGORY_JITTER * 0.6);
    expect(Math.round(a.values[6]!)).toBe(1);
  });

  it('a fine-tune that trains every layer (freezeUpTo null) reads "none (train all)" on its axis, not "null"', () => {
    const ft = (id: number, freezeUpTo: string | null) => ({ id, spec: { pretrained: { backbone: 'mobilenet', freezeUpTo } } }) as unknown as CompareRun;
    const a = fieldAxis([ft(1, null), ft(2, 'MobilenetV1/Conv2d_11_pointwise/Relu6')], 'pretrained.freezeUpTo');
    expect(a.kind).toBe('category');
    expect(a.categories).toEqual(['none (train all)', 'MobilenetV1/Conv2d_11_pointwise/Relu6']);
  });

  it('learning rates read as people write them', () => {
    expect([0.001, 0.0005, 0.1, 0.05, 1e-5].map(formatLogTick)).toEqual(['1e-3', '5e-4', '0.1', '0.05', '1e-5']);
  });
});

describe('RunsTable selection', () => {
  it('checkboxes bind the selection; select-all adds and removes the shown rows', async () => {
    const w = mount(RunsTable, { props: { runs, selected: [], 'onUpdate:selected': (v: number[] | undefined) => w.setProps({ selected: v }) } });
    const boxes = w.findAll('[data-testid="run-row-select"]');
    expect(boxes).toHaveLength(3);
    await boxes[1].setValue(true);
    expect(w.props('selected')).toEqual([2]);
    await w.get('[data-testid="runs-select-all"]').setValue(true);
    expect([...(w.props('selected') ?? [])].sort()).toEqual([1, 2, 3]);
    await w.get('[data-testid="runs-select-all"]').setValue(false);
    expect(w.props('selected')).toEqual([]);
    // A checkbox click does not open the run.
    await boxes[0].trigger('click');
    expect(w.emitted('open')).toBeUndefined();
    expect(w.findAll('[data-testid="run-row-tags"]')[2].text()).toContain('aug');
  });

  it('without a selection model there are no checkboxes', () => {
    const w = mount(RunsTable, { props: { runs } });
    expect(w.findAll('[data-testid="run-row-select"]')).toHaveLength(0);
  });
});

describe('ConfigDiffTable', () => {
  const spec = (lr: number) => parseRunSpec({ datasetId: 1, model: buildPreset('mlp', { inputShape: [28, 28, 1], numClasses: 10 }), training: { optimizer: { type: 'sgd', learningRate: lr } } });
  const cmp = (id: number, lr: number): CompareRun => ({ ...run({ id }), spec: spec(lr), epochsDone: 2, bestValEpoch: 1, valRobustAccuracy: null });

  it('shows the one differing path by default and every path when unticked', async () => {
    const w = mount(ConfigDiffTable, { props: { runs: [cmp(1, 0.01), cmp(2, 0.1)] } });
    const paths = () => w.findAll('[data-testid="config-row"]').map((r) => r.attributes('data-path'));
    expect(paths()).toEqual(['training.optimizer.learningRate']);
    expect(w.get('[data-testid="config-row"]').text()).toMatch(/0\.01\s*0\.1/);
    await w.get('[data-testid="config-differences-only"]').setValue(false);
    expect(paths().length).toBeGreaterThan(10);
    expect(paths()).toContain('training.batchSize');
  });

  it('an MLP with dropout against one without: the knob and the added nodes by name, "— absent" where missing', () => {
    const withDrop = (id: number, rate: number): CompareRun => ({ ...cmp(id, 0.01), spec: { ...spec(0.01), model: withDropout(spec(0.01).model, rate) } });
    const w = mount(ConfigDiffTable, { props: { runs: [cmp(1, 0.01), withDrop(2, 0.3)] } });
    const rows = w.findAll('[data-testid="config-row"]');
    const paths = rows.map((r) => r.attributes('data-path')!);
    expect(paths).toContain('model.dropoutRate');
    expect(paths.some((p) => /\[\d+\]/.test(p))).toBe(false);
    const rate = rows.find((r) => /^model\.nodes\.[^.]+\.layer\.rate$/.test(r.attributes('data-path')!))!;
    expect(rate.findAll('td').map((c) => c.text())).toEqual([rate.attributes('data-path'), '— absent', '0.3']);
  });
});

describe('compare store', () => {
  it('asks for metrics in batches of at most COMPARE_BATCH_SAMPLES samples and joins a long run from slices', async () => {
    // Run 1: 120,000 loss samples (sliced); runs 2–4: 30,000 each (batched, two per call at most).
    const sizes: Record<number, number> = { 1: 120_000, 2: 30_000, 3: 30_000, 4: 30_000 };
    const col = (id: number, from: number, to: number) => {
      const n = Math.max(0, Math.min(to, sizes[id]) - from);
      const idx = Array.from({ length: n }, (_, i) => from + i);
      return { runId: id, name: 'loss' as const, step: idx, epoch: idx.map((i) => Math.floor(i / 1000)), value: idx.map((i) => id * 1e6 + i), time: idx.map((i) => i / 10) };
    };
    const asked: number[] = [];
    const api = new FakeApi().handle('runs.compare', (p: Params<'runs.compare'>): Result<'runs.compare'> => {
      const runs = p.runIds.map((id) => ({ ...cmpRun(id) }));
      const sampleCounts = p.runIds.map((id) => ({ runId: id, name: 'loss' as const, count: sizes[id] }));
      if (p.names?.length === 0) return { runs, metrics: [], sampleCounts, missing: [] };
      const from = p.offset ?? 0;
      const metrics = p.runIds.map((id) => col(id, from, from + (p.limit ?? Infinity)));
      asked.push(metrics.reduce((a, m) => a + m.value.length, 0));
      return { runs, metrics, sampleCounts, missing: [] };
    });
    setApi(api);
    const store = useCompareStore();
    await store.load([1, 2, 3, 4]);
    await store.ensure(['loss']);
    expect(asked.every((n) => n <= COMPARE_BATCH_SAMPLES)).toBe(true);
    expect(asked.reduce((a, b) => a + b, 0)).toBe(210_000);
    const long = store.columnsOf(1).loss!;
    expect(long.value.length).toBe(120_000);
    expect(long.value[0]).toBe(1e6);
    expect(long.value[119_999]).toBe(1e6 + 119_999);
    expect(long.step.every((s, i) => s === i)).toBe(true);
    expect(store.columnsOf(4).loss!.value.length).toBe(30_000);
    // Already loaded: nothing more is asked for.
    const calls = api.calls.length;
    await store.ensure(['loss']);
    expect(api.calls.length).toBe(calls);
  });
});

describe('sidebar section', () => {
  it('Compare highlights Runs, not Datasets (trial item 10); every route of the router has its entry', () => {
    expect(navSection('compare')).toBe('runs');
    expect(['datasets', 'dataset', 'label'].map(navSection)).toEqual(['datasets', 'datasets', 'datasets']);
    expect(['runs', 'run', 'new-run', 'sweeps', 'sweep', 'sweep-new'].map(navSection)).toEqual(['runs', 'runs', 'new-run', 'sweeps', 'sweeps', 'sweeps']);
    expect(navSection('somewhere-else')).toBeNull();
  });
});

describe('compare store, a deleted run (trial item 3)', () => {
  it('keeps the runs that are there and names the missing ones', async () => {
    const there = new Set([1, 3]);
    setApi(
      new FakeApi().handle('runs.compare', (p: Params<'runs.compare'>): Result<'runs.compare'> => ({
        runs: p.runIds.filter((id) => there.has(id)).map(cmpRun),
        metrics: [],
        sampleCounts: [],
        missing: p.runIds.filter((id) => !there.has(id)),
      })),
    );
    const store = useCompareStore();
    await store.load([1, 27, 3]);
    expect(store.runs.map((r) => r.id)).toEqual([1, 3]);
    expect(store.missing).toEqual([27]);
    expect(store.error).toBeNull();
    await store.load([1]);
    expect(store.missing).toEqual([]);
  });
});

describe('compare store, live', () => {
  it('appends the samples of a training run to its loaded columns and redraws', async () => {
    const api = new FakeApi().handle('runs.compare', (p: Params<'runs.compare'>): Result<'runs.compare'> => ({
      runs: p.runIds.map(cmpRun),
      metrics: p.names?.length === 0 ? [] : p.runIds.map((id) => ({ runId: id, name: 'val_accuracy' as const, step: [null], epoch: [0], value: [0.5], time: [1] })),
      sampleCounts: p.runIds.map((id) => ({ runId: id, name: 'val_accuracy' as const, count: 1 })),
      missing: [],
    }));
    setApi(api);
    const store = useCompareStore();
    store.init();
    await store.load([1, 2]);
    await store.ensure(['val_accuracy']);
    const v = store.version;
    api.emit('run.metrics', { runId: 2, metrics: [{ name: 'val_accuracy', epoch: 1, step: null, value: 0.6, time: 2 }, { name: 'loss', epoch: 1, step: 9, value: 1, time: 2 }] });
    api.emit('run.metrics', { runId: 7, metrics: [{ name: 'val_accuracy', epoch: 1, step: null, value: 0.9, time: 2 }] });
    // The same epoch announced again (it was fetched while buffered) is not added twice.
    api.emit('run.metrics', { runId: 2, metrics: [{ name: 'val_accuracy', epoch: 1, step: null, value: 0.6, time: 2 }] });
    expect(store.columnsOf(2).val_accuracy!.value).toEqual([0.5, 0.6]);
    expect(store.columnsOf(2).loss).toBeUndefined(); // not shown: not kept
    expect(store.columnsOf(1).val_accuracy!.value).toEqual([0.5]);
    await new Promise((r) => setTimeout(r, 600));
    expect(store.version).toBeGreaterThan(v);
    store.dispose();
  });
});

function cmpRun(id: number): CompareRun {
  return { ...run({ id }), spec: parseRunSpec({ datasetId: 1, model: buildPreset('linear', { inputShape: [28, 28, 1], numClasses: 10 }), training: { optimizer: { type: 'sgd', learningRate: 0.01 } } }), epochsDone: 1, bestValEpoch: null, valRobustAccuracy: null };
}
