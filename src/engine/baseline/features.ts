/**
 * A baseline's feature vectors for every item of a pack (issue 11): the hand-crafted
 * descriptors of a classic run (../descriptors, concatenated in spec order) or the
 * activations of one node of a pre-trained backbone (a TFLite file read by
 * src/shared/models/tflite, built by ../model.ts, weights set by ../pretrained.ts), cached
 * per dataset version, input shape and descriptor list / backbone node in `cacheDir`.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readTflite } from '../../shared/models/tflite';
import type { BaselineRunSpec, BackboneFeatures } from '../../shared/run-kinds';
import { computeDescriptor } from '../descriptors';
import { buildModel } from '../model';
import type { LoadedPack } from '../pack-reader';
import { setNodeWeights } from '../pretrained';
import { preprocessInto } from '../preprocess';
import { yieldToEventLoop } from '../event-loop';

/** count × dim float32 feature vectors, row-major, in pack order. */
export interface FeatureMatrix {
  dim: number;
  count: number;
  values: Float32Array;
  /** True when read from the cache. */
  cached: boolean;
  /** Weights of the backbone up to its node (0 for descriptors). */
  backboneParameters: number;
  /** Wall seconds per image its extraction took when it was computed (kept with the cache, so a cached run still reports the real per-image cost). */
  extractSecondsPerImage: number;
}

/** What identifies a pack's features: the version's content hash, the input shape, and the descriptors or the backbone file (hash or path, size, mtime), node and input range. */
export function featureKey(spec: BaselineRunSpec, pack: LoadedPack): string {
  const m = pack.meta;
  const what =
    spec.kind === 'classic'
      ? { descriptors: spec.descriptors }
      : { backbone: spec.backbone.sha256 ?? `${spec.backbone.file}:${statSync(spec.backbone.file).size}:${statSync(spec.backbone.file).mtimeMs}`, node: spec.backbone.node, inputRange: spec.backbone.inputRange };
  return createHash('sha256').update(JSON.stringify({ v: 1, version: m.versionHash, count: m.count, shape: [m.height, m.width, m.channels], what })).digest('hex').slice(0, 32);
}

/**
 * The features of every pack item: from `<cacheDir>/<key>.f32` (+ `.json`) when there, else
 * computed and written there (temporary file + rename, so a cancelled job leaves no half file).
 * The matrix carries the per-image extraction seconds measured when it was computed (from the cache's `.json` when read).
 * @param progress items done of count
 * @returns null when `signal` aborted first
 * @throws Error naming the model file or node when the backbone cannot be read or has no such node.
 */
export async function packFeatures(spec: BaselineRunSpec, pack: LoadedPack, cacheDir: string, signal: AbortSignal, progress: (done: number, total: number) => void): Promise<FeatureMatrix | null> {
  const key = featureKey(spec, pack);
  const file = join(cacheDir, `${key}.f32`);
  const metaFile = join(cacheDir, `${key}.json`);
  if (existsSync(file) && existsSync(metaFile)) {
    const { dim, count, backboneParameters, extractSecondsPerImage } = JSON.parse(readFileSync(metaFile, 'utf8')) as { dim: number; count: number; backboneParameters?: number; extractSecondsPerImage?: number };
    const buf = readFileSync(file);
    // A cache entry written before backboneParameters / the extraction time were recorded is computed again.
    if (count === pack.meta.count && buf.length === count * dim * 4 && (spec.kind === 'classic' || backboneParameters !== undefined) && extractSecondsPerImage !== undefined) {
      progress(count, count);
      return { dim, count, values: new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)), cached: true, backboneParameters: backboneParameters ?? 0, extractSecondsPerImage };
    }
  }
  const t0 = performance.now();
  const computed = spec.kind === 'classic' ? await descriptorFeatures(spec, pack, signal, progress) : await backboneFeatures(spec.backbone, pack, signal, progress);
  if (!computed) return null;
  const out = { ...computed, extractSecondsPerImage: (performance.now() - t0) / 1000 / Math.max(1, computed.count) };
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.from(out.values.buffer, out.values.byteOffset, out.values.byteLength));
  renameSync(tmp, file);
  writeFileSync(metaFile, JSON.stringify({ dim: out.dim, count: out.count, backboneParameters: out.backboneParameters, extractSecondsPerImage: out.extractSecondsPerImage, spec: spec.kind === 'classic' ? spec.descriptors : spec.backbone }));
  return { ...out, cached: false };
}

