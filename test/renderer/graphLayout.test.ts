/**
 * The architecture view's layout (src/renderer/lib/graphLayout.ts): a chain is one column, a
 * residual block puts its branches side by side with the merge below both, an inception-style
 * fan-out spreads its branches and centres the concatenate, no two boxes overlap, every edge
 * runs downward, and a ~170-node ResNet-56-sized graph lays out the same way twice.
 */
import { describe, expect, it } from 'vitest';
import { foldRepeatedBlocks, layoutGraph, type GraphLayout } from '../../src/renderer/lib/graphLayout';
import { GraphBuilder } from '../../src/shared/graph-builder';
import { describeModel } from '../../src/shared/spec';
import { residualSpec } from './residualGraph';
import { buildPreset, toGraph } from '../../src/shared/spec';

const box = (l: GraphLayout, name: string) => {
  const b = l.boxes.find((x) => x.name === name);
  if (!b) throw new Error(`no box ${name}`);
  return b;
};
const centre = (l: GraphLayout, name: string): number => box(l, name).x + box(l, name).width / 2;

function expectNoOverlap(l: GraphLayout): void {
  for (let i = 0; i < l.boxes.length; i++)
    for (let j = i + 1; j < l.boxes.length; j++) {
      const a = l.boxes[i];
      const b = l.boxes[j];
      const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
      expect(apart, `${a.name} overlaps ${b.name}`).toBe(true);
    }
}

function expectDownward(l: GraphLayout): void {
  for (const e of l.edges) {
    const from = box(l, e.from);
    const to = box(l, e.to);
    expect(e.points[0].y).toBe(from.y + from.height);
    expect(e.points[e.points.length - 1].y).toBe(to.y);
    for (let k = 1; k < e.points.length; k++) expect(e.points[k].y, `${e.from}→${e.to} segment ${k}`).toBeGreaterThanOrEqual(e.points[k - 1].y);
  }
}

