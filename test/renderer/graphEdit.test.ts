/**
 * The architecture editor's pure operations (src/renderer/lib/graphEdit.ts): each keeps the
 * graph valid (toGraph and, where the edit keeps the shapes, describeModel accept it) or
 * returns a refusal naming the node. Parameter counts are recomputed here from the lecture's
 * formulas, not taken from describeModel.
 */
import { describe, expect, it } from 'vitest';
import { asGraph, blockFrom, defaultLayer, duplicateBlock, insertAfter, outputOf, postOps, removeNode, setLayer, toggleAfter, uniqueName, type EditResult } from '../../src/renderer/lib/graphEdit';
import { buildPreset, describeModel, modelTotals, toGraph, type GraphModelSpec, type LayerSpec } from '../../src/shared/spec';
import { residualSpec } from './residualGraph';

const lenet = (): GraphModelSpec => buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }) as GraphModelSpec;
const ok = (r: EditResult): GraphModelSpec => {
  if (!r.ok) throw new Error(`refused: ${r.error}`);
  expect(() => toGraph(r.spec)).not.toThrow();
  return r.spec;
};
const names = (s: GraphModelSpec): string[] => s.nodes.map((n) => n.name);
const node = (s: GraphModelSpec, name: string) => s.nodes.find((n) => n.name === name)!;
const params = (s: GraphModelSpec): number => modelTotals(describeModel(s)).params;

