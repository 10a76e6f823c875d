/**
 * The architecture editor's operations on a graph ModelSpec: change a node's config, insert a
 * node after another, remove a node (its readers then read its input), toggle batch
 * normalization or dropout after a conv / dense node, duplicate a block. Pure: each returns a
 * new spec (the one given is not touched) or a named refusal; every result passes toGraph
 * (unique names, inputs before readers, arity, every node on the way to the output). Whether the
 * shapes still fit is describeModel's to say: the editor shows that beside the graph.
 */
import { INPUT_NAME, LayerSpecSchema, MERGE_TYPES, toGraph, type GraphModelSpec, type LayerSpec, type LayerSpecInput, type LayerType, type ModelSpec, type NodeSpec } from '../../shared/spec';

/** An edit's outcome: the new spec and the node to select after it, or why it was refused. */
export type EditResult = { ok: true; spec: GraphModelSpec; select: string } | { ok: false; error: string };

const refuse = (error: string): EditResult => ({ ok: false, error });

/** The node whose output is the logits: `output`, else the last node. */
export function outputOf(spec: GraphModelSpec): string {
  return spec.output ?? spec.nodes[spec.nodes.length - 1].name;
}

/**
 * The graph form of either form of a spec: a layer list becomes its chain with toGraph's
 * names (`conv2d_0`, `flatten_auto_3`, …); a graph is returned as it is.
 * @throws SpecError from toGraph when the spec's structure is broken.
 */
export function asGraph(spec: ModelSpec): GraphModelSpec {
  if (spec.nodes) return spec as GraphModelSpec;
  const g = toGraph(spec);
  return { preset: spec.preset, inputShape: spec.inputShape, numClasses: spec.numClasses, nodes: g.nodes.map((n) => ({ name: n.name, layer: n.layer, inputs: [...n.inputs] })) };
}

/** Names of the nodes that read `name`, in spec order. */
export function readersOf(spec: GraphModelSpec, name: string): string[] {
  return spec.nodes.filter((n) => n.inputs.includes(name)).map((n) => n.name);
}

/**
 * A name not in `taken`: `base` itself when free, else with its trailing number counted up
 * (`conv2d_3` → `conv2d_4`), else with `_copy`, `_copy2`, … appended.
 */
export function uniqueName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base) && base !== INPUT_NAME) return base;
  const m = /^(.*_)(\d+)$/.exec(base);
  if (m) {
    for (let k = Number(m[2]) + 1; ; k++) if (!taken.has(`${m[1]}${k}`)) return `${m[1]}${k}`;
  }
  if (!taken.has(`${base}_copy`)) return `${base}_copy`;
  for (let k = 2; ; k++) if (!taken.has(`${base}_copy${k}`)) return `${base}_copy${k}`;
}

/** Put the output back where it was meant to be after nodes moved: implicit when it is the last node, else named. */
function withOutput(spec: GraphModelSpec, nodes: NodeSpec[], output: string): GraphModelSpec {
  const next: GraphModelSpec = { ...spec, nodes };
  if (nodes[nodes.length - 1].name === output) delete next.output;
  else next.output = output;
  return next;
}

/** The result, after checking that toGraph accepts it (a refusal carrying toGraph's words otherwise). */
function checked(spec: GraphModelSpec, select: string): EditResult {
  try {
    toGraph(spec);
  } catch (e) {
    return refuse((e as Error).message);
  }
  return { ok: true, spec, select };
}

function find(spec: GraphModelSpec, name: string): number {
  return spec.nodes.findIndex((n) => n.name === name);
}

/**
 * A layer of `type` with the schema's defaults and sizes that fit after a node whose output
 * has `channels` channels (a conv keeps the width, a dense layer gets 64 units, dropout 0.25).
 * @throws Error for a merge type (it needs two inputs; insertAfter refuses it).
 */
