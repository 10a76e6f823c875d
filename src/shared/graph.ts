/**
 * The model graph: both forms of a ModelSpec (./layers.ts) become one graph of named
 * nodes (`toGraph`), and `describeModel` walks it to give every node's output shape,
 * parameters and multiply-adds with the lecture's formulas, refusing a network whose
 * shapes do not fit its input before anything is built. Zod-free, pure functions.
 */
import { SpecError } from './errors';
import { INPUT_NAME, MERGE_TYPES, type LayerSpec, type ModelSpec } from './layers';

/** One node of the built graph. */
export interface GraphNode {
  name: string;
  layer: LayerSpec;
  /** Names of the nodes it reads ('input' for the image). */
  inputs: string[];
  /** The spec path of the node, for errors: "model.nodes[3]" or "model.layers[3]"; the implicit flatten of a layer list gets its dense layer's. */
  field: string;
  /**
   * What the node's seeds are derived from (src/engine/random.ts deriveSeed): its name in a
   * graph; in a layer list the layer's index for the kernel and its index in the old
   * sequential model (input layer 0, implicit flattens counted) for dropout, so runs stored
   * before the graph spec train to the same weights.
   */
  kernelSeedKey: string;
  dropoutSeedKey: string;
}

export interface ModelGraph {
  inputShape: [number, number, 1 | 3];
  numClasses: number;
  /** In an order where each node's inputs come before it. */
  nodes: GraphNode[];
  /** The node whose output is the logits. */
  output: string;
  /** True when the spec was a layer list. */
  fromLayerList: boolean;
}

/**
 * The graph of either form of a ModelSpec. A layer list becomes a chain named
 * `<type>_<index>` (the names the layer-list code gave its layers), with a `flatten_auto_<i>`
 * node before a dense layer i that follows an image-shaped output (the layer list's implicit
 * flatten, kept so stored runs rebuild identically). A graph is taken as it is: nothing added.
 * @throws SpecError (field "model.nodes[i]…") when a node name repeats or is 'input', an input
 *   names no earlier node, a layer has the wrong number of inputs, `output` names no node, or
 *   a node is not on the way to the output.
 */
export function toGraph(spec: ModelSpec): ModelGraph {
  if (spec.nodes) return checkGraph(spec);
  const layers = spec.layers ?? [];
  const nodes: GraphNode[] = [];
  let prev = INPUT_NAME;
  let rank = 3;
  layers.forEach((layer, i) => {
    const field = `model.layers[${i}]`;
    if (layer.type === 'dense' && rank > 1) {
      const name = `flatten_auto_${i}`;
      nodes.push({ name, layer: { type: 'flatten' }, inputs: [prev], field, kernelSeedKey: name, dropoutSeedKey: String(nodes.length + 1) });
      prev = name;
    }
    const name = `${layer.type}_${i}`;
    nodes.push({ name, layer, inputs: [prev], field, kernelSeedKey: String(i), dropoutSeedKey: String(nodes.length + 1) });
    prev = name;
    if (layer.type === 'flatten' || layer.type === 'dense' || layer.type === 'globalAveragePooling2d' || layer.type === 'globalMaxPooling2d') rank = 1;
  });
  return { inputShape: spec.inputShape, numClasses: spec.numClasses, nodes, output: prev, fromLayerList: true };
}

function checkGraph(spec: ModelSpec): ModelGraph {
  const specNodes = spec.nodes ?? [];
  const index = new Map<string, number>();
  const nodes: GraphNode[] = specNodes.map((n, i) => {
    const field = `model.nodes[${i}]`;
    if (n.name === INPUT_NAME) throw new SpecError(`${field}.name: "${INPUT_NAME}" is the graph's input; give the node another name`, `${field}.name`);
    if (index.has(n.name)) throw new SpecError(`${field}.name: "${n.name}" is already the name of model.nodes[${index.get(n.name)}]; node names must be unique`, `${field}.name`);
    const arity = MERGE_TYPES.has(n.layer.type) ? 'merge' : 'single';
    if (arity === 'merge' && n.inputs.length < 2) throw new SpecError(`${field}.inputs: ${n.layer.type} "${n.name}" needs two or more inputs, got ${n.inputs.length}`, `${field}.inputs`);
    if (arity === 'single' && n.inputs.length !== 1) throw new SpecError(`${field}.inputs: ${n.layer.type} "${n.name}" takes one input, got ${n.inputs.length} (${n.inputs.join(', ')}); join branches with an add or concatenate node`, `${field}.inputs`);
    n.inputs.forEach((from, k) => {
      if (from !== INPUT_NAME && !index.has(from)) {
        const later = specNodes.findIndex((m) => m.name === from);
        const why = later >= 0 ? `"${from}" comes later (model.nodes[${later}]); list a node after its inputs` : `no node is named "${from}"`;
        throw new SpecError(`${field}.inputs[${k}]: ${why}`, `${field}.inputs[${k}]`);
      }
    });
    index.set(n.name, i);
    return { name: n.name, layer: n.layer, inputs: [...n.inputs], field, kernelSeedKey: n.name, dropoutSeedKey: n.name };
  });
  const output = spec.output ?? nodes[nodes.length - 1].name;
  if (!index.has(output)) throw new SpecError(`model.output: no node is named "${output}"`, 'model.output');
  // Every node must lead to the output: a dangling branch would be trained by nothing.
  const used = new Set<string>([output]);
  for (let i = nodes.length - 1; i >= 0; i--) if (used.has(nodes[i].name)) for (const from of nodes[i].inputs) used.add(from);
  const unused = nodes.find((n) => !used.has(n.name));
  if (unused) throw new SpecError(`${unused.field}: node "${unused.name}" does not lead to the output "${output}"; connect it or remove it`, unused.field);
  return { inputShape: spec.inputShape, numClasses: spec.numClasses, nodes, output, fromLayerList: false };
}

