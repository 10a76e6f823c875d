/**
 * Pre-trained weights into a built model: the node weights a model reader gives
 * (src/shared/models/tflite: per node, tfjs-layers' weight order and shapes) set on the
 * layers of `buildModel(spec)` of the same spec, each layer named as its node; a run's
 * backbone (RunSpec.pretrained, src/shared/pretrained.ts) loaded and frozen; its input range.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { readTfjsExport } from '../shared/models/tfjs';
import { readTflite, type NodeWeights } from '../shared/models/tflite';
import { frozenNodes, type InputRange } from '../shared/pretrained';
import type { GraphModelSpec, RunSpec } from '../shared/spec';

/**
 * Set each node's weights on the model's layer of the same name.
 * @param skip node names to leave as built (e.g. a replaced head)
 * @returns the number of weight tensors set
 * @throws Error naming the node when the model has no such layer, or the count or shapes of its weights differ.
 */
export function setNodeWeights(model: tfl.LayersModel, weights: readonly NodeWeights[], skip: ReadonlySet<string> = new Set()): number {
  let set = 0;
  for (const { node, weights: ws } of weights) {
    if (skip.has(node)) continue;
    let layer: tfl.layers.Layer;
    try {
      layer = model.getLayer(node);
    } catch {
      throw new Error(`pre-trained weights: the model has no layer "${node}"`);
    }
    const current = layer.getWeights();
    if (current.length !== ws.length) throw new Error(`pre-trained weights: layer "${node}" has ${current.length} weights, the file ${ws.length}`);
    ws.forEach((w, k) => {
      const shape = current[k].shape;
      if (shape.join() !== w.shape.join()) throw new Error(`pre-trained weights: layer "${node}" weight ${k} has shape [${shape.join(', ')}], the file [${w.shape.join(', ')}]`);
    });
    const tensors = ws.map((w) => tf.tensor(w.values, w.shape, 'float32'));
    layer.setWeights(tensors);
    tf.dispose(tensors);
    set += ws.length;
  }
  return set;
}

/**
 * Start the head (the model's output node, a dense layer) from columns of the file's own
 * classifier (node `classifier`, dense [features, classes]): column k ← column classes[k], bias k ← bias classes[k].
 * @returns the weight tensors set (2)
 * @throws Error when the file's classifier is not a dense layer on the same features, or an index is out of range.
 */
function initHeadFromClassifier(model: tfl.LayersModel, graph: GraphModelSpec, weights: readonly NodeWeights[], classifier: string, classes: readonly number[]): number {
  const head = graph.output ?? graph.nodes[graph.nodes.length - 1].name;
  const src = weights.find((w) => w.node === classifier)?.weights;
  const layer = model.getLayer(head);
  const [kernel, bias] = layer.getWeights();
  if (!src || src.length !== 2 || src[0].shape.length !== 2 || !bias || kernel.shape.length !== 2 || src[0].shape[0] !== kernel.shape[0]) {
    throw new Error(`pretrained.headInit: the file's classifier "${classifier}" is not a dense layer on the ${kernel.shape[0]} features of head "${head}"`);
  }
  const [features, units] = kernel.shape as [number, number];
  const fileUnits = src[0].shape[1];
  if (classes.length !== units) throw new Error(`pretrained.headInit: ${classes.length} classes for a head of ${units} units`);
  const k = new Float32Array(features * units);
  const b = new Float32Array(units);
  classes.forEach((c, j) => {
    if (c >= fileUnits) throw new Error(`pretrained.headInit[${j}]: class ${c} of a classifier with ${fileUnits}`);
    for (let f = 0; f < features; f++) k[f * units + j] = src[0].values[f * fileUnits + c];
    b[j] = src[1].values[c];
  });
  const tensors = [tf.tensor2d(k, [features, units]), tf.tensor1d(b)];
  layer.setWeights(tensors);
  tf.dispose(tensors);
  return 2;
}

/** The input range of a run's model: its backbone's, else 'unit' (every model Layerwise builds). */
export function inputRangeOf(spec: Pick<RunSpec, 'pretrained'>): InputRange {
  return spec.pretrained?.inputRange ?? 'unit';
}

/**
 * Start a run's model from its pre-trained backbone (spec.pretrained): read the file, check
 * its SHA-256 when the spec records one, set the weights of every backbone node the model
 * has (the new head keeps its seeded initialisation), and make the nodes up to
 * `freezeUpTo` untrainable (their weights are then left out of trainableVariables and never change).
 * @returns the weight tensors set and the frozen node names
 * @throws Error naming the file when it is missing, its hash differs, or it does not fit the model (readTflite's ApiError, setNodeWeights' errors).
 */
export async function loadPretrained(model: tfl.LayersModel, spec: Pick<RunSpec, 'model' | 'pretrained'>): Promise<{ set: number; frozen: string[] }> {
  const p = spec.pretrained;
  if (!p) return { set: 0, frozen: [] };
  const graph = spec.model as GraphModelSpec;
  let imported: { spec: GraphModelSpec; weights: NodeWeights[] };
  if (p.format === 'tfjs') {
    // A Layerwise TF.js export: model.json, its weights and signature.json in one folder.
    imported = readTfjsExport((name) => readFileSync(join(dirname(p.file), name)), p.file);
  } else {
    const bytes = await readFile(p.file).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`pretrained.file: cannot read ${p.file} (${e.code ?? e.message})`);
    });
    if (p.sha256) {
      const got = createHash('sha256').update(bytes).digest('hex');
      if (got !== p.sha256) throw new Error(`pretrained.file: ${p.file} has SHA-256 ${got}, the run spec records ${p.sha256}`);
    }
    imported = readTflite(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), p.file);
  }
  const inModel = new Set((graph.nodes ?? []).map((n) => n.name));
  const skip = new Set(imported.weights.map((w) => w.node).filter((n) => !inModel.has(n)));
  let set = setNodeWeights(model, imported.weights, skip);
  if (p.headInit) set += initHeadFromClassifier(model, graph, imported.weights, imported.spec.output ?? '', p.headInit);
  const frozen = frozenNodes(graph, p.freezeUpTo);
  for (const name of frozen) model.getLayer(name).trainable = false;
  return { set, frozen };
}
