/**
 * The TFLite reader: a `.tflite` file's bytes → a graph ModelSpec (./../../layers.ts) and the
 * float32 weights of its nodes, in tfjs-layers' weight order, for the engine to set
 * (src/engine/pretrained.ts). One self-contained module in the Netron shape: ./tables.ts reads
 * the flatbuffer, ./dequantize.ts turns quantized constants into floats, this file maps the
 * operators. Pure (bytes in, objects out): no file access, usable by main, engine and UI.
 *
 * Operators and how they map (TFLite tensors are NHWC with batch 1, as ours without it):
 * - CONV_2D → conv2d, kernel OHWI → HWIO; on a flat input (after global pooling) a 1×1 conv is
 *   a dense layer, kernel [units, 1, 1, in] → [in, units];
 * - DEPTHWISE_CONV_2D → depthwiseConv2d, kernel [1, H, W, C·m] → [H, W, C, m] (the same bytes:
 *   TFLite's output channel c·m + k is TF's [.., c, k]);
 * - FULLY_CONNECTED → dense, [units, in] → [in, units] (a flatten first on an image input);
 * - AVERAGE_POOL_2D / MAX_POOL_2D → the pooling layers; one that covers the whole image
 *   with a 1×1 output → global pooling, whose output is flat [c];
 * - ADD → add, CONCATENATION (last axis) → concatenate;
 * - fused activations NONE / RELU / RELU6 / TANH → the layer's activation (for add, pooling,
 *   concatenate an activation node after); RELU / RELU6 / LOGISTIC / TANH operators → activation;
 * - RESHAPE / SQUEEZE that only drop 1-dimensions, QUANTIZE, DEQUANTIZE → nothing (the tensor
 *   passes through); a RESHAPE of an image to [1, n] → flatten;
 * - SOFTMAX producing the graph's output → nothing: the spec's output is the logits before it,
 *   as every Layerwise model (softmax lives in the loss), and `outputSoftmax` says it was there.
 * Anything else is refused with its name. Batch normalization does not appear: TFLite's
 * converter folds it into the convolution weights and biases (`foldedBatchNorm`).
 */
import { ApiError } from '../../errors';
import { INPUT_NAME, type ActivationSchema, type GraphModelSpec, type LayerSpec, type NodeSpec } from '../../layers';
import type { z } from 'zod';
import { biasAffine, constantValues } from './dequantize';
import {
  AddOptions,
  ConcatenationOptions,
  Conv2DOptions,
  DepthwiseConv2DOptions,
  FullyConnectedOptions,
  FusedActivation,
  Model,
  Padding,
  Pool2DOptions,
  SoftmaxOptions,
  TensorType,
  type Operator,
  type Tensor,
} from './tables';

/** BuiltinOperator numbers (schema.fbs) of the operators this reader maps, and a few it names when refusing them. */
const OP = { ADD: 0, AVERAGE_POOL_2D: 1, CONCATENATION: 2, CONV_2D: 3, DEPTHWISE_CONV_2D: 4, DEQUANTIZE: 6, FULLY_CONNECTED: 9, LOGISTIC: 14, MAX_POOL_2D: 17, MUL: 18, RELU: 19, RELU6: 21, RESHAPE: 22, RESIZE_BILINEAR: 23, SOFTMAX: 25, TANH: 28, CUSTOM: 32, PAD: 34, MEAN: 40, SUB: 41, SQUEEZE: 43, HARD_SWISH: 117, QUANTIZE: 114 } as const;
const OP_NAMES = new Map<number, string>(Object.entries(OP).map(([k, v]) => [v, k]));

/** The name of builtin operator `code` ("CONV_2D"), or "builtin operator <code>" for one this reader does not know. */
export function operatorName(code: number): string {
  return OP_NAMES.get(code) ?? `builtin operator ${code}`;
}

/** One tfjs weight: its shape and values (row-major). */
export interface WeightTensor {
  shape: number[];
  values: Float32Array;
}
/** The weights of one node in tfjs-layers' order: [kernel] or [kernel, bias] (depthwise: depthwise_kernel). */
export interface NodeWeights {
  node: string;
  weights: WeightTensor[];
}

