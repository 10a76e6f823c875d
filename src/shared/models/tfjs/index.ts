/**
 * The reader of our own TF.js export (issue 13's round trip): an exported folder's `model.json`
 * (TF.js layers format: the weights manifest), its weight file and `signature.json` (the graph
 * ModelSpec, class names, input range) → the graph and per-node weights in tfjs-layers' order,
 * the same shape of answer as the TFLite reader, so a run can start from an exported model as
 * it starts from a TFLite file. Only float32 weights (what the export writes). Pure: no node:*.
 */
import { ApiError } from '../../errors';
import { SignatureSchema } from '../../export';
import type { GraphModelSpec } from '../../spec';
import type { NodeWeights } from '../tflite';

export interface TfjsExportImport {
  spec: GraphModelSpec;
  weights: NodeWeights[];
  inputRange: 'unit' | 'symmetric';
  /** Never folded: the export keeps batch normalization nodes. */
  foldedBatchNorm: false;
  /** Class names by output index (signature.json). */
  classes: string[];
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
}

/**
 * Read an exported TF.js folder through `read` (a file name inside the folder → its bytes).
 * @param file the model.json path, for messages
 * @throws ApiError invalid_params (field 'file') naming `file` when a part is missing, of another format, or of the wrong size.
 */
export function readTfjsExport(read: (name: string) => Uint8Array, file = 'model.json'): TfjsExportImport {
  const fail = (msg: string): never => {
    throw new ApiError('invalid_params', `${file}: ${msg}`, 'file');
  };
  const text = (name: string): string => {
    try {
      return new TextDecoder().decode(read(name));
    } catch (e) {
      return fail(`cannot read ${name} beside it (${(e as Error).message})`);
    }
  };
  let manifest: { weightsManifest?: { paths: string[]; weights: ManifestEntry[] }[] };
  let sig: ReturnType<typeof SignatureSchema.parse>;
  try {
    manifest = JSON.parse(text('model.json')) as typeof manifest;
  } catch (e) {
    return fail(`not JSON (${(e as Error).message})`);
  }
  try {
    sig = SignatureSchema.parse(JSON.parse(text('signature.json')));
  } catch (e) {
    return fail(`its signature.json is not a Layerwise export signature (${(e as Error).message.slice(0, 300)})`);
  }
  if (sig.format !== 'tfjs' || !sig.model?.nodes) return fail('its signature.json names no TF.js export with a graph model');
  const parts: Uint8Array[] = [];
  for (const p of (manifest.weightsManifest ?? []).flatMap((g) => g.paths)) {
    if (p.includes('..') || p.startsWith('/') || p.includes('\\')) fail(`weights path ${p} lies outside its folder`);
    try {
      parts.push(read(p));
    } catch (e) {
      fail(`cannot read ${p} beside it (${(e as Error).message})`);
    }
  }
  const weights = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  parts.reduce((at, b) => (weights.set(b, at), at + b.length), 0);
  const entries = (manifest.weightsManifest ?? []).flatMap((g) => g.weights);
  const byNode = new Map<string, NodeWeights>();
  let offset = 0;
  for (const w of entries) {
    if (w.dtype !== 'float32') fail(`weight ${w.name} is ${w.dtype}, not float32`);
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (offset + 4 * n > weights.length) fail(`the weight file ends inside ${w.name}`);
    const values = new Float32Array(weights.slice(offset, offset + 4 * n).buffer);
    offset += 4 * n;
    const slash = w.name.lastIndexOf('/');
    const node = slash > 0 ? w.name.slice(0, slash) : w.name;
    let nw = byNode.get(node);
    if (!nw) byNode.set(node, (nw = { node, weights: [] }));
    nw.weights.push({ shape: w.shape, values });
  }
  if (offset !== weights.length) fail(`the weight file has ${weights.length} bytes, the manifest names ${offset}`);
  const range = sig.preprocessing.offset === 0 ? 'unit' : 'symmetric';
  return { spec: sig.model as GraphModelSpec, weights: [...byNode.values()], inputRange: range, foldedBatchNorm: false, classes: sig.classes };
}
