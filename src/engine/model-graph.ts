/**
 * A loaded tfjs LayersModel read as the graph it was built from: its nodes (layers) in
 * topological order with their inputs, and two ways to run it that keep that graph —
 * one functional model that outputs chosen nodes (`nodeOutputsModel`), and an eager walk
 * of the recorded graph that can add a tensor to one node's output (`applyWithOffset`,
 * what Grad-CAM differentiates by). Neither re-applies layers as a chain: every layer reads
 * the outputs of the layers it was connected to, so shortcuts (add) and concatenations
 * hold.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** One node of a model: its layer, input node names and its output shape without the batch axis. */
export interface ModelNode {
  name: string;
  /** tfjs class name: Conv2D, DepthwiseConv2D, Add, Concatenate, Dense, … */
  type: string;
  inputs: string[];
  /** Longest path from the model input (the input itself: 0). */
  depth: number;
  shape: number[];
  layer: tfl.layers.Layer;
}

/** The layer's first (and, for a loaded model, only) call: the layers it read. */
function inboundNames(layer: tfl.layers.Layer): string[] {
  const node = (layer as unknown as { inboundNodes: { inboundLayers: tfl.layers.Layer[] }[] }).inboundNodes[0];
  return node ? node.inboundLayers.map((l) => l.name) : [];
}

/**
 * The nodes of a functional model with one input and one output, in topological order
 * (tfjs keeps `model.layers` so), the input layer first.
 * @throws Error when the model has several inputs or outputs.
 */
export function modelNodes(model: tfl.LayersModel): ModelNode[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new Error(`inspect: the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; one of each expected`);
  const depth = new Map<string, number>();
  return model.layers.map((layer) => {
    const inputs = inboundNames(layer);
    const d = inputs.length === 0 ? 0 : 1 + Math.max(...inputs.map((n) => depth.get(n) ?? 0));
    depth.set(layer.name, d);
    const out = layer.getOutputAt(0) as tfl.SymbolicTensor;
    return { name: layer.name, type: layer.getClassName(), inputs, depth: d, shape: out.shape.slice(1) as number[], layer };
  });
}

/** The name of the node whose output is the model's output (the logits). */
export function outputNode(model: tfl.LayersModel): string {
  return model.outputs[0].sourceLayer.name;
}

/**
 * One functional model from the model's input to the outputs of `names` (in that order),
 * sharing the model's layers and weights: a single `predict` computes every chosen node.
 * @throws Error naming a node the model does not have.
 */
export function nodeOutputsModel(model: tfl.LayersModel, names: string[]): tfl.LayersModel {
  const outputs = names.map((n) => {
    const layer = model.layers.find((l) => l.name === n);
    if (!layer) throw new Error(`inspect: the model has no node ${JSON.stringify(n)}`);
    return layer.getOutputAt(0) as tfl.SymbolicTensor;
  });
  return tfl.model({ inputs: model.inputs, outputs });
}

/**
 * Evaluate the model on `x` (inference mode: batch norm with its moving statistics, no
 * dropout) by walking its recorded graph eagerly, with `offset` added to the output of node
 * `at`. Differentiating the result with respect to `offset` (at zero) gives ∂output/∂(node
 * output): what Grad-CAM needs for a node inside a residual block, where no sub-model from
 * that node to the logits exists.
 * @returns [the node's output (before the offset), the model's output]
 * @throws Error naming a node the model does not have.
 */
export function applyWithOffset(model: tfl.LayersModel, nodes: ModelNode[], x: tf.Tensor, at: string, offset: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (!nodes.some((n) => n.name === at)) throw new Error(`inspect: the model has no node ${JSON.stringify(at)}`);
  const values = new Map<string, tf.Tensor>();
  let atValue: tf.Tensor | null = null;
  for (const node of nodes) {
    let y: tf.Tensor;
    if (node.inputs.length === 0) y = x;
    else {
      const ins = node.inputs.map((n) => values.get(n) as tf.Tensor);
      y = node.layer.apply(ins.length === 1 ? ins[0] : ins, { training: false }) as tf.Tensor;
    }
    if (node.name === at) {
      atValue = y;
      y = tf.add(y, offset);
    }
    values.set(node.name, y);
  }
  return [atValue as tf.Tensor, values.get(outputNode(model)) as tf.Tensor];
}
