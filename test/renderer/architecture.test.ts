// @vitest-environment happy-dom
/**
 * The architecture view and editor as a user meets them: ResNet-20 drawn with one box per node
 * (plus the input), each with its shape and parameters and the totals describeModel gives; a
 * stored layer list drawn as its chain; a spec that does not fit named beside the graph; and the
 * editor's edits (a field, dropout, batch norm, remove, duplicate) reaching the v-model, the
 * totals, and undo / redo from the keyboard.
 */
import { describe, expect, it } from 'vitest';
import { mount, type VueWrapper } from '@vue/test-utils';
import { defineComponent, h, nextTick, ref, toRaw } from 'vue';
import ArchitectureEditor from '../../src/renderer/components/ArchitectureEditor.vue';
import ArchitectureView from '../../src/renderer/components/ArchitectureView.vue';
import { buildPreset, describeModel, modelTotals, type GraphModelSpec, type ModelSpec } from '../../src/shared/spec';

const resnet20 = (): GraphModelSpec => buildPreset('resnet20', { inputShape: [32, 32, 3], numClasses: 10 }) as GraphModelSpec;
const num = (t: string): number => Number(t.replace(/,/g, ''));
const boxNames = (w: VueWrapper): string[] => w.findAll('[data-testid="arch-node"]').map((b) => b.attributes('data-node-name')!);

/** The editor inside a parent that holds the model in a ref (as NewRunView does), bound with v-model. */
function mountEditor(spec: ModelSpec) {
  const emitted: ModelSpec[] = [];
  const model = ref<ModelSpec>(spec);
  const Parent = defineComponent({
    setup: () => () =>
      h(ArchitectureEditor, {
        modelValue: model.value,
        editable: true,
        'onUpdate:modelValue': (v: ModelSpec) => {
          emitted.push(v);
          model.value = v;
        },
      }),
  });
  const parent = mount(Parent, { attachTo: document.body });
  const w = parent.findComponent(ArchitectureEditor) as VueWrapper;
  const current = (): GraphModelSpec => toRaw(model.value) as GraphModelSpec;
  const click = async (name: string, shiftKey = false): Promise<void> => {
    await w.find(`[data-testid="arch-node"][data-node-name="${name}"]`).trigger('click', { shiftKey });
  };
  /** Set the model from outside, as a preset change does. */
  const replace = async (next: ModelSpec): Promise<void> => {
    model.value = next;
    await nextTick();
  };
  return { w: parent, emitted, current, click, replace };
}