/** What the reader found in the file, for tables, tests and the run spec. */
export interface TfliteSummary {
  /** Schema version (3 for every current file). */
  version: number;
  description: string;
  /** Operators of the main subgraph by name, as in the file. */
  opCounts: Record<string, number>;
  /** Elements of the constant tensors the mapped nodes take as weights and biases. */
  parameterCount: number;
  /** The input tensor: shape [1, h, w, c], element type name, affine parameters (real = scale·(q − zeroPoint)). */
  input: { shape: number[]; type: string; scale: number; zeroPoint: number };
  /** True when the file's weights are quantized integers (dequantized here). */
  quantized: boolean;
}

/** A TFLite file read as a Layerwise model. */
export interface TfliteImport {
  /** The graph, output = the node giving the logits (before any softmax). */
  spec: GraphModelSpec;
  weights: NodeWeights[];
  /**
   * The input range the network was trained on, from the input tensor's quantization:
   * 'symmetric' [−1, 1] for (q − 128)/128 (the MobileNets), 'unit' [0, 1] for q/255;
   * a float input without parameters is taken as 'symmetric' (TF's image models).
   */
  inputRange: 'unit' | 'symmetric';
  /** True when a softmax followed the logits in the file. */
  outputSoftmax: boolean;
  /** True when the convolutions carry batch normalization folded in (tensor names with "BatchNorm_Fold" / "FusedBatchNorm"). */
  foldedBatchNorm: boolean;
  summary: TfliteSummary;
}

type Activation = z.infer<typeof ActivationSchema>;
const TYPE_NAMES = new Map<number, string>(Object.entries(TensorType).map(([k, v]) => [v, k.toLowerCase()]));

/** Where a TFLite tensor lives in our graph: the node giving it and its shape without batch. */
interface Placed {
  node: string;
  shape: number[];
}

/**
 * A node name from a TFLite output tensor name: its first ';'-separated part (the converter
 * joins fused names), less the last path part (the TF op: Relu6, add_fold, BiasAdd), with a
 * repeated leading scope said once ("MobilenetV1/MobilenetV1/Conv2d_0" → "MobilenetV1/Conv2d_0"),
 * characters outside [A-Za-z0-9_.-/] as '_', at most 64 characters, unique.
 */
function nodeNamer(): (tensorName: string, fallback: string) => string {
  const used = new Set<string>([INPUT_NAME]);
  return (tensorName, fallback) => {
    let parts = tensorName.split(';')[0].split('/').filter(Boolean);
    if (parts.length > 1) parts = parts.slice(0, -1);
    parts = parts.filter((p, i) => i === 0 || p !== parts[i - 1]);
    let name = parts.join('/').replace(/[^A-Za-z0-9_.\-/]/g, '_');
    if (!/^[A-Za-z_]/.test(name)) name = fallback;
    if (name.length > 60) name = name.slice(name.length - 60).replace(/^[^A-Za-z_]+/, '') || fallback;
    let unique = name;
    for (let k = 2; used.has(unique); k++) unique = `${name}_${k}`;
    used.add(unique);
    return unique;
  };
}

/** Transpose a row-major [a, b] matrix to [b, a]. */
function transpose2d(v: Float32Array, a: number, b: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) out[j * a + i] = v[i * b + j];
  return out;
}

/** OHWI → HWIO: conv kernel [O, H, W, I] as tfjs' [H, W, I, O]. */
function ohwiToHwio(v: Float32Array, [o, h, w, i]: number[]): Float32Array {
  return transpose2d(v, o, h * w * i);
}

/**
 * Read a TFLite file into a Layerwise graph ModelSpec and its weights.
 * @param bytes the whole file
 * @param file how to name the file in errors (a path or "model file")
 * @throws ApiError('invalid_params', field "file") when the bytes are not a TFLite file, the
 *   graph has more than one subgraph, input or output, uses an operator or option this reader
 *   does not map (the message names the operator, its index and its output tensor), or its
 *   input is not one [1, h, w, 1|3] image.
 */
