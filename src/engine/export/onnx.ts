/**
 * A graph ModelSpec and its trained weights as an ONNX model (opset 13), one node (or a few)
 * per graph node. The input stays NHWC for the user ([batch, height, width, channels], name
 * `input`); a Transpose makes it NCHW inside, as ONNX's Conv and pooling want. Flatten
 * transposes back to NHWC first, so a Dense kernel keeps Keras' row order and is written as it
 * is (Gemm, B = kernel [features, units]). Conv kernels HWIO → OIHW; a depthwise kernel
 * [kh, kw, c, m] → a grouped Conv (group c) of [c·m, 1, kh, kw], output channel c·m + j as TF
 * orders it; 'same' padding as TF pads it (the odd pixel after); relu6 → Clip(0, 6); batch
 * normalization → BatchNormalization (inference: moving mean and variance); add → Add / Sum;
 * concatenate on channels (axis 1 inside); global pooling → Global*Pool + Flatten.
 * Outputs: `logits` [batch, classes] and `probabilities` (their softmax).
 */
import type { ModelGraph, NodeInfo } from '../../shared/spec';
import { zeroPaddingSides } from '../../shared/spec';
import { ATTR, ModelProto, ONNX_FLOAT, ONNX_INT64, type OnnxAttribute, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-proto';

/** The ONNX opset written. */
export const ONNX_OPSET = 13;
/** The ONNX IR version of opset 13 (ONNX 1.8). */
const IR_VERSION = 7;

/** One weight tensor of a node, in tfjs-layers' order and shape (row-major values). */
export interface WeightTensor {
  shape: number[];
  values: Float32Array;
}

export interface OnnxExportOptions {
  /** Weights of node `name` in tfjs-layers order (conv: kernel, bias; BN: gamma, beta, moving mean, moving variance). */
  weights: (name: string) => WeightTensor[];
  /** ModelProto.metadata_props (e.g. class names as JSON). */
  metadata?: Record<string, string>;
  producerVersion?: string;
}

type Layout = 'nchw' | 'flat';

const ints = (name: string, v: number[]): OnnxAttribute => ({ name, type: ATTR.INTS, ints: v });
const int = (name: string, v: number): OnnxAttribute => ({ name, type: ATTR.INT, i: v });
const float = (name: string, v: number): OnnxAttribute => ({ name, type: ATTR.FLOAT, f: v });

/** TF's 'same' padding along one axis: total max((⌈n/s⌉ − 1)·s + k − n, 0), the odd pixel after. */
function samePads(n: number, k: number, s: number): [number, number] {
  const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** ONNX pads [top, left, bottom, right] of a window op on an [h, w, …] input. */
function windowPads(inShape: number[], k: number, s: number, padding: 'same' | 'valid'): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  const [t, b] = samePads(inShape[0], k, s);
  const [l, r] = samePads(inShape[1], k, s);
  return [t, l, b, r];
}

/** HWIO [kh, kw, cin, cout] → OIHW. */
function hwioToOihw(w: WeightTensor): WeightTensor {
  const [kh, kw, ci, co] = w.shape;
  const out = new Float32Array(w.values.length);
  for (let h = 0; h < kh; h++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + h) * kw + x] = w.values[((h * kw + x) * ci + i) * co + o];
  return { shape: [co, ci, kh, kw], values: out };
}

/** Depthwise [kh, kw, c, m] → grouped-conv [c·m, 1, kh, kw] (output channel c·m + j). */
function depthwiseToGrouped(w: WeightTensor): WeightTensor {
  const [kh, kw, c, m] = w.shape;
  const out = new Float32Array(w.values.length);
  for (let h = 0; h < kh; h++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < c; i++)
        for (let j = 0; j < m; j++) out[(i * m + j) * kh * kw + h * kw + x] = w.values[((h * kw + x) * c + i) * m + j];
  return { shape: [c * m, 1, kh, kw], values: out };
}

/**
 * Write the model as ONNX bytes (a serialized ModelProto).
 * @param graph toGraph(spec)
 * @param info describeModel(spec): input shapes per node (for 'same' padding)
 * @throws Error naming the node when its weights are missing or of an unexpected count.
 */
