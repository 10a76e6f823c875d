/**
 * Writers of trained models, one per format (Netron's shape, outwards): ONNX (./onnx.ts) and
 * the TF.js layers format (model.json + weights.bin, as checkpoints are saved), each with a
 * `signature.json` (src/shared/export.ts) beside it.
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { preprocessingOf, SIGNATURE_VERSION, type ExportFormat, type Signature } from '../../shared/export';
import { inputRangeOf } from '../pretrained';
import { describeModel, toGraph, type GraphModelSpec, type RunSpec } from '../../shared/spec';
import { saveCheckpoint } from '../checkpoint';
import { writeOnnx, type WeightTensor } from './onnx';

export interface ExportMeta {
  runId: number;
  epoch: number;
  /** Class names by output index. */
  classNames: string[];
}

/** The signature of `spec`'s model exported as `format` (files inside the folder named). */
export function signatureOf(spec: RunSpec, format: ExportFormat, files: string[], meta: ExportMeta): Signature {
  const [h, w, c] = spec.model.inputShape;
  const k = spec.model.numClasses;
  return {
    format,
    signatureVersion: SIGNATURE_VERSION,
    files,
    run: { id: meta.runId, epoch: meta.epoch, preset: spec.model.preset },
    classes: meta.classNames,
    input: { name: 'input', shape: [null, h, w, c], dtype: 'float32', layout: 'NHWC' },
    outputs:
      format === 'onnx'
        ? [
            { name: 'logits', shape: [null, k], meaning: 'class scores before softmax' },
            { name: 'probabilities', shape: [null, k], meaning: 'softmax of the logits' },
          ]
        : [{ name: 'logits', shape: [null, k], meaning: 'class scores before softmax (apply softmax for probabilities)' }],
    preprocessing: preprocessingOf(spec.model.inputShape, inputRangeOf(spec)),
    model: graphSpecOf(spec),
  };
}

/** The run's model in the graph form (a layer list as toGraph names its nodes, as buildModel names the layers). */
function graphSpecOf(spec: RunSpec): GraphModelSpec {
  const g = toGraph(spec.model);
  return { preset: spec.model.preset, inputShape: g.inputShape, numClasses: g.numClasses, nodes: g.nodes.map((n) => ({ name: n.name, layer: n.layer, inputs: n.inputs })), output: g.output };
}

/** A built model's weights of node `name` as row-major float32 tensors (tfjs-layers order). */
export function layerWeights(model: tfl.LayersModel, name: string): WeightTensor[] {
  return model.getLayer(name).getWeights().map((t) => ({ shape: t.shape, values: Float32Array.from(t.dataSync()) }));
}

/**
 * Write `model` (built from `spec.model`, weights loaded) as `format` into `outDir`, with
 * signature.json.
 * @returns the files written (names inside outDir) and the signature
 * @throws Error when the folder cannot be written, or (ONNX) a node cannot be written.
 */
export async function exportModel(model: tfl.LayersModel, spec: RunSpec, format: ExportFormat, outDir: string, meta: ExportMeta): Promise<{ files: string[]; signature: Signature }> {
  await mkdir(outDir, { recursive: true });
  let files: string[];
  if (format === 'onnx') {
    const bytes = writeOnnx(toGraph(spec.model), describeModel(spec.model), {
      weights: (name) => layerWeights(model, name),
      metadata: { classes: JSON.stringify(meta.classNames), run: String(meta.runId), epoch: String(meta.epoch) },
    });
    await writeFile(join(outDir, 'model.onnx'), bytes);
    files = ['model.onnx'];
  } else {
    await saveCheckpoint(model, outDir);
    files = ['model.json', 'weights.bin'];
  }
  const signature = signatureOf(spec, format, files, meta);
  await writeFile(join(outDir, 'signature.json'), JSON.stringify(signature, null, 2) + '\n');
  return { files: [...files, 'signature.json'], signature };
}