/** Descriptors of every item; every 64 items it reports progress and yields to the event loop, so a `cancel` message is read. */
async function descriptorFeatures(spec: Extract<BaselineRunSpec, { kind: 'classic' }>, pack: LoadedPack, signal: AbortSignal, progress: (done: number, total: number) => void): Promise<Omit<FeatureMatrix, 'cached' | 'extractSecondsPerImage'> | null> {
  const { count, height, width, channels } = pack.meta;
  const size = height * width * channels;
  let values: Float32Array | null = null;
  let dim = 0;
  for (let i = 0; i < count; i++) {
    if (signal.aborted) return null;
    const image = { data: pack.pixels.subarray(i * size, (i + 1) * size), width, height, channels };
    const parts = spec.descriptors.map((d) => computeDescriptor(d, image));
    if (!values) {
      dim = parts.reduce((a, p) => a + p.length, 0);
      values = new Float32Array(count * dim);
    }
    let at = i * dim;
    for (const p of parts) {
      values.set(p, at);
      at += p.length;
    }
    if (i % 64 === 63 || i === count - 1) {
      progress(i + 1, count);
      await yieldToEventLoop();
    }
  }
  return { dim, count, values: values ?? new Float32Array(0), backboneParameters: 0 };
}

/** The backbone built from its file, cut at `node` (its output flattened). @throws Error naming the file or node. */
export function backboneAt(b: BackboneFeatures): tfl.LayersModel {
  let bytes: Buffer;
  try {
    bytes = readFileSync(b.file);
  } catch (e) {
    throw new Error(`backbone.file: cannot read ${b.file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (b.sha256) {
    const got = createHash('sha256').update(bytes).digest('hex');
    if (got !== b.sha256) throw new Error(`backbone.file: ${b.file} has SHA-256 ${got}, the run spec records ${b.sha256}`);
  }
  const r = readTflite(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), b.file);
  const full = buildModel(r.spec, 1);
  setNodeWeights(full, r.weights);
  let layer: tfl.layers.Layer;
  try {
    layer = full.getLayer(b.node);
  } catch {
    throw new Error(`backbone.node: ${b.file} has no node "${b.node}" (nodes: ${r.spec.nodes.map((n) => n.name).slice(-8).join(', ')}, …)`);
  }
  return tfl.model({ inputs: full.inputs, outputs: layer.output as tfl.SymbolicTensor });
}

async function backboneFeatures(b: BackboneFeatures, pack: LoadedPack, signal: AbortSignal, progress: (done: number, total: number) => void): Promise<Omit<FeatureMatrix, 'cached' | 'extractSecondsPerImage'> | null> {
  const model = backboneAt(b);
  const { count, height, width, channels } = pack.meta;
  const size = height * width * channels;
  const batch = 32;
  const buf = new Float32Array(batch * size);
  let values: Float32Array | null = null;
  let dim = 0;
  try {
    for (let from = 0; from < count; from += batch) {
      if (signal.aborted) return null;
      const n = Math.min(batch, count - from);
      preprocessInto(pixels(pack, from, n, size), buf, 0, b.inputRange);
      const y = tf.tidy(() => {
        const out = model.apply(tf.tensor4d(buf.subarray(0, n * size), [n, height, width, channels]), { training: false }) as tf.Tensor;
        return tf.reshape(out, [n, -1]);
      });
      const data = (await y.data()) as Float32Array;
      if (!values) {
        dim = y.shape[1]!;
        values = new Float32Array(count * dim);
      }
      y.dispose();
      values.set(data, from * dim);
      progress(from + n, count);
      await yieldToEventLoop();
    }
    return { dim, count, values: values ?? new Float32Array(0), backboneParameters: model.countParams() };
  } finally {
    model.dispose();
  }
}


const pixels = (pack: LoadedPack, from: number, n: number, size: number): Uint8Array => pack.pixels.subarray(from * size, (from + n) * size);