export function defaultLayer(type: Exclude<LayerType, 'add' | 'concatenate'>, channels = 32): LayerSpec {
  const configs: Record<Exclude<LayerType, 'add' | 'concatenate'>, LayerSpecInput> = {
    conv2d: { type: 'conv2d', filters: channels, kernelSize: 3, padding: 'same', activation: 'relu' },
    depthwiseConv2d: { type: 'depthwiseConv2d', kernelSize: 3, padding: 'same' },
    maxPooling2d: { type: 'maxPooling2d', poolSize: 2 },
    averagePooling2d: { type: 'averagePooling2d', poolSize: 2 },
    globalAveragePooling2d: { type: 'globalAveragePooling2d' },
    globalMaxPooling2d: { type: 'globalMaxPooling2d' },
    zeroPadding2d: { type: 'zeroPadding2d', padding: 1 },
    dense: { type: 'dense', units: 64, activation: 'relu' },
    flatten: { type: 'flatten' },
    dropout: { type: 'dropout', rate: 0.25 },
    batchNormalization: { type: 'batchNormalization' },
    activation: { type: 'activation', activation: 'relu' },
  };
  const c = configs[type];
  if (!c) throw new Error(`defaultLayer: no default for "${type}"`);
  return LayerSpecSchema.parse(c);
}

/**
 * Replace the config of node `name` (a typed value the schema refuses is kept, so the form's
 * error names its field). The layer may change type, but not between a merge and a one-input layer.
 */
export function setLayer(spec: GraphModelSpec, name: string, layer: LayerSpec): EditResult {
  const i = find(spec, name);
  if (i < 0) return refuse(`no node is named "${name}"`);
  const was = spec.nodes[i].layer.type;
  if (MERGE_TYPES.has(was) !== MERGE_TYPES.has(layer.type)) return refuse(`"${name}" is a ${was}; it cannot become a ${layer.type} (${MERGE_TYPES.has(was) ? 'a merge reads two or more inputs' : 'it reads one input'})`);
  const nodes = spec.nodes.map((n, k) => (k === i ? { ...n, layer } : n));
  return checked({ ...spec, nodes }, name);
}

/**
 * Insert a node of `layer` right after `after` (a node or 'input'): it reads `after`, and
 * every node that read `after` reads it instead; the output moves to it when `after` was the
 * output. Named `name`, else `<type>_<n>` with the first free n.
 */
export function insertAfter(spec: GraphModelSpec, after: string, layer: LayerSpec, name?: string): EditResult {
  if (MERGE_TYPES.has(layer.type)) return refuse(`a ${layer.type} node joins two or more branches; insert a layer with one input here`);
  const i = after === INPUT_NAME ? -1 : find(spec, after);
  if (i < 0 && after !== INPUT_NAME) return refuse(`no node is named "${after}"`);
  const taken = new Set(spec.nodes.map((n) => n.name));
  if (name !== undefined && (taken.has(name) || name === INPUT_NAME)) return refuse(`"${name}" is already the name of a node`);
  const node: NodeSpec = { name: name ?? uniqueName(`${layer.type}_1`, taken), layer, inputs: [after] };
  const rewired = spec.nodes.map((n) => (n.inputs.includes(after) ? { ...n, inputs: n.inputs.map((x) => (x === after ? node.name : x)) } : n));
  const nodes = [...rewired.slice(0, i + 1), node, ...rewired.slice(i + 1)];
  const out = outputOf(spec);
  return checked(withOutput(spec, nodes, out === after ? node.name : out), node.name);
}

/**
 * Remove node `name`: the nodes that read it read its (single) input instead; when it was the
 * output, its input becomes the output. Refused for the input, for a merge (add /
 * concatenate: remove a node of one of its branches instead), for the only node, and when a
 * merge would read the same node twice.
 */