export function readTflite(bytes: Uint8Array, file = 'model file'): TfliteImport {
  const fail = (msg: string): never => {
    throw new ApiError('invalid_params', `${file}: ${msg}`, 'file');
  };
  let model: Model;
  try {
    model = Model.fromBytes(bytes);
  } catch (e) {
    return fail((e as Error).message);
  }
  const graph = model.subgraphs[0];
  if (!graph) return fail('no subgraph');
  if (model.subgraphs.length > 1) fail(`${model.subgraphs.length} subgraphs; only single-graph models are supported`);
  const tensors = graph.tensors;
  const codes = model.operatorCodes;
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1) fail(`${graph.inputs.length} inputs and ${graph.outputs.length} outputs; one image in, one vector out is supported`);
  const inT = tensors[graph.inputs[0]];
  const [n, h, w, c] = inT.shape;
  if (inT.shape.length !== 4 || n !== 1 || (c !== 1 && c !== 3)) fail(`input "${inT.name}" has shape [${inT.shape.join(', ')}]; an image [1, h, w, 1 or 3] is supported`);
  const inQ = inT.quantization;
  const inScale = inQ?.scale[0] ?? 1;
  const inZero = inQ?.zeroPoint[0] ?? 0;
  const inputRange: 'unit' | 'symmetric' = inQ && inQ.scale.length && Math.abs(inScale * 255 - 1) < 1e-3 && inZero === 0 ? 'unit' : 'symmetric';
  if (inQ && inQ.scale.length && inputRange === 'symmetric' && (Math.abs(inScale * 128 - 1) > 1e-3 || inZero !== 128)) {
    fail(`input "${inT.name}" is quantized with scale ${inScale}, zero point ${inZero}; the [−1, 1] ((q − 128)/128) and [0, 1] (q/255) inputs are supported`);
  }

  const placed = new Map<number, Placed>([[graph.inputs[0], { node: INPUT_NAME, shape: [h, w, c] }]]);
  const nodes: NodeSpec[] = [];
  const weights: NodeWeights[] = [];
  const opCounts: Record<string, number> = {};
  const name = nodeNamer();
  let parameterCount = 0;
  let quantized = false;
  let outputSoftmax = false;
  let folded = false;
  const ops = graph.operators;

  ops.forEach((op: Operator, index: number) => {
    const code = codes[op.opcodeIndex];
    const opName = code.code === OP.CUSTOM ? `custom operator "${code.customCode ?? ''}"` : operatorName(code.code);
    opCounts[opName] = (opCounts[opName] ?? 0) + 1;
    const outT = tensors[op.outputs[0]];
    const where = `operator ${index} (${opName}, output "${outT?.name ?? '?'}")`;
    const refuse = (why: string): never => fail(`${where}: ${why}`);
    const input = (k: number): Placed => {
      const p = placed.get(op.inputs[k]);
      if (!p) return refuse(`input ${k} ("${tensors[op.inputs[k]]?.name}") is not produced by an earlier operator (constants are only supported as weights)`);
      return p;
    };
    const outShape = outT.shape.slice(1);
    const act = (f: number): Activation => {
      if (f === FusedActivation.NONE) return 'linear';
      if (f === FusedActivation.RELU) return 'relu';
      if (f === FusedActivation.RELU6) return 'relu6';
      if (f === FusedActivation.TANH) return 'tanh';
      return refuse(`fused activation ${f} (RELU_N1_TO_1 / SIGN_BIT) is not supported`);
    };
    const padding = (p: number): 'same' | 'valid' => (p === Padding.VALID ? 'valid' : 'same');
    const square = (a: number, b: number, what: string): number => (a === b ? a : refuse(`${what} ${a}×${b} is not square; only square ones are supported`));
    /** Add a node reading `inputs`; with an activation other than linear for a layer without one, an activation node after it. */
    const emit = (layer: LayerSpec, inputs: string[], shape: number[], fused: Activation = 'linear', nodeWeights?: WeightTensor[]): void => {
      let nodeName = name(outT.name, `${layer.type}_${index}`);
      nodes.push({ name: nodeName, layer, inputs });
      if (nodeWeights) weights.push({ node: nodeName, weights: nodeWeights });
      if (fused !== 'linear') {
        const a = name(`${nodeName}/${fused}/x`, `${fused}_${index}`);
        nodes.push({ name: a, layer: { type: 'activation', activation: fused }, inputs: [nodeName] });
        nodeName = a;
      }
      placed.set(op.outputs[0], { node: nodeName, shape });
    };
    const alias = (k = 0): void => {
      placed.set(op.outputs[0], input(k));
    };
    /** Weights (and bias, when present) of a conv-like op, dequantized. */
    const kernelAndBias = (): { kernel: Float32Array; kernelT: Tensor; bias: Float32Array | null } => {
      const kernelT = tensors[op.inputs[1]];
      const kernel = constantValues(model, kernelT);
      if (kernelT.type !== TensorType.FLOAT32 && kernelT.type !== TensorType.FLOAT16) quantized = true;
      if (/BatchNorm_Fold|FusedBatchNorm|_Fold\b/.test(kernelT.name)) folded = true;
      parameterCount += kernel.length;
      const bIndex = op.inputs[2] ?? -1;
      if (bIndex < 0) return { kernel, kernelT, bias: null };
      const biasT = tensors[bIndex];
      const bias = constantValues(model, biasT, biasAffine(tensors[op.inputs[0]], kernelT) ?? undefined);
      parameterCount += bias.length;
      return { kernel, kernelT, bias };
    };
    const withBias = (kernel: WeightTensor, bias: Float32Array | null): WeightTensor[] => (bias ? [kernel, { shape: [bias.length], values: bias }] : [kernel]);

    switch (code.code) {
      case OP.CONV_2D: {
        const x = input(0);
        const o = op.options(Conv2DOptions) ?? refuse('no options');
        if (o.dilationH !== 1 || o.dilationW !== 1) refuse(`dilation ${o.dilationH}×${o.dilationW} is not supported`);
        const { kernel, kernelT, bias } = kernelAndBias();
        const [filters, kh, kw, inC] = kernelT.shape;
        if (x.shape.length === 1) {
          if (kh !== 1 || kw !== 1) refuse(`a ${kh}×${kw} convolution on a flat input`);
          emit({ type: 'dense', units: filters, activation: act(o.fusedActivation), useBias: bias !== null, kernelInitializer: 'glorotUniform' }, [x.node], [filters], 'linear', withBias({ shape: [inC, filters], values: transpose2d(kernel, filters, inC) }, bias));
        } else {
          const kernelSize = square(kh, kw, 'kernel');
          const strides = square(o.strideH, o.strideW, 'stride');
          emit({ type: 'conv2d', filters, kernelSize, strides, padding: padding(o.padding), activation: act(o.fusedActivation), useBias: bias !== null, kernelInitializer: 'glorotUniform' }, [x.node], outShape, 'linear', withBias({ shape: [kh, kw, inC, filters], values: ohwiToHwio(kernel, kernelT.shape) }, bias));
        }
        return;
      }
      case OP.DEPTHWISE_CONV_2D: {
        const x = input(0);
        if (x.shape.length !== 3) refuse('needs an image input');
        const o = op.options(DepthwiseConv2DOptions) ?? refuse('no options');
        if (o.dilationH !== 1 || o.dilationW !== 1) refuse(`dilation ${o.dilationH}×${o.dilationW} is not supported`);
        const { kernel, kernelT, bias } = kernelAndBias();
        const [, kh, kw, outC] = kernelT.shape;
        const inC = x.shape[2];
        if (outC % inC !== 0) refuse(`${outC} output channels from ${inC} input channels`);
        const depthMultiplier = outC / inC;
        emit(
          { type: 'depthwiseConv2d', kernelSize: square(kh, kw, 'kernel'), strides: square(o.strideH, o.strideW, 'stride'), padding: padding(o.padding), depthMultiplier, activation: act(o.fusedActivation), useBias: bias !== null, depthwiseInitializer: 'glorotUniform' },
          [x.node],
          outShape,
          'linear',
          withBias({ shape: [kh, kw, inC, depthMultiplier], values: kernel }, bias),
        );
        return;
      }
      case OP.FULLY_CONNECTED: {
        let x = input(0);
        const o = op.options(FullyConnectedOptions);
        if (o && o.weightsFormat !== 0) refuse('shuffled weights are not supported');
        if (x.shape.length === 3) {
          const f = name(`${outT.name}/flatten/x`, `flatten_${index}`);
          nodes.push({ name: f, layer: { type: 'flatten' }, inputs: [x.node] });
          x = { node: f, shape: [x.shape[0] * x.shape[1] * x.shape[2]] };
        }
        const { kernel, kernelT, bias } = kernelAndBias();
        const [units, inUnits] = kernelT.shape;
        if (inUnits !== x.shape[0]) refuse(`weights [${kernelT.shape.join(', ')}] on ${x.shape[0]} inputs`);
        emit({ type: 'dense', units, activation: act(o?.fusedActivation ?? 0), useBias: bias !== null, kernelInitializer: 'glorotUniform' }, [x.node], [units], 'linear', withBias({ shape: [inUnits, units], values: transpose2d(kernel, units, inUnits) }, bias));
        return;
      }
      case OP.AVERAGE_POOL_2D:
      case OP.MAX_POOL_2D: {
        const x = input(0);
        if (x.shape.length !== 3) refuse('needs an image input');
        const o = op.options(Pool2DOptions) ?? refuse('no options');
        const avg = code.code === OP.AVERAGE_POOL_2D;
        const global = outShape[0] === 1 && outShape[1] === 1 && o.filterHeight >= x.shape[0] && o.filterWidth >= x.shape[1];
        if (global) emit({ type: avg ? 'globalAveragePooling2d' : 'globalMaxPooling2d' }, [x.node], [x.shape[2]], act(o.fusedActivation));
        else emit({ type: avg ? 'averagePooling2d' : 'maxPooling2d', poolSize: square(o.filterHeight, o.filterWidth, 'pool'), strides: square(o.strideH, o.strideW, 'stride'), padding: padding(o.padding) }, [x.node], outShape, act(o.fusedActivation));
        return;
      }
      case OP.ADD: {
        const a = input(0);
        const b = input(1);
        if (a.shape.join() !== b.shape.join()) refuse(`broadcasting [${a.shape.join(', ')}] + [${b.shape.join(', ')}] is not supported`);
        emit({ type: 'add' }, [a.node, b.node], a.shape, act(op.options(AddOptions)?.fusedActivation ?? 0));
        return;
      }
      case OP.CONCATENATION: {
        const o = op.options(ConcatenationOptions) ?? refuse('no options');
        const xs = op.inputs.map((_, k) => input(k));
        if (o.axis !== -1 && o.axis !== xs[0].shape.length) refuse(`axis ${o.axis}; only the last (channel) axis is supported`);
        emit({ type: 'concatenate', axis: -1 }, xs.map((x) => x.node), outShape.length === xs[0].shape.length ? outShape : [outShape.reduce((p, q) => p * q, 1)], act(o.fusedActivation));
        return;
      }
      case OP.RELU:
      case OP.RELU6:
      case OP.LOGISTIC:
      case OP.TANH: {
        const x = input(0);
        const activation: Activation = code.code === OP.RELU ? 'relu' : code.code === OP.RELU6 ? 'relu6' : code.code === OP.TANH ? 'tanh' : 'sigmoid';
        emit({ type: 'activation', activation }, [x.node], x.shape);
        return;
      }
      case OP.RESHAPE:
      case OP.SQUEEZE: {
        const x = input(0);
        const size = x.shape.reduce((p, q) => p * q, 1);
        const kept = outT.shape.filter((d) => d !== 1);
        if (x.shape.length === 1 && kept.length <= 1 && (kept[0] ?? 1) === size) return alias();
        if (x.shape.length === 3 && outT.shape.length === 2 && outT.shape[1] === size) return emit({ type: 'flatten' }, [x.node], [size]);
        return refuse(`reshape [${x.shape.join(', ')}] → [${outT.shape.join(', ')}] is not supported (dropping 1-dimensions and flattening are)`);
      }
      case OP.QUANTIZE:
      case OP.DEQUANTIZE:
        return alias();
      case OP.SOFTMAX: {
        const beta = op.options(SoftmaxOptions)?.beta ?? 1;
        if (op.outputs[0] !== graph.outputs[0] || Math.abs(beta - 1) > 1e-6) refuse('a softmax is only supported as the last operator, with beta 1');
        outputSoftmax = true;
        return alias();
      }
      default:
        return refuse('not supported');
    }
  });

  const out = placed.get(graph.outputs[0]);
  if (!out || out.node === INPUT_NAME) return fail('the output is not produced by any operator');
  if (out.shape.length !== 1) fail(`the output has shape [${out.shape.join(', ')}]; a vector of class scores is needed`);
  const spec: GraphModelSpec = { preset: 'custom', inputShape: [h, w, c as 1 | 3], numClasses: out.shape[0], nodes, output: out.node };
  return {
    spec,
    weights,
    inputRange,
    outputSoftmax,
    foldedBatchNorm: folded,
    summary: {
      version: model.version,
      description: model.description,
      opCounts,
      parameterCount,
      input: { shape: inT.shape, type: TYPE_NAMES.get(inT.type) ?? String(inT.type), scale: inScale, zeroPoint: inZero },
      quantized,
    },
  };
}
