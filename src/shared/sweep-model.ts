/**
 * The model knobs of a sweep: dropout and batch normalization are nodes of the graph, not
 * fields, so an ablation turns them on and off by rewriting the ModelSpec. Two knobs,
 * addressed in a SweepSpec by the pseudo-paths `model.dropoutRate` and
 * `model.batchNormalization` (./sweep.ts), with the placement of the presets
 * (./presets.ts, ./presets-deep.ts):
 * - dropout before every dense node (LeNet-5 / MLP: before each hidden dense and the
 *   logits; the deep presets: before their classifier layers);
 * - batch normalization after every conv2d / depthwiseConv2d / hidden dense, before its
 *   activation (Ioffe & Szegedy 2015, §3.2: "we add the BN transform immediately before the
 *   nonlinearity"), the layer's own bias dropped (BN's β replaces it).
 * Turning a knob off removes the nodes again, so a preset built with dropout or batch
 * normalization comes back as the preset built without them (tested). Pure functions.
 */
import { SpecError } from './errors';
import { toGraph } from './graph';
import { ActivationSchema, BN_MOMENTUM, INPUT_NAME, type LayerSpec, type ModelSpec, type NodeSpec } from './layers';

/** The pseudo-paths of the model knobs. */
export const MODEL_KNOBS = ['model.dropoutRate', 'model.batchNormalization'] as const;
export type ModelKnob = (typeof MODEL_KNOBS)[number];

/** True for `model.dropoutRate` / `model.batchNormalization`. */
export function isModelKnob(path: string): path is ModelKnob {
  return (MODEL_KNOBS as readonly string[]).includes(path);
}

/** The graph form of a model (a layer list becomes its chain with toGraph's names). */
function graphNodes(model: ModelSpec): { nodes: NodeSpec[]; output: string } {
  const g = toGraph(model);
  return { nodes: g.nodes.map((n) => ({ name: n.name, layer: { ...n.layer } as LayerSpec, inputs: [...n.inputs] })), output: g.output };
}

function rebuilt(model: ModelSpec, nodes: NodeSpec[], output: string): ModelSpec {
  const { layers: _layers, nodes: _nodes, output: _output, ...rest } = model;
  const last = nodes[nodes.length - 1]?.name;
  return { ...rest, nodes, ...(output !== last ? { output } : {}) };
}

/** Remove the nodes `drop` (each has one input): their readers read that input instead. */
function removeNodes(nodes: NodeSpec[], output: string, drop: (n: NodeSpec) => boolean): { nodes: NodeSpec[]; output: string } {
  const replace = new Map<string, string>();
  const resolveName = (name: string): string => replace.get(name) ?? name;
  const kept: NodeSpec[] = [];
  for (const n of nodes) {
    const inputs = n.inputs.map(resolveName);
    if (drop(n)) replace.set(n.name, inputs[0]);
    else kept.push({ ...n, inputs });
  }
  return { nodes: kept, output: resolveName(output) };
}

/** A node name not yet used: `base`, else `base_2`, `base_3`, … */
function freshName(used: Set<string>, base: string): string {
  let name = base;
  for (let k = 2; used.has(name) || name === INPUT_NAME; k++) name = `${base}_${k}`;
  used.add(name);
  return name;
}

/**
 * The model with dropout at `rate`: rate 0 removes every dropout node; a rate > 0 sets the
 * rate of the dropout nodes there are, or, when there are none, puts one before every
 * dense node (named `<dense>_dropout`).
 * @throws SpecError (field `model.dropoutRate`) for a rate outside [0, 1), or a rate > 0 on
 *   a model without dropout nodes and without dense nodes.
 */
export function withDropout(model: ModelSpec, rate: number): ModelSpec {
  if (!(typeof rate === 'number' && rate >= 0 && rate < 1)) throw new SpecError(`model.dropoutRate: a dropout rate is a number in [0, 1), not ${JSON.stringify(rate)}`, 'model.dropoutRate');
  const g = graphNodes(model);
  if (rate === 0) {
    const r = removeNodes(g.nodes, g.output, (n) => n.layer.type === 'dropout');
    return rebuilt(model, r.nodes, r.output);
  }
  if (g.nodes.some((n) => n.layer.type === 'dropout')) {
    return rebuilt(model, g.nodes.map((n) => (n.layer.type === 'dropout' ? { ...n, layer: { type: 'dropout', rate } } : n)), g.output);
  }
  if (!g.nodes.some((n) => n.layer.type === 'dense')) throw new SpecError('model.dropoutRate: the model has no dropout node and no dense node to put one before', 'model.dropoutRate');
  const used = new Set(g.nodes.map((n) => n.name));
  const out: NodeSpec[] = [];
  for (const n of g.nodes) {
    if (n.layer.type !== 'dense') {
      out.push(n);
      continue;
    }
    const name = freshName(used, `${n.name}_dropout`);
    out.push({ name, layer: { type: 'dropout', rate }, inputs: [...n.inputs] }, { ...n, inputs: [name] });
  }
  return rebuilt(model, out, g.output);
}