export function removeNode(spec: GraphModelSpec, name: string): EditResult {
  if (name === INPUT_NAME) return refuse('the input is the image the network reads; it cannot be removed');
  const i = find(spec, name);
  if (i < 0) return refuse(`no node is named "${name}"`);
  const node = spec.nodes[i];
  if (MERGE_TYPES.has(node.layer.type)) {
    return refuse(`"${name}" is a ${node.layer.type} joining ${node.inputs.join(' and ')}; a merge cannot be removed — remove the nodes of one of its branches instead`);
  }
  if (spec.nodes.length === 1) return refuse(`"${name}" is the only node; a network needs at least one`);
  const from = node.inputs[0];
  const out = outputOf(spec);
  if (out === name && from === INPUT_NAME) return refuse(`"${name}" is the output and reads the input directly; removing it would leave no output`);
  const nodes: NodeSpec[] = [];
  for (const n of spec.nodes) {
    if (n.name === name) continue;
    if (!n.inputs.includes(name)) {
      nodes.push(n);
      continue;
    }
    const inputs = n.inputs.map((x) => (x === name ? from : x));
    if (new Set(inputs).size !== inputs.length) return refuse(`removing "${name}" would make ${n.layer.type} "${n.name}" read "${from}" twice; remove the whole branch or the merge's other input first`);
    nodes.push({ ...n, inputs });
  }
  const select = readersOf(spec, name)[0] ?? from;
  return checked(withOutput(spec, nodes, out === name ? from : out), select === INPUT_NAME ? nodes[0].name : select);
}

/** Layer types that count as part of a conv / dense node's block (what follows it before the next layer with weights). */
const POST_OPS: ReadonlySet<LayerType> = new Set(['batchNormalization', 'activation', 'dropout']);

/**
 * The nodes that follow `name` as its block: each the single reader of the one before, of
 * type batchNormalization, activation or dropout, up to the output.
 */
export function postOps(spec: GraphModelSpec, name: string): string[] {
  const out: string[] = [];
  let cur = name;
  const output = outputOf(spec);
  while (cur !== output) {
    const readers = readersOf(spec, cur);
    if (readers.length !== 1) break;
    const next = spec.nodes[find(spec, readers[0])];
    if (!POST_OPS.has(next.layer.type) || next.inputs.length !== 1) break;
    out.push(next.name);
    cur = next.name;
  }
  return out;
}

/**
 * Batch normalization or dropout on or off after a conv2d, depthwiseConv2d or dense node: when
 * its block (postOps) holds one, that node is removed; else a batchNormalization is inserted
 * right after the node (the layer defaults: momentum 0.9, ε 1e-3), or a dropout (`rate`, default 0.25) at the end
 * of its block.
 */
export function toggleAfter(spec: GraphModelSpec, name: string, kind: 'batchNormalization' | 'dropout', rate = 0.25): EditResult {
  const i = find(spec, name);
  if (i < 0) return refuse(`no node is named "${name}"`);
  const t = spec.nodes[i].layer.type;
  if (t !== 'conv2d' && t !== 'depthwiseConv2d' && t !== 'dense') return refuse(`${kind === 'dropout' ? 'dropout' : 'batch normalization'} is toggled after a conv2d, depthwiseConv2d or dense node; "${name}" is a ${t}`);
  const block = postOps(spec, name);
  const have = block.find((b) => spec.nodes[find(spec, b)].layer.type === kind);
  if (have) {
    const r = removeNode(spec, have);
    return r.ok ? { ...r, select: name } : r;
  }
  const taken = new Set(spec.nodes.map((n) => n.name));
  const layer = kind === 'dropout' ? defaultLayer('dropout') : defaultLayer('batchNormalization');
  if (kind === 'dropout') (layer as { rate: number }).rate = rate;
  const after = kind === 'dropout' && block.length > 0 ? block[block.length - 1] : name;
  const r = insertAfter(spec, after, layer, uniqueName(`${name}_${kind === 'dropout' ? 'dropout' : 'bn'}`, taken));
  return r.ok ? { ...r, select: name } : r;
}

/**
 * The block that starts at `from`: `from` up to the first merge (add / concatenate) at or
 * after it in spec order, then on through the merge's single-reader batchNormalization /
 * activation / dropout nodes (a ResNet basic block: conv, BN, ReLU, conv, BN, add, ReLU).
 * @returns [first, last] node names, or null when no merge follows.
 */