describe('layoutGraph', () => {
  it('a chain (LeNet-5) is one column, one row per node, top to bottom in spec order', () => {
    const nodes = toGraph(buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 })).nodes;
    const l = layoutGraph(nodes);
    expect(l.boxes.map((b) => b.name)).toEqual(['input', ...nodes.map((n) => n.name)]);
    expect(new Set(l.boxes.map((b) => b.x)).size).toBe(1);
    expect(l.boxes.map((b) => b.row)).toEqual(l.boxes.map((_, i) => i));
    expect(l.rows).toBe(nodes.length + 1);
    expect(l.edges).toHaveLength(nodes.length);
    expectNoOverlap(l);
    expectDownward(l);
  });

  it('an identity shortcut: the main path stays in one column, the shortcut runs beside it, the add is below both inputs', () => {
    const l = layoutGraph(residualSpec(1).nodes);
    const mainPath = ['stem_relu', ...['conv1', 'bn1', 'relu1', 'conv2', 'bn2', 'add', 'out'].map((n) => `stage1_block1_${n}`)];
    expect(new Set(mainPath.map((n) => centre(l, n))).size).toBe(1);
    const add = box(l, 'stage1_block1_add');
    expect(add.y).toBeGreaterThan(box(l, 'stage1_block1_bn2').y);
    expect(add.y).toBeGreaterThan(box(l, 'stem_relu').y);
    const shortcut = l.edges.find((e) => e.from === 'stem_relu' && e.to === 'stage1_block1_add')!;
    // Drawn beside the boxes it passes, not through them: its waypoints lie right of the main column's boxes.
    const inner = shortcut.points.slice(1, -1);
    expect(inner.length).toBeGreaterThan(0);
    for (const p of inner) expect(p.x).toBeGreaterThan(add.x + add.width);
    expectNoOverlap(l);
    expectDownward(l);
  });

  it('a projection shortcut: the projection sits side by side with the first conv, the add below and between them', () => {
    const l = layoutGraph(residualSpec(1, 2).nodes);
    const conv1 = box(l, 'stage2_block1_conv1');
    const proj = box(l, 'stage2_block1_proj');
    expect(proj.row).toBe(conv1.row);
    expect(proj.x).toBeGreaterThanOrEqual(conv1.x + conv1.width);
    const add = box(l, 'stage2_block1_add');
    expect(add.row).toBeGreaterThan(box(l, 'stage2_block1_bn2').row);
    expect(add.row).toBeGreaterThan(box(l, 'stage2_block1_proj_bn').row);
    expect(centre(l, 'stage2_block1_add')).toBeGreaterThan(centre(l, 'stage2_block1_conv1'));
    expect(centre(l, 'stage2_block1_add')).toBeLessThan(centre(l, 'stage2_block1_proj'));
    expectNoOverlap(l);
    expectDownward(l);
  });

  it('an inception-style fan-out: four branches in one row side by side, the concatenate centred below them', () => {
    const g = new GraphBuilder();
    const x = g.add({ type: 'conv2d', filters: 8, kernelSize: 3 }, { name: 'stem' });
    const a = g.add({ type: 'conv2d', filters: 4, kernelSize: 1 }, { name: 'b1x1', inputs: [x] });
    g.add({ type: 'conv2d', filters: 4, kernelSize: 1 }, { name: 'b3_reduce', inputs: [x] });
    const b = g.add({ type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same' }, { name: 'b3x3' });
    g.add({ type: 'conv2d', filters: 4, kernelSize: 1 }, { name: 'b5_reduce', inputs: [x] });
    const c = g.add({ type: 'conv2d', filters: 4, kernelSize: 5, padding: 'same' }, { name: 'b5x5' });
    g.add({ type: 'maxPooling2d', poolSize: 3, strides: 1, padding: 'same' }, { name: 'pool', inputs: [x] });
    const d = g.add({ type: 'conv2d', filters: 4, kernelSize: 1 }, { name: 'pool_proj' });
    g.add({ type: 'concatenate' }, { name: 'concat', inputs: [a, b, c, d] });
    const l = layoutGraph(g.nodes);
    const first = ['b1x1', 'b3_reduce', 'b5_reduce', 'pool'].map((n) => box(l, n));
    expect(new Set(first.map((f) => f.row)).size).toBe(1);
    const xs = first.map((f) => f.x);
    expect([...xs].sort((p, q) => p - q)).toEqual(xs); // spec order, left to right
    expect(centre(l, 'concat')).toBeCloseTo(centre(l, 'stem'), 6);
    expect(box(l, 'concat').row).toBe(box(l, 'b3x3').row + 1);
    expectNoOverlap(l);
    expectDownward(l);
  });

  it('a ResNet-56-sized graph (3 stages of 9 blocks, 198 nodes) is laid out without overlaps, narrow, and the same way twice', () => {
    const spec = residualSpec(9, 3);
    expect(() => describeModel(spec)).not.toThrow();
    const nodes = spec.nodes;
    expect(nodes.length).toBe(198);
    const l = layoutGraph(nodes);
    expect(l.boxes).toHaveLength(nodes.length + 1);
    expectNoOverlap(l);
    expectDownward(l);
    // Readable: the main path does not drift sideways; the whole drawing stays about two columns wide.
    expect(l.width).toBeLessThan(3 * 228);
    expect(layoutGraph(nodes)).toEqual(l);
  });

  it('inputs naming no earlier node are ignored (a half-edited graph still draws)', () => {
    const l = layoutGraph([
      { name: 'a', inputs: ['input'] },
      { name: 'b', inputs: ['a', 'nope'] },
    ]);
    expect(l.edges.map((e) => `${e.from}>${e.to}`)).toEqual(['input>a', 'a>b']);
  });

  it('foldRepeatedBlocks: ResNet-56-style stages keep their first different blocks and fold the identical rest into one box each (×8, ×7, ×7)', () => {
    const spec = residualSpec(9, 3);
    const { nodes, runs } = foldRepeatedBlocks(spec.nodes, new Set(), (a, b) => JSON.stringify(a.layer) === JSON.stringify(b.layer));
    expect(runs.map((r) => [r.name, r.count])).toEqual([
      ['stage1_block2…9', 8],
      ['stage2_block3…9', 7],
      ['stage3_block3…9', 7],
    ]);
    expect(runs[0].members).toHaveLength(8 * 7);
    // The folded box reads the block before it, and the next stage reads the box.
    const box1 = nodes.find((n) => n.name === 'stage1_block2…9')!;
    expect(box1.inputs).toEqual(['stage1_block1_out']);
    expect(nodes.find((n) => n.name === 'stage2_block1_conv1')!.inputs).toEqual(['stage1_block2…9']);
    expect(nodes.find((n) => n.name === 'stage2_block1_proj')!.inputs).toEqual(['stage1_block2…9']);
    expect(nodes.find((n) => n.name === 'gap')!.inputs).toEqual(['stage3_block3…9']);
    const l = layoutGraph(nodes);
    expect(l.rows).toBeLessThan(layoutGraph(spec.nodes).rows / 3);
    expectNoOverlap(l);
    expectDownward(l);
    // Expanded by name: that run is drawn in full again.
    expect(foldRepeatedBlocks(spec.nodes, new Set(['stage1_block2…9'])).runs.map((r) => r.name)).toEqual(['stage2_block3…9', 'stage3_block3…9']);
    // A block with a different config is not folded with its neighbours.
    const changed = { ...spec, nodes: spec.nodes.map((n) => (n.name === 'stage1_block5_conv1' ? { ...n, layer: { ...n.layer, filters: 4 } as typeof n.layer } : n)) };
    const f = foldRepeatedBlocks(changed.nodes, new Set(), (a, b) => JSON.stringify(a.layer) === JSON.stringify(b.layer));
    expect(f.runs.map((r) => r.name)).toEqual(['stage1_block2…4', 'stage1_block7…9', 'stage2_block3…9', 'stage3_block3…9']);
    // Fewer than three identical blocks in a row: nothing to fold (ResNet-20 has 3 a stage: one box of 2).
    expect(foldRepeatedBlocks(residualSpec(2).nodes).runs).toEqual([]);
  });
});
