/**
 * Features and classic runs (issue 11) in the run service: what `runs.start` checks before a
 * baseline's row exists, its row's name and preset column (the kind), and the engine job
 * (src/engine/baseline/job.ts) with the feature cache folder `cache/features/`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DatasetDetail } from '../../../shared/api';
import type { BaselineJob } from '../../../shared/engine-protocol';
import { SpecError } from '../../../shared/errors';
import { readTflite } from '../../../shared/models/tflite';
import { INFERENCE_FILE, InferenceTimingSchema, type InferenceTiming } from '../../../shared/pipelines';
import { fineTuneSpec } from '../../../shared/pretrained';
import { BaselineReportSchema, describeBaseline, type BackboneFeatures, type BaselineReport, type BaselineRunSpec } from '../../../shared/run-kinds';

/** The folder under the cache where baseline features are kept per dataset version and descriptors / backbone node. */
export const FEATURE_CACHE = 'features';

/**
 * A baseline's run row: name (given, else the pipeline in words on the dataset) and preset column (the kind).
 * @throws SpecError `backbone.file` when a features run's model file cannot be read; `datasetId` when the dataset has no training items.
 */
export async function baselineRunRow(spec: BaselineRunSpec, ds: DatasetDetail, name: string | undefined): Promise<{ name: string; preset: string }> {
  if (ds.counts.train < 1) throw new SpecError(`datasetId: the dataset "${ds.name}" has no training items; assign a split first`, 'datasetId');
  if (spec.kind === 'features') {
    await access(spec.backbone.file).catch((e: NodeJS.ErrnoException) => {
      throw new SpecError(`backbone.file: cannot read ${spec.backbone.file} (${e.code ?? e.message})`, 'backbone.file');
    });
  }
  return { name: name?.trim() || `${describeBaseline(spec)} on ${ds.name}`, preset: spec.kind };
}

/** The engine job of a baseline run on its pack. */
export function baselineJob(runId: number, spec: BaselineRunSpec, packDir: string, outDir: string, cacheRoot: string): BaselineJob {
  return { type: 'baseline', runId, spec, packDir, outDir, cacheDir: join(cacheRoot, FEATURE_CACHE) };
}

/** A backbone file's feature choices: its nodes (graph order), the default node (its last global pooling), input shape and range, SHA-256. */
export interface BackboneInfo {
  backbone: BackboneFeatures;
  inputShape: [number, number, 1 | 3];
  nodes: string[];
  defaultNode: string;
}

/**
 * Read a TFLite backbone (src/shared/models/tflite) for a features run: `node` checked against its
 * graph, else its last global pooling node (the fine-tune's feature node, src/shared/pretrained.ts).
 * @throws ApiError invalid_params naming `backbone.file` (unreadable, not a TFLite model this reader maps) or `backbone.node` (no such node).
 */
export function backboneInfo(file: string, node?: string): BackboneInfo {
  const path = resolve(file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new SpecError(`backbone.file: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'backbone.file');
  }
  const r = readTflite(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
  const nodes = r.spec.nodes.map((n) => n.name);
  const defaultNode = fineTuneSpec(r.spec, 2).featureNode;
  const chosen = node ?? defaultNode;
  if (!nodes.includes(chosen)) throw new SpecError(`backbone.node: ${path} has no node "${chosen}" (e.g. ${nodes.slice(-6).join(', ')})`, 'backbone.node');
  const [h, w, c] = r.spec.inputShape;
  return {
    backbone: { file: path, sha256: createHash('sha256').update(bytes).digest('hex'), node: chosen, inputRange: r.inputRange },
    inputShape: [h, w, c === 1 ? 1 : 3],
    nodes,
    defaultNode,
  };
}

/** The `baseline.json` a baseline job wrote in `runDir` (src/engine/baseline/job.ts), or null when there is none. */
export function readBaselineReport(runDir: string): BaselineReport | null {
  const f = join(runDir, 'baseline.json');
  if (!existsSync(f)) return null;
  const r = BaselineReportSchema.safeParse(JSON.parse(readFileSync(f, 'utf8')));
  return r.success ? r.data : null;
}

/** The `inference.json` a network run's prediction pass wrote in `runDir` (src/engine/predict.ts), or null when there is none. */
export function readInferenceTiming(runDir: string): InferenceTiming | null {
  const f = join(runDir, INFERENCE_FILE);
  if (!existsSync(f)) return null;
  const r = InferenceTimingSchema.safeParse(JSON.parse(readFileSync(f, 'utf8')));
  return r.success ? r.data : null;
}