describe('graphEdit', () => {
  it('setLayer changes one node and leaves the spec given untouched; the parameter count follows', () => {
    const s = lenet();
    const before = JSON.stringify(s);
    const conv = s.nodes.find((n) => n.layer.type === 'conv2d')!;
    const next = ok(setLayer(s, conv.name, { ...(conv.layer as Extract<LayerSpec, { type: 'conv2d' }>), filters: 12 }));
    expect(JSON.stringify(s)).toBe(before);
    const row = describeModel(next).find((r) => r.name === conv.name)!;
    expect(row.outputShape).toEqual([28, 28, 12]);
    expect(row.params).toBe((5 * 5 * 1 + 1) * 12);
    const r = setLayer(s, conv.name, { type: 'add' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/conv2d_1.*cannot become a add/);
  });

  it('insertAfter puts the node between the selected one and its readers; inserting after the output moves the output', () => {
    const s = lenet();
    const first = s.nodes[0].name;
    const reader = s.nodes[1].name;
    const next = ok(insertAfter(s, first, defaultLayer('batchNormalization')));
    const bn = next.nodes[1];
    expect(bn.layer.type).toBe('batchNormalization');
    expect(bn.inputs).toEqual([first]);
    expect(node(next, reader).inputs).toEqual([bn.name]);
    expect(params(next)).toBe(params(s) + 4 * 6);
    // After the output: the new node is the output (and describeModel says the logits are still 10).
    const d = ok(insertAfter(s, 'logits', defaultLayer('dropout')));
    expect(outputOf(d)).toBe(d.nodes[d.nodes.length - 1].name);
    expect(describeModel(d).at(-1)!.outputShape).toEqual([10]);
    // After the input.
    const z = ok(insertAfter(s, 'input', defaultLayer('zeroPadding2d')));
    expect(z.nodes[0].inputs).toEqual(['input']);
    expect(z.nodes[1].inputs).toEqual([z.nodes[0].name]);
    expect(describeModel(z)[0].outputShape).toEqual([30, 30, 1]);
    const m = insertAfter(s, first, { type: 'add' });
    expect(!m.ok && m.error).toMatch(/joins two or more branches/);
  });

  it('removeNode rewires the readers to its input; refuses the input, a merge, and a merge reading one node twice, by name', () => {
    const s = lenet();
    const relu = s.nodes.find((n) => n.layer.type === 'maxPooling2d')!;
    const next = ok(removeNode(s, relu.name));
    expect(names(next)).not.toContain(relu.name);
    const reader = s.nodes.find((n) => n.inputs.includes(relu.name))!;
    expect(node(next, reader.name).inputs).toEqual(relu.inputs);
    const lastOut = ok(removeNode(s, 'logits'));
    expect(outputOf(lastOut)).toBe(s.nodes[s.nodes.length - 2].name);

    const input = removeNode(s, 'input');
    expect(!input.ok && input.error).toMatch(/input is the image/);
    const r = residualSpec(1);
    const merge = removeNode(r, 'stage1_block1_add');
    expect(!merge.ok && merge.error).toMatch(/"stage1_block1_add" is a add joining stage1_block1_bn2 and stem_relu; a merge cannot be removed/);
    // A one-node branch: add(x, y) where y reads x; removing y would make the add read x twice.
    const twice = removeNode(
      { ...r, nodes: [{ name: 'a', layer: defaultLayer('conv2d', 3), inputs: ['input'] }, { name: 'b', layer: defaultLayer('batchNormalization'), inputs: ['a'] }, { name: 'sum', layer: { type: 'add' }, inputs: ['a', 'b'] }, ...r.nodes.slice(-2).map((n, k) => ({ ...n, inputs: [k === 0 ? 'sum' : n.inputs[0]] }))] },
      'b',
    );
    expect(!twice.ok && twice.error).toMatch(/add "sum" read "a" twice/);
  });

  it('toggleAfter adds and removes batch normalization and dropout after a conv / dense node, parameters change by 4·C', () => {
    const s = lenet();
    const conv = s.nodes.find((n) => n.layer.type === 'conv2d')!.name;
    const withBn = ok(toggleAfter(s, conv, 'batchNormalization'));
    expect(params(withBn)).toBe(params(s) + 4 * 6);
    expect(postOps(withBn, conv).map((n) => node(withBn, n).layer.type)).toContain('batchNormalization');
    const back = ok(toggleAfter(withBn, conv, 'batchNormalization'));
    expect(back.nodes).toEqual(s.nodes);

    const dense = s.nodes.find((n) => n.layer.type === 'dense')!.name;
    const withDrop = ok(toggleAfter(s, dense, 'dropout', 0.4));
    const drop = withDrop.nodes.find((n) => n.layer.type === 'dropout')!;
    expect(drop.layer).toEqual({ type: 'dropout', rate: 0.4 });
    expect(drop.inputs).toEqual([dense]);
    expect(params(withDrop)).toBe(params(s));
    expect(ok(toggleAfter(withDrop, dense, 'dropout')).nodes).toEqual(s.nodes);
    // In a residual block the dropout goes after the conv's BN and ReLU.
    const r = residualSpec(1);
    const rd = ok(toggleAfter(r, 'stage1_block1_conv1', 'dropout'));
    expect(node(rd, 'stage1_block1_conv2').inputs).toEqual(['stage1_block1_conv1_dropout']);
    expect(node(rd, 'stage1_block1_conv1_dropout').inputs).toEqual(['stage1_block1_relu1']);
    const no = toggleAfter(s, 'logits', 'batchNormalization');
    expect(no.ok).toBe(true);
    const pool = toggleAfter(s, s.nodes.find((n) => n.layer.type === 'maxPooling2d')!.name, 'dropout');
    expect(!pool.ok && pool.error).toMatch(/after a conv2d, depthwiseConv2d or dense node; "maxPooling2d_1" is a maxPooling2d/);
  });

  it('duplicateBlock copies a residual block (conv … add, ReLU) after itself with the next block number; shapes still fit, parameters grow by one block', () => {
    const r = residualSpec(2);
    expect(blockFrom(r, 'stage1_block1_conv1')).toEqual(['stage1_block1_conv1', 'stage1_block1_out']);
    const next = ok(duplicateBlock(r, 'stage1_block1_conv1'));
    const copy = ['conv1', 'bn1', 'relu1', 'conv2', 'bn2', 'add', 'out'].map((n) => `stage1_block3_${n}`);
    expect(names(next)).toEqual([...names(r).slice(0, 10), ...copy, ...names(r).slice(10)]);
    expect(node(next, 'stage1_block3_conv1').inputs).toEqual(['stage1_block1_out']);
    expect(node(next, 'stage1_block3_add').inputs).toEqual(['stage1_block3_bn2', 'stage1_block1_out']);
    expect(node(next, 'stage1_block2_conv1').inputs).toEqual(['stage1_block3_out']);
    // One basic block of 8 channels: two 3×3 convs without bias (3·3·8·8 each) and two BNs (4·8 each).
    expect(params(next) - params(r)).toBe(2 * (3 * 3 * 8 * 8) + 2 * (4 * 8));
    expect(new Set(names(next)).size).toBe(next.nodes.length);
  });

  it('duplicateBlock of a chain range without block numbers makes each name unique; refuses a range read from two places or leaking a node', () => {
    const s = lenet();
    const [c, p] = s.nodes.map((n) => n.name);
    const next = ok(duplicateBlock(s, c, p));
    expect(names(next).slice(0, 4)).toEqual(['conv2d_1', 'maxPooling2d_1', 'conv2d_3', 'maxPooling2d_3']);
    expect(new Set(names(next)).size).toBe(next.nodes.length);
    // The copy (conv 5×5 same, 6 → 6 channels, then a pool) halves the image once more: 28 → 14 → 7 before conv2d_2.
    const info = describeModel(next);
    expect(info.find((n) => n.name === 'conv2d_3')!.params).toBe((5 * 5 * 6 + 1) * 6);
    expect(info.find((n) => n.name === 'maxPooling2d_3')!.outputShape).toEqual([7, 7, 6]);
    expect(blockFrom(s, c)).toBeNull();
    const none = duplicateBlock(s, c);
    expect(!none.ok && none.error).toMatch(/no add or concatenate follows "conv2d_1"/);

    const r = residualSpec(1);
    const mid = duplicateBlock(r, 'stage1_block1_bn1');
    expect(!mid.ok && mid.error).toMatch(/reads "stage1_block1_conv1" and "stem_relu" from outside it/);
    const leak = duplicateBlock(r, 'stem_conv', 'stage1_block1_bn2');
    expect(!leak.ok && leak.error).toMatch(/"stem_relu" inside the block stem_conv … stage1_block1_bn2 is read by "stage1_block1_add" outside it/);
  });

  it('asGraph turns a stored layer list into its chain with toGraph names (the implicit flatten made explicit)', () => {
    const g = asGraph({ preset: 'custom', inputShape: [8, 8, 1], numClasses: 3, layers: [{ type: 'conv2d', filters: 4, kernelSize: 3, strides: 1, padding: 'valid', activation: 'relu', useBias: true, kernelInitializer: 'glorotUniform' }, { type: 'dense', units: 3, activation: 'linear', useBias: true, kernelInitializer: 'glorotUniform' }] });
    expect(names(g)).toEqual(['conv2d_0', 'flatten_auto_1', 'dense_1']);
    expect(g.nodes[2].inputs).toEqual(['flatten_auto_1']);
    expect(modelTotals(describeModel(g)).params).toBe((3 * 3 * 1 + 1) * 4 + (6 * 6 * 4 + 1) * 3);
  });

  it('uniqueName counts a trailing number up, else appends _copy', () => {
    expect(uniqueName('conv2d_1', new Set(['conv2d_1', 'conv2d_2']))).toBe('conv2d_3');
    expect(uniqueName('stem', new Set(['stem']))).toBe('stem_copy');
    expect(uniqueName('stem', new Set(['stem', 'stem_copy']))).toBe('stem_copy2');
    expect(uniqueName('input', new Set())).toBe('input_copy');
  });
});