/** Output size of a convolution or pooling along one axis: (N + 2z − P)/s + 1 (lecture), rounded down; 'same' gives ceil(N/s). */
export function convOutputSize(n: number, p: number, s: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(n / s) : Math.floor((n - p) / s) + 1;
}

/** Parameters of a conv2d layer: (P·P·d + 1)·K with bias (lecture), P·P·d·K without. */
export function conv2dParams(kernelSize: number, inChannels: number, filters: number, useBias = true): number {
  return (kernelSize * kernelSize * inChannels + (useBias ? 1 : 0)) * filters;
}

/** Parameters of a depthwise conv: P·P·d·m, plus d·m biases (Howard et al. 2017, §3.1). */
export function depthwiseConv2dParams(kernelSize: number, inChannels: number, depthMultiplier: number, useBias = true): number {
  return kernelSize * kernelSize * inChannels * depthMultiplier + (useBias ? inChannels * depthMultiplier : 0);
}

/** [[top, bottom], [left, right]] of a zeroPadding2d `padding` in any of its three forms. */
export function zeroPaddingSides(p: number | [number, number] | [[number, number], [number, number]]): [[number, number], [number, number]] {
  if (typeof p === 'number') return [
    [p, p],
    [p, p],
  ];
  if (typeof p[0] === 'number') {
    const [r, c] = p as [number, number];
    return [
      [r, r],
      [c, c],
    ];
  }
  return p as [[number, number], [number, number]];
}

/** What describeModel tells of one node. */
export interface NodeInfo {
  name: string;
  layer: LayerSpec;
  inputs: string[];
  /** Input shapes, one per input, without the batch dimension. */
  inputShapes: number[][];
  /** Output shape without the batch dimension: [h, w, c] or [units]. */
  outputShape: number[];
  /** Trainable parameters plus batch norm's moving mean and variance (as Keras counts them). */
  params: number;
  /** Multiply-adds of one image's forward pass: conv P·P·d·K per output position, depthwise P·P·m per output channel and position, dense inputs × units; 0 for the rest. */
  macs: number;
  /** Spec path of the node ("model.nodes[3]"). */
  field: string;
}
/** Kept for the callers of the layer-list code; a NodeInfo has all its fields. */
export type LayerShapeInfo = NodeInfo;

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/**
 * Output shape, parameters and multiply-adds of every node, in graph order, with the
 * lecture's formulas: output size (N + 2z − P)/s + 1, conv parameters (P·P·d + 1)·K.
 * @throws SpecError naming the node (its spec path as `field`) and the shapes when a node's
 *   input does not fit it (an image layer on a flat input, a dense layer on an image without
 *   a flatten or global pooling node, add inputs of different shapes, concatenate inputs of
 *   different heights/widths), when an output would be empty (e.g. LeNet-5's pooling on 8×8
 *   images), or when the output is not numClasses logits; plus toGraph's errors.
 */