describe('ArchitectureView', () => {
  it('draws ResNet-20: a box per node plus the input, the shortcuts as arrows into the adds, the totals of describeModel', () => {
    const spec = resnet20();
    const rows = describeModel(spec);
    const w = mount(ArchitectureView, { props: { spec } });
    expect(boxNames(w)).toEqual(['input', ...spec.nodes.map((n) => n.name)]);
    expect(num(w.get('[data-testid="arch-node-count"]').text())).toBe(spec.nodes.length);
    expect(num(w.get('[data-testid="arch-total-params"]').text())).toBe(modelTotals(rows).params);
    // Every input of every node is an arrow; each add has two arrows in.
    expect(w.findAll('[data-testid="arch-edge"]')).toHaveLength(spec.nodes.reduce((a, n) => a + n.inputs.length, 0));
    for (const add of spec.nodes.filter((n) => n.layer.type === 'add')) expect(w.findAll(`[data-testid="arch-edge"][data-to="${add.name}"]`)).toHaveLength(2);
    // A box shows its output shape and its parameters.
    const first = rows.find((r) => r.layer.type === 'conv2d')!;
    const box = w.get(`[data-testid="arch-node"][data-node-name="${first.name}"]`);
    expect(box.get('[data-testid="arch-node-shape"]').text()).toBe(first.outputShape.join('×'));
    expect(box.text()).toContain('3×3 conv, 16');
    expect(w.findAll('[data-kind="merge"]').length).toBe(spec.nodes.filter((n) => n.layer.type === 'add').length);
    expect(w.find('[data-testid="arch-error"]').exists()).toBe(false);
  });

  it('a click selects a box and says so (select event, data-selected)', async () => {
    const spec = resnet20();
    const w = mount(ArchitectureView, { props: { spec, selected: null } });
    await w.get('[data-testid="arch-node"][data-node-name="stage1_block1_add"]').trigger('click');
    expect(w.emitted('select')![0]).toEqual(['stage1_block1_add', false]);
    await w.setProps({ selected: 'stage1_block1_add' });
    expect(w.get('[data-node-name="stage1_block1_add"]').attributes('data-selected')).toBe('true');
    expect(w.findAll('[data-selected="true"]')).toHaveLength(1);
  });

  it('draws a stored layer-list spec as its chain (the implicit flatten shown)', () => {
    const legacy: ModelSpec = {
      preset: 'custom',
      inputShape: [8, 8, 1],
      numClasses: 3,
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: 3, strides: 1, padding: 'valid', activation: 'relu', useBias: true, kernelInitializer: 'glorotUniform' },
        { type: 'dense', units: 3, activation: 'linear', useBias: true, kernelInitializer: 'glorotUniform' },
      ],
    };
    const w = mount(ArchitectureView, { props: { spec: legacy } });
    expect(boxNames(w)).toEqual(['input', 'conv2d_0', 'flatten_auto_1', 'dense_1']);
    expect(num(w.get('[data-testid="arch-total-params"]').text())).toBe((3 * 3 + 1) * 4 + (6 * 6 * 4 + 1) * 3);
  });

  it('a spec whose shapes do not fit (LeNet-5 on 8×8) is still drawn; the node describeModel names is marked and its message shown', () => {
    const spec = buildPreset('lenet5', { inputShape: [8, 8, 1], numClasses: 10 });
    const w = mount(ArchitectureView, { props: { spec } });
    const err = w.get('[data-testid="arch-error"]');
    expect(err.text()).toMatch(/output would be empty/);
    const bad = err.attributes('data-node-name')!;
    expect(err.text()).toContain(`"${bad}"`);
    expect(w.get(`[data-testid="arch-node"][data-node-name="${bad}"]`).classes()).toContain('bad');
    expect(boxNames(w)).toHaveLength(spec.nodes!.length + 1);
  });
});

describe('ArchitectureView on ResNet-56', () => {
  it('folds each stage’s identical blocks into one box (×n, their parameters summed); a click unfolds one; the checkbox draws all', async () => {
    const spec = buildPreset('resnet56', { inputShape: [32, 32, 3], numClasses: 10 }) as GraphModelSpec;
    const rows = describeModel(spec);
    const w = mount(ArchitectureView, { props: { spec } });
    const folds = w.findAll('[data-testid="arch-node"][data-kind="fold"]');
    expect(folds.length).toBe(3);
    expect(boxNames(w).length).toBeLessThan(spec.nodes.length / 2);
    // The totals are the whole model's; a folded box's parameters are those of the blocks it stands for.
    expect(num(w.get('[data-testid="arch-total-params"]').text())).toBe(modelTotals(rows).params);
    const first = folds[0];
    const name = first.attributes('data-node-name')!;
    expect(first.text()).toMatch(/×\d+ identical blocks/);
    const [prefix, range] = [name.slice(0, name.indexOf('block') + 5), name.slice(name.indexOf('block') + 5)];
    const [k1, k2] = range.split('…').map(Number);
    const members = rows.filter((r) => r.name.startsWith(prefix) && Number(/block(\d+)_/.exec(r.name)![1]) >= k1 && Number(/block(\d+)_/.exec(r.name)![1]) <= k2);
    expect(first.text()).toContain(`${Math.round(members.reduce((a, r) => a + r.params, 0) / 1000)} k params`);
    await first.trigger('click');
    expect(w.findAll('[data-kind="fold"]')).toHaveLength(2);
    expect(boxNames(w)).toContain(`${prefix}${k2}_add`);
    await w.get('[data-testid="arch-fold"]').setValue(false);
    expect(boxNames(w)).toHaveLength(spec.nodes.length + 1);
  });
});