type Weighted = Extract<LayerSpec, { type: 'conv2d' | 'depthwiseConv2d' | 'dense' }>;
const isWeighted = (l: LayerSpec): l is Weighted => l.type === 'conv2d' || l.type === 'depthwiseConv2d' || l.type === 'dense';

/**
 * The model with batch normalization on or off.
 * - on: after every conv2d, depthwiseConv2d and dense node except the output, unless its
 *   only reader already is a batchNormalization: the layer becomes linear without bias,
 *   then `<name>_bn` (momentum BN_MOMENTUM = 0.9, ε 1e-3), then, when the layer had
 *   an activation, `<name>_act` applying it.
 * - off: every batchNormalization node removed; the layer before it gets its bias back, and
 *   an activation node right after it (one reader, an activation a layer can hold) is
 *   folded back into the layer.
 */
export function withBatchNormalization(model: ModelSpec, on: boolean): ModelSpec {
  if (typeof on !== 'boolean') throw new SpecError(`model.batchNormalization: true or false, not ${JSON.stringify(on)}`, 'model.batchNormalization');
  const g = graphNodes(model);
  const readers = new Map<string, NodeSpec[]>();
  for (const n of g.nodes) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  if (on) {
    const used = new Set(g.nodes.map((n) => n.name));
    const out: NodeSpec[] = [];
    const replace = new Map<string, string>();
    for (const n0 of g.nodes) {
      const n = { ...n0, inputs: n0.inputs.map((i) => replace.get(i) ?? i) };
      const r = readers.get(n.name) ?? [];
      const hasBn = r.length === 1 && r[0].layer.type === 'batchNormalization';
      if (!isWeighted(n.layer) || n.name === g.output || hasBn) {
        out.push(n);
        continue;
      }
      const activation = n.layer.activation;
      out.push({ ...n, layer: { ...n.layer, activation: 'linear', useBias: false } });
      const bn = freshName(used, `${n.name}_bn`);
      out.push({ name: bn, layer: { type: 'batchNormalization', momentum: BN_MOMENTUM, epsilon: 1e-3 }, inputs: [n.name] });
      let last = bn;
      if (activation !== 'linear') {
        last = freshName(used, `${n.name}_act`);
        out.push({ name: last, layer: { type: 'activation', activation }, inputs: [bn] });
      }
      replace.set(n.name, last);
    }
    return rebuilt(model, out, replace.get(g.output) ?? g.output);
  }
  // Off: the layer feeding each BN gets its bias back; a lone activation after the BN folds into it.
  const folded = new Set<string>();
  const patched = new Map<string, LayerSpec>();
  for (const n of g.nodes) {
    if (n.layer.type !== 'batchNormalization') continue;
    const src = byName.get(n.inputs[0]);
    if (!src || !isWeighted(src.layer)) continue;
    let layer: Weighted = { ...src.layer, useBias: true };
    const r = readers.get(n.name) ?? [];
    const act = r.length === 1 && r[0].layer.type === 'activation' ? r[0] : null;
    const srcReaders = readers.get(src.name) ?? [];
    if (act && act.layer.type === 'activation' && layer.activation === 'linear' && srcReaders.length === 1 && act.name !== g.output) {
      const parsed = ActivationSchema.safeParse(act.layer.activation);
      if (parsed.success) {
        layer = { ...layer, activation: parsed.data };
        folded.add(act.name);
      }
    }
    patched.set(src.name, layer);
  }
  const withLayers = g.nodes.map((n) => (patched.has(n.name) ? { ...n, layer: patched.get(n.name)! } : n));
  const r = removeNodes(withLayers, g.output, (n) => n.layer.type === 'batchNormalization' || folded.has(n.name));
  return rebuilt(model, r.nodes, r.output);
}

/**
 * The knob values a model has, as a sweep would have set them: `model.batchNormalization`
 * true when any node is a batchNormalization; `model.dropoutRate` the rate of its dropout
 * nodes (0 with none, the distinct rates in node order when they differ). Reads the graph
 * form (a layer list as toGraph's chain). @throws SpecError when the model is not a graph toGraph accepts.
 */
export function modelKnobValues(model: ModelSpec): { 'model.batchNormalization': boolean; 'model.dropoutRate': number | number[] } {
  const { nodes } = graphNodes(model);
  const rates = [...new Set(nodes.flatMap((n) => (n.layer.type === 'dropout' ? [n.layer.rate] : [])))];
  return {
    'model.batchNormalization': nodes.some((n) => n.layer.type === 'batchNormalization'),
    'model.dropoutRate': rates.length === 0 ? 0 : rates.length === 1 ? rates[0] : rates,
  };
}

/** Apply a model knob's value. @throws SpecError naming the knob for a value of the wrong type. */
export function applyModelKnob(model: ModelSpec, knob: ModelKnob, value: unknown): ModelSpec {
  return knob === 'model.dropoutRate' ? withDropout(model, value as number) : withBatchNormalization(model, value as boolean);
}