export function describeModel(model: ModelSpec): NodeInfo[] {
  const g = toGraph(model);
  const shapes = new Map<string, number[]>([[INPUT_NAME, [...g.inputShape]]]);
  const out: NodeInfo[] = [];
  for (const node of g.nodes) {
    const { layer, field, name } = node;
    const inputShapes = node.inputs.map((i) => shapes.get(i) as number[]);
    const x = inputShapes[0];
    const where = `${field} ("${name}", ${layer.type})`;
    const image = (): [number, number, number] => {
      if (x.length !== 3) throw new SpecError(`${where}: needs an image input (height, width, channels), got [${x.join(', ')}]`, field);
      return x as [number, number, number];
    };
    let shape: number[];
    let params = 0;
    let macs = 0;
    switch (layer.type) {
      case 'conv2d': {
        const [h, w, c] = image();
        shape = [convOutputSize(h, layer.kernelSize, layer.strides, layer.padding), convOutputSize(w, layer.kernelSize, layer.strides, layer.padding), layer.filters];
        params = conv2dParams(layer.kernelSize, c, layer.filters, layer.useBias);
        macs = shape[0] * shape[1] * layer.filters * layer.kernelSize * layer.kernelSize * c;
        break;
      }
      case 'depthwiseConv2d': {
        const [h, w, c] = image();
        const m = layer.depthMultiplier;
        shape = [convOutputSize(h, layer.kernelSize, layer.strides, layer.padding), convOutputSize(w, layer.kernelSize, layer.strides, layer.padding), c * m];
        params = depthwiseConv2dParams(layer.kernelSize, c, m, layer.useBias);
        macs = shape[0] * shape[1] * c * m * layer.kernelSize * layer.kernelSize;
        break;
      }
      case 'maxPooling2d':
      case 'averagePooling2d': {
        const [h, w, c] = image();
        const s = layer.strides ?? layer.poolSize;
        shape = [convOutputSize(h, layer.poolSize, s, layer.padding), convOutputSize(w, layer.poolSize, s, layer.padding), c];
        break;
      }
      case 'globalAveragePooling2d':
      case 'globalMaxPooling2d':
        shape = [image()[2]];
        break;
      case 'zeroPadding2d': {
        const [h, w, c] = image();
        const [[t, b], [l, r]] = zeroPaddingSides(layer.padding);
        shape = [h + t + b, w + l + r, c];
        break;
      }
      case 'flatten':
        shape = [size(x)];
        break;
      case 'dense': {
        let inUnits = x[0];
        if (x.length !== 1) {
          if (!g.fromLayerList) throw new SpecError(`${where}: needs a flat input, got [${x.join(', ')}]; put a flatten or globalAveragePooling2d node before it`, field);
          inUnits = size(x);
        }
        shape = [layer.units];
        params = inUnits * layer.units + (layer.useBias ? layer.units : 0);
        macs = inUnits * layer.units;
        break;
      }
      case 'batchNormalization':
        shape = [...x];
        params = 4 * x[x.length - 1];
        break;
      case 'add':
        inputShapes.forEach((s, k) => {
          if (s.join() !== x.join()) throw new SpecError(`${where}: inputs must have one shape; ${node.inputs[0]} gives [${x.join(', ')}], ${node.inputs[k]} gives [${s.join(', ')}] (a projection shortcut, 1×1 conv with strides, makes them fit)`, `${field}.inputs[${k}]`);
        });
        shape = [...x];
        break;
      case 'concatenate':
        inputShapes.forEach((s, k) => {
          if (s.length !== x.length || s.slice(0, -1).join() !== x.slice(0, -1).join()) {
            throw new SpecError(`${where}: inputs must agree in all but the last (channel) axis; ${node.inputs[0]} gives [${x.join(', ')}], ${node.inputs[k]} gives [${s.join(', ')}]`, `${field}.inputs[${k}]`);
          }
        });
        shape = [...x.slice(0, -1), inputShapes.reduce((a, s) => a + s[s.length - 1], 0)];
        break;
      default:
        shape = [...x];
        break;
    }
    if (shape.some((d) => !(d >= 1))) {
      throw new SpecError(`${where}: output would be empty: input [${x.join(', ')}] gives [${shape.join(', ')}]; use a larger input, 'same' padding or fewer downsampling steps`, field);
    }
    shapes.set(name, shape);
    out.push({ name, layer, inputs: node.inputs, inputShapes, outputShape: shape, params, macs, field });
  }
  const last = shapes.get(g.output) as number[];
  if (last.length !== 1 || last[0] !== g.numClasses) {
    const f = g.fromLayerList ? 'model.layers' : model.output !== undefined ? 'model.output' : 'model.nodes';
    throw new SpecError(`${f}: the output "${g.output}" must give numClasses (${g.numClasses}) logits, got shape [${last.join(', ')}]`, f);
  }
  return out;
}

/** Totals of describeModel's rows: parameters and multiply-adds per image. */
export function modelTotals(info: readonly NodeInfo[]): { params: number; macs: number; nodes: number } {
  return { params: info.reduce((a, n) => a + n.params, 0), macs: info.reduce((a, n) => a + n.macs, 0), nodes: info.length };
}