describe('ArchitectureEditor', () => {
  it('changing a conv’s filters updates the v-model, the box, the totals as you type; one undo step for the field; Ctrl+Z / Ctrl+Shift+Z', async () => {
    const spec = resnet20();
    const { w, emitted, current, click } = mountEditor(spec);
    const before = modelTotals(describeModel(spec)).params;
    await click('stage3_block3_conv2');
    expect(w.get('[data-testid="arch-selected"]').text()).toBe('stage3_block3_conv2');
    const field = w.get('[data-testid="arch-field-filters"]');
    expect((field.element as HTMLInputElement).value).toBe('64');
    // Fields, labels and bounds come from the layer's zod schema (Conv2DLayerSchema's meta and checks).
    const labels = w.findAll('[data-testid="arch-node-form"] .field').map((f) => f.text());
    expect(labels).toEqual(expect.arrayContaining(['Filters (1–4096)', 'Kernel size (1–15)', 'Use bias']));
    // Typed as a user types 8, then 80 (two input events, one field).
    await field.setValue('8');
    await field.setValue('80');
    expect(emitted).toHaveLength(2);
    const conv = current().nodes.find((n) => n.name === 'stage3_block3_conv2')!;
    expect(conv.layer).toMatchObject({ type: 'conv2d', filters: 80 });
    // 80 filters do not fit the add (64 channels on the shortcut): the editor names the add and both shapes.
    expect(w.get('[data-testid="arch-error"]').text()).toMatch(/"stage3_block3_add".*\[8, 8, 80\].*\[8, 8, 64\]/);
    await field.setValue('64');
    expect(num(w.get('[data-testid="arch-total-params"]').text())).toBe(before);
    await w.get('[data-testid="arch-field-kernelSize"]').setValue('5');
    const after5 = modelTotals(describeModel(current())).params;
    expect(after5 - before).toBe((5 * 5 - 3 * 3) * 64 * 64); // no bias (followed by batch norm)
    expect(num(w.get('[data-testid="arch-total-params"]').text())).toBe(after5);
    expect(w.get('[data-testid="arch-history"]').text()).toBe('2 edits');

    await w.get('[data-testid="architecture-editor"]').trigger('keydown', { key: 'z', ctrlKey: true });
    expect(current().nodes.find((n) => n.name === 'stage3_block3_conv2')!.layer).toMatchObject({ kernelSize: 3, filters: 64 });
    await w.get('[data-testid="architecture-editor"]').trigger('keydown', { key: 'z', ctrlKey: true });
    expect(current().nodes).toEqual(spec.nodes);
    expect((w.get('[data-testid="arch-undo"]').element as HTMLButtonElement).disabled).toBe(true);
    await w.get('[data-testid="architecture-editor"]').trigger('keydown', { key: 'Z', ctrlKey: true, shiftKey: true });
    expect(current().nodes.find((n) => n.name === 'stage3_block3_conv2')!.layer).toMatchObject({ filters: 64, kernelSize: 3 });
    await w.get('[data-testid="architecture-editor"]').trigger('keydown', { key: 'Z', ctrlKey: true, shiftKey: true });
    expect(num(w.get('[data-testid="arch-total-params"]').text())).toBe(after5);
    w.unmount();
  });

  it('dropout and batch norm on/off after a conv add and remove a box; removing a merge is refused with its name; duplicating a block adds its 7 nodes', async () => {
    const spec = resnet20();
    const { w, current, click } = mountEditor(spec);
    await click('stage1_block1_conv1');
    await w.get('[data-testid="arch-toggle-dropout"]').trigger('click');
    const drop = current().nodes.find((n) => n.layer.type === 'dropout')!;
    expect(drop.inputs).toEqual(['stage1_block1_conv1_relu']);
    expect(boxNames(w)).toContain(drop.name);
    expect(boxNames(w)).toHaveLength(spec.nodes.length + 2);
    await w.get('[data-testid="arch-toggle-bn"]').trigger('click'); // it has one: removed
    expect(current().nodes.some((n) => n.name === 'stage1_block1_conv1_bn')).toBe(false);
    expect(num(w.get('[data-testid="arch-total-params"]').text())).toBe(modelTotals(describeModel(spec)).params - 4 * 16);

    await click('stage1_block1_add');
    expect((w.get('[data-testid="arch-remove"]').element as HTMLButtonElement).disabled).toBe(true);
    await click('stage2_block2_conv1');
    expect(w.get('[data-testid="arch-duplicate-range"]').text()).toBe('stage2_block2_conv1 … stage2_block2_relu');
    const n = current().nodes.length;
    await w.get('[data-testid="arch-duplicate"]').trigger('click');
    expect(current().nodes.length).toBe(n + 7);
    expect(boxNames(w)).toContain('stage2_block4_add');
    expect(w.find('[data-testid="arch-error"]').exists()).toBe(false);
    // Remove the input is refused with a reason.
    await click('input');
    expect(w.find('[data-testid="arch-remove"]').exists()).toBe(false);
    await click('stage2_block4_conv1');
    await w.get('[data-testid="arch-remove"]').trigger('click');
    expect(current().nodes.some((x) => x.name === 'stage2_block4_conv1')).toBe(false);
    // A block started mid-branch reads two nodes from outside it: refused, by name.
    await click('stage2_block4_conv1_relu');
    await w.get('[data-testid="arch-duplicate"]').trigger('click');
    expect(w.get('[data-testid="arch-edit-error"]').text()).toMatch(/reads "stage2_block4_conv1_bn" and "stage2_block2_relu" from outside it/);
    w.unmount();
  });

  it('shift-click marks a range; "Duplicate block" copies it after itself with unique names; insert after adds a node between', async () => {
    const spec = buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }) as GraphModelSpec;
    const { w, current, click } = mountEditor(spec);
    await click('conv2d_1');
    await click('maxPooling2d_1', true);
    expect(w.get('[data-testid="arch-duplicate-range"]').text()).toBe('conv2d_1 … maxPooling2d_1');
    expect(w.findAll('.node.ranged')).toHaveLength(2);
    await w.get('[data-testid="arch-duplicate"]').trigger('click');
    expect(current().nodes.map((n) => n.name).slice(0, 4)).toEqual(['conv2d_1', 'maxPooling2d_1', 'conv2d_3', 'maxPooling2d_3']);
    expect(w.get('[data-testid="arch-selected"]').text()).toBe('conv2d_3');
    await w.get('[data-testid="arch-insert-type"]').setValue('batchNormalization');
    await w.get('[data-testid="arch-insert"]').trigger('click');
    const bn = current().nodes[3];
    expect(bn).toMatchObject({ layer: { type: 'batchNormalization' }, inputs: ['conv2d_3'] });
    expect(current().nodes[4]).toMatchObject({ name: 'maxPooling2d_3', inputs: [bn.name] });
    expect(w.get('[data-testid="arch-selected-params"]').text()).toBe(String(4 * 6));
    w.unmount();
  });

  it('a value the schema refuses is kept and named beside its field (dropout rate 1)', async () => {
    const spec = buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10, dropoutRate: 0.5 });
    const { w, current, click } = mountEditor(spec);
    const drop = spec.nodes!.find((n) => n.layer.type === 'dropout')!.name;
    await click(drop);
    await w.get('[data-testid="arch-field-rate"]').setValue('1');
    expect(current().nodes.find((n) => n.name === drop)!.layer).toEqual({ type: 'dropout', rate: 1 });
    expect(w.get('[data-testid="arch-field-error"]').attributes('data-field')).toBe('rate');
    expect(w.get('[data-testid="arch-field-error"]').text()).toBe('must be less than 1');
    await w.get('[data-testid="arch-field-rate"]').setValue('abc');
    expect(current().nodes.find((n) => n.name === drop)!.layer).toEqual({ type: 'dropout', rate: 1 });
    expect(w.get('[data-testid="arch-field-error"]').text()).toBe('must be a number');
    w.unmount();
  });

  it('a new spec from outside (another preset) starts a new history', async () => {
    const { w, click, replace } = mountEditor(resnet20());
    await click('stage1_block1_conv1');
    await w.get('[data-testid="arch-toggle-dropout"]').trigger('click');
    await click('stage1_block1_conv2');
    await w.get('[data-testid="arch-toggle-dropout"]').trigger('click');
    expect(w.get('[data-testid="arch-history"]').text()).toBe('2 edits');
    await replace(buildPreset('lenet5', { inputShape: [32, 32, 3], numClasses: 10 }));
    expect(w.get('[data-testid="arch-history"]').text()).toBe('0 edits');
    expect(boxNames(w)).toContain('logits');
    w.unmount();
  });
});