export function blockFrom(spec: GraphModelSpec, from: string): [string, string] | null {
  const i = find(spec, from);
  if (i < 0) return null;
  const j = spec.nodes.findIndex((n, k) => k >= i && MERGE_TYPES.has(n.layer.type));
  if (j < 0) return null;
  const tail = postOps(spec, spec.nodes[j].name);
  return [from, tail.length > 0 ? tail[tail.length - 1] : spec.nodes[j].name];
}

/** New names for a block's copy: the block's number counted up when all its names share one (`stage1_block2_conv1` → `stage1_block4_conv1`), else each name made unique. */
function copyNames(names: string[], taken: Set<string>): Map<string, string> {
  const parts = names.map((n) => /^(.*?block)(\d+)(.*)$/.exec(n));
  const map = new Map<string, string>();
  if (parts.every((p) => p && p[1] === parts[0]![1] && p[2] === parts[0]![2])) {
    for (let k = Number(parts[0]![2]) + 1; ; k++) {
      const next = parts.map((p) => `${p![1]}${k}${p![3]}`);
      if (next.every((n) => !taken.has(n))) {
        names.forEach((n, x) => map.set(n, next[x]));
        return map;
      }
    }
  }
  const all = new Set(taken);
  for (const n of names) {
    const u = uniqueName(n, all);
    all.add(u);
    map.set(n, u);
  }
  return map;
}

/**
 * Duplicate the nodes from `first` to `last` (spec order, inclusive; default: blockFrom(first))
 * and chain the copy after the original: the copy reads the original's last node where the
 * original read the block's entry, and what read the original's last node reads the copy's.
 * Names are made unique (copyNames). Refused when the block reads more than one node from
 * outside it, or when a node inside it other than the last is read from outside.
 */
export function duplicateBlock(spec: GraphModelSpec, first: string, last?: string): EditResult {
  const range = last === undefined ? blockFrom(spec, first) : [first, last];
  if (!range) return refuse(`no add or concatenate follows "${first}"; select the block's last node too (shift-click) to duplicate a range`);
  let i = find(spec, range[0]);
  let j = find(spec, range[1]);
  if (i < 0 || j < 0) return refuse(`no node is named "${i < 0 ? range[0] : range[1]}"`);
  if (i > j) [i, j] = [j, i];
  const block = spec.nodes.slice(i, j + 1);
  const inside = new Set(block.map((n) => n.name));
  const entries = [...new Set(block.flatMap((n) => n.inputs.filter((x) => !inside.has(x))))];
  const span = `${block[0].name} … ${block[block.length - 1].name}`;
  if (entries.length !== 1) return refuse(`the block ${span} reads ${entries.map((e) => `"${e}"`).join(' and ')} from outside it; a block to duplicate reads one node (start it where its branches split)`);
  const exit = block[block.length - 1].name;
  for (const n of spec.nodes.slice(j + 1)) {
    const leak = n.inputs.find((x) => inside.has(x) && x !== exit);
    if (leak) return refuse(`"${leak}" inside the block ${span} is read by "${n.name}" outside it; a block to duplicate is read only through its last node`);
  }
  const names = copyNames(
    block.map((n) => n.name),
    new Set(spec.nodes.map((n) => n.name)),
  );
  const copy: NodeSpec[] = block.map((n) => ({ name: names.get(n.name)!, layer: n.layer, inputs: n.inputs.map((x) => (inside.has(x) ? names.get(x)! : exit)) }));
  const copyExit = names.get(exit)!;
  const after = spec.nodes.slice(j + 1).map((n) => (n.inputs.includes(exit) ? { ...n, inputs: n.inputs.map((x) => (x === exit ? copyExit : x)) } : n));
  const out = outputOf(spec);
  return checked(withOutput(spec, [...spec.nodes.slice(0, j + 1), ...copy, ...after], out === exit ? copyExit : out), copy[0].name);
}
