// @vitest-environment happy-dom
/**
 * The layer table says how each count is made, and the note matches what is counted: a
 * convolution or dense layer without bias is P·P·d·K / n·m, batch normalization 4·C.
 * The expected counts are computed here from the lecture's formulas, independently of
 * describeModel, and the formula shown on each row must evaluate to the count shown.
 */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import LayerTable from '../../src/renderer/components/LayerTable.vue';
import { buildPreset, describeModel, type ModelSpec } from '../../src/shared/spec';

/** Evaluate "(5·5·1 + 1)·6" or "5·5·1·6": products of sums of whole numbers, nothing else. */
function evaluate(f: string): number {
  const factor = (t: string): number => {
    const s = t.trim();
    if (s.startsWith('(') && s.endsWith(')')) return s.slice(1, -1).split('+').reduce((a, x) => a + evaluate(x), 0);
    if (!/^\d+$/.test(s)) throw new Error(`not a number: "${s}"`);
    return Number(s);
  };
  // Split on · outside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of f) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === '·' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.reduce((a, p) => a * factor(p), 1);
}

function rowsOf(model: ReturnType<typeof buildPreset>) {
  const w = mount(LayerTable, { props: { layers: describeModel(model), inputShape: model.inputShape } });
  const rows = w.findAll('[data-testid="layer-row"]').map((r) => ({
    type: r.attributes('data-layer-type'),
    params: Number(r.get('[data-testid="layer-params"]').text().replace(/,/g, '')),
    formula: r.get('[data-testid="layer-formula"]').text(),
  }));
  const notes = w.findAll('[data-testid="layer-formula-note"]').map((n) => n.text());
  return { rows, notes };
}

describe('LayerTable formula notes', () => {
  it('LeNet-5 with batch normalization: convolutions and hidden dense layers without bias are counted P·P·d·K and n·m', () => {
    const { rows, notes } = rowsOf(buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10, batchNormalization: true }));
    const convs = rows.filter((r) => r.type === 'conv2d');
    // Independent counts: conv 5×5 from 1 to 6 channels, then from 6 to 16, no bias.
    expect(convs.map((r) => r.params)).toEqual([5 * 5 * 1 * 6, 5 * 5 * 6 * 16]);
    expect(convs.map((r) => r.formula)).toEqual(['5·5·1·6', '5·5·6·16']);
    const bns = rows.filter((r) => r.type === 'batchNormalization');
    expect(bns.map((r) => r.params)).toEqual([4 * 6, 4 * 16, 4 * 120, 4 * 84]);
    expect(bns.map((r) => r.formula)).toEqual(['4·6', '4·16', '4·120', '4·84']);
    const dense = rows.filter((r) => r.type === 'dense');
    expect(dense.map((r) => r.formula)).toEqual(['400·120', '120·84', '(84 + 1)·10']);
    for (const r of rows) expect(r.formula === '' ? 0 : evaluate(r.formula)).toBe(r.params);
    expect(notes).toContain('conv2d without bias: P·P·d·K — P kernel size, d input channels, K filters');
    expect(notes).toContain('dense without bias: n·m — n inputs, m units');
    expect(notes).toContain('dense with bias: (n + 1)·m — n inputs, m units');
    expect(notes.some((n) => n.startsWith('batch normalization: 4·C'))).toBe(true);
    // No note for a kind of layer this model does not have.
    expect(notes.some((n) => n.startsWith('conv2d with bias'))).toBe(false);
  });

  it('plain LeNet-5 (bias everywhere) and an MLP without convolutions', () => {
    const lenet = rowsOf(buildPreset('lenet5', { inputShape: [32, 32, 3], numClasses: 10 }));
    expect(lenet.rows.filter((r) => r.type === 'conv2d').map((r) => r.formula)).toEqual(['(5·5·3 + 1)·6', '(5·5·6 + 1)·16']);
    for (const r of lenet.rows) expect(r.formula === '' ? 0 : evaluate(r.formula)).toBe(r.params);
    expect(lenet.notes.some((n) => n.startsWith('conv2d without bias'))).toBe(false);
    expect(lenet.notes.some((n) => n.startsWith('output size per conv/pool axis'))).toBe(true);

    const mlp = rowsOf(buildPreset('mlp', { inputShape: [28, 28, 1], numClasses: 10, hiddenUnits: [128] }));
    expect(mlp.rows.filter((r) => r.type === 'dense').map((r) => r.formula)).toEqual(['(784 + 1)·128', '(128 + 1)·10']);
    expect(mlp.notes).toEqual(['dense with bias: (n + 1)·m — n inputs, m units']);
  });
});