export function writeOnnx(graph: ModelGraph, info: readonly NodeInfo[], opts: OnnxExportOptions): Uint8Array {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  /** Graph node name → its ONNX tensor name and layout. */
  const tensors = new Map<string, { name: string; layout: Layout }>();
  const shapes = new Map(info.map((n) => [n.name, n]));
  let uid = 0;
  const fresh = (base: string): string => `${base}:${uid++}`;
  const op = (opType: string, input: string[], output: string, attribute: OnnxAttribute[] = [], name = output): string => {
    nodes.push({ name, opType, input, output: [output], attribute });
    return output;
  };
  const init = (name: string, t: WeightTensor): string => {
    initializers.push({ name, dims: t.shape, dataType: ONNX_FLOAT, rawData: new Uint8Array(t.values.buffer.slice(t.values.byteOffset, t.values.byteOffset + t.values.byteLength)) });
    return name;
  };
  const initInt64 = (name: string, v: number[]): string => {
    const b = new BigInt64Array(v.map((x) => BigInt(x)));
    initializers.push({ name, dims: [v.length], dataType: ONNX_INT64, rawData: new Uint8Array(b.buffer) });
    return name;
  };
  const initScalar = (name: string, v: number): string => {
    initializers.push({ name, dims: [], dataType: ONNX_FLOAT, rawData: new Uint8Array(new Float32Array([v]).buffer) });
    return name;
  };
  const weightsOf = (name: string, count: number[]): WeightTensor[] => {
    const ws = opts.weights(name);
    if (!count.includes(ws.length)) throw new Error(`onnx export: node "${name}" has ${ws.length} weights, expected ${count.join(' or ')}`);
    return ws;
  };
  /** The activation of conv / dense layers and of the activation layer, applied to `x`. */
  const activation = (act: string, x: string, out: string, alpha?: number): string => {
    switch (act) {
      case 'linear':
        return op('Identity', [x], out);
      case 'relu':
        return op('Relu', [x], out);
      case 'relu6':
        return op('Clip', [x, initScalar(`${out}/min`, 0), initScalar(`${out}/max`, 6)], out);
      case 'elu':
        return op('Elu', [x], out, [float('alpha', 1)]);
      case 'leakyRelu':
        return op('LeakyRelu', [x], out, [float('alpha', alpha ?? 0.3)]);
      case 'tanh':
        return op('Tanh', [x], out);
      case 'sigmoid':
        return op('Sigmoid', [x], out);
      default:
        throw new Error(`onnx export: activation ${act} not supported`);
    }
  };

  tensors.set('input', { name: op('Transpose', ['input'], 'input_nchw', [ints('perm', [0, 3, 1, 2])], 'input/to_nchw'), layout: 'nchw' });
  for (const node of graph.nodes) {
    const ins = node.inputs.map((n) => tensors.get(n)!);
    const x = ins[0];
    const inShape = shapes.get(node.name)?.inputShapes[0] ?? [];
    const L = node.layer;
    // The graph's own output is written as `logits`; any other node named like an output gets a suffix.
    const out = node.name === graph.output ? 'logits' : node.name === 'logits' || node.name === 'probabilities' ? `${node.name}_` : node.name;
    let result: { name: string; layout: Layout };
    switch (L.type) {
      case 'conv2d':
      case 'depthwiseConv2d': {
        const ws = weightsOf(node.name, L.useBias ? [2] : [1]);
        const kernel = L.type === 'conv2d' ? hwioToOihw(ws[0]) : depthwiseToGrouped(ws[0]);
        const inputs = [x.name, init(`${out}/kernel`, kernel)];
        if (L.useBias) inputs.push(init(`${out}/bias`, ws[1]));
        const attrs = [ints('kernel_shape', [L.kernelSize, L.kernelSize]), ints('strides', [L.strides, L.strides]), ints('pads', windowPads(inShape, L.kernelSize, L.strides, L.padding)), ints('dilations', [1, 1])];
        if (L.type === 'depthwiseConv2d') attrs.push(int('group', inShape[2]));
        const conv = op('Conv', inputs, L.activation === 'linear' ? out : fresh(`${out}/conv`), attrs);
        result = { name: L.activation === 'linear' ? conv : activation(L.activation, conv, out), layout: 'nchw' };
        break;
      }
      case 'maxPooling2d':
      case 'averagePooling2d': {
        const s = L.strides ?? L.poolSize;
        result = { name: op(L.type === 'maxPooling2d' ? 'MaxPool' : 'AveragePool', [x.name], out, [ints('kernel_shape', [L.poolSize, L.poolSize]), ints('strides', [s, s]), ints('pads', windowPads(inShape, L.poolSize, s, L.padding))]), layout: 'nchw' };
        break;
      }
      case 'globalAveragePooling2d':
      case 'globalMaxPooling2d': {
        const pooled = op(L.type === 'globalAveragePooling2d' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name], fresh(`${out}/pool`));
        result = { name: op('Flatten', [pooled], out, [int('axis', 1)]), layout: 'flat' };
        break;
      }
      case 'zeroPadding2d': {
        const [[t, b], [l, r]] = zeroPaddingSides(L.padding);
        result = { name: op('Pad', [x.name, initInt64(`${out}/pads`, [0, 0, t, l, 0, 0, b, r])], out, []), layout: 'nchw' };
        break;
      }
      case 'flatten': {
        // Back to NHWC first: Keras flattens [h, w, c] row-major, and the next Dense kernel's rows are in that order.
        const src = x.layout === 'nchw' ? op('Transpose', [x.name], fresh(`${out}/nhwc`), [ints('perm', [0, 2, 3, 1])]) : x.name;
        result = { name: op('Flatten', [src], out, [int('axis', 1)]), layout: 'flat' };
        break;
      }
      case 'dense': {
        if (x.layout !== 'flat') throw new Error(`onnx export: dense node "${node.name}" on an image-shaped input`);
        const ws = weightsOf(node.name, L.useBias ? [2] : [1]);
        const inputs = [x.name, init(`${out}/kernel`, ws[0])];
        if (L.useBias) inputs.push(init(`${out}/bias`, ws[1]));
        const gemm = op('Gemm', inputs, L.activation === 'linear' ? out : fresh(`${out}/gemm`), [float('alpha', 1), float('beta', 1), int('transA', 0), int('transB', 0)]);
        result = { name: L.activation === 'linear' ? gemm : activation(L.activation, gemm, out), layout: 'flat' };
        break;
      }
      case 'dropout':
        result = { name: op('Identity', [x.name], out), layout: x.layout };
        break;
      case 'batchNormalization': {
        const [gamma, beta, mean, variance] = weightsOf(node.name, [4]);
        result = {
          name: op('BatchNormalization', [x.name, init(`${out}/gamma`, gamma), init(`${out}/beta`, beta), init(`${out}/moving_mean`, mean), init(`${out}/moving_variance`, variance)], out, [float('epsilon', L.epsilon)]),
          layout: x.layout,
        };
        break;
      }
      case 'activation':
        result = { name: activation(L.activation, x.name, out, L.alpha), layout: x.layout };
        break;
      case 'add':
        result = { name: op(ins.length === 2 ? 'Add' : 'Sum', ins.map((i) => i.name), out), layout: x.layout };
        break;
      case 'concatenate':
        result = { name: op('Concat', ins.map((i) => i.name), out, [int('axis', x.layout === 'nchw' ? 1 : -1)]), layout: x.layout };
        break;
    }
    tensors.set(node.name, result);
  }
  const logitsSrc = tensors.get(graph.output)!;
  if (logitsSrc.name !== 'logits') op('Identity', [logitsSrc.name], 'logits', [], 'logits/identity');
  op('Softmax', ['logits'], 'probabilities', [int('axis', 1)], 'probabilities/softmax');

  const [h, w, c] = graph.inputShape;
  const valueInfo = (name: string, dims: (number | 'batch')[], docString: string): OnnxValueInfo => ({
    name,
    type: { tensorType: { elemType: ONNX_FLOAT, shape: { dim: dims.map((d) => (d === 'batch' ? { dimParam: 'batch' } : { dimValue: d })) } } },
    docString,
  });
  const model = {
    irVersion: IR_VERSION,
    producerName: 'layerwise',
    producerVersion: opts.producerVersion ?? '',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'layerwise',
      node: nodes,
      initializer: initializers,
      input: [valueInfo('input', ['batch', h, w, c], 'NHWC float32 image, preprocessed as signature.json says')],
      output: [valueInfo('logits', ['batch', graph.numClasses], 'class scores before softmax'), valueInfo('probabilities', ['batch', graph.numClasses], 'softmax of the logits')],
    },
  };
  const err = ModelProto.verify(model);
  if (err) throw new Error(`onnx export: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}