describe('LayerTable for a graph: node names, inputs, multiply-adds and totals', () => {
  it('a residual block: each node by name, a merge shows its inputs, multiply-adds and totals computed by hand', () => {
    // input 8×8×3 → conv 3×3 same 4 (stem) → conv 3×3 same 4, no bias (branch) → add(stem, branch) → global average pool → dense 2.
    const model: ModelSpec = {
      preset: 'custom',
      inputShape: [8, 8, 3],
      numClasses: 2,
      nodes: [
        { name: 'stem', layer: { type: 'conv2d', filters: 4, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu', useBias: true, kernelInitializer: 'glorotUniform' }, inputs: ['input'] },
        { name: 'branch', layer: { type: 'conv2d', filters: 4, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear', useBias: false, kernelInitializer: 'heNormal' }, inputs: ['stem'] },
        { name: 'dw', layer: { type: 'depthwiseConv2d', kernelSize: 3, strides: 1, padding: 'same', depthMultiplier: 1, activation: 'linear', useBias: true, depthwiseInitializer: 'glorotUniform' }, inputs: ['branch'] },
        { name: 'merge', layer: { type: 'add' }, inputs: ['stem', 'dw'] },
        { name: 'pool', layer: { type: 'globalAveragePooling2d' }, inputs: ['merge'] },
        { name: 'logits', layer: { type: 'dense', units: 2, activation: 'linear', useBias: true, kernelInitializer: 'glorotUniform' }, inputs: ['pool'] },
      ],
    };
    const w = mount(LayerTable, { props: { layers: describeModel(model), inputShape: model.inputShape, selected: 'merge' } });
    const rows = w.findAll('[data-testid="layer-row"]');
    expect(rows.map((r) => r.get('[data-testid="layer-name"]').text())).toEqual(['stem', 'branch', 'dw', 'merge', 'pool', 'logits']);
    // Only the merge reads something other than the node above it.
    expect(rows.map((r) => r.find('[data-testid="layer-inputs"]').exists() ? r.get('[data-testid="layer-inputs"]').text() : '')).toEqual(['', '', '', '← stem, dw', '', '']);
    expect(rows[3].attributes('data-selected')).toBe('true');
    // By hand: conv P·P·d·K per output position (8·8 positions), depthwise P·P per channel and position, dense n·m.
    const macs = [8 * 8 * 3 * 3 * 3 * 4, 8 * 8 * 3 * 3 * 4 * 4, 8 * 8 * 4 * 3 * 3, 0, 0, 4 * 2];
    expect(rows.map((r) => Number(r.get('[data-testid="layer-macs"]').attributes('data-macs')))).toEqual(macs);
    const params = [(3 * 3 * 3 + 1) * 4, 3 * 3 * 4 * 4, 3 * 3 * 4 + 4, 0, 0, (4 + 1) * 2];
    expect(rows.map((r) => Number(r.get('[data-testid="layer-params"]').text().replace(/,/g, '')))).toEqual(params);
    for (const r of rows) {
      const f = r.get('[data-testid="layer-formula"]').text();
      expect(f === '' ? 0 : evaluate(f)).toBe(Number(r.get('[data-testid="layer-params"]').text().replace(/,/g, '')));
    }
    expect(rows[2].get('[data-testid="layer-formula"]').text()).toBe('(3·3 + 1)·4·1');
    expect(Number(w.get('[data-testid="total-params"]').text().replace(/,/g, ''))).toBe(params.reduce((a, b) => a + b, 0));
    expect(Number(w.get('[data-testid="total-macs"]').attributes('data-macs'))).toBe(macs.reduce((a, b) => a + b, 0));
    expect(w.get('tfoot').text()).toContain('Total (6 nodes)');
    // 6,912 + 9,216 + 2,304 + 8 = 18,440 → shown compact, exact in the title.
    expect(w.get('[data-testid="total-macs"]').text()).toBe('18.4 k');
    expect(w.get('[data-testid="total-macs"]').attributes('title')).toBe('18,440 multiply-adds');
    const notes = w.findAll('[data-testid="layer-formula-note"]').map((n) => n.text());
    expect(notes).toContain('depthwiseConv2d with bias: (P·P + 1)·d·m — P kernel size, d input channels, m depth multiplier');
    w.get('[data-node-name="pool"]').trigger('click');
    expect(w.emitted('select')).toEqual([['pool']]);
  });
});
