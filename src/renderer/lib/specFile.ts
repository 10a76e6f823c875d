/**
 * Spec JSON files, as `layerwise train --spec FILE` reads them: a whole RunSpec
 * (src/shared/spec.ts RunSpecSchema; `datasetId` may be left out) or just a ModelSpec.
 * Reading validates the file with the schema and describeModel's shapes, with errors naming
 * the file and the field path; writing downloads the JSON.
 */
import { z } from 'zod';
import { SpecError } from '../../shared/errors';
import { describeModel, ModelSpecSchema, RunSpecSchema, type BackendChoice, type ModelSpec, type TrainingSpec } from '../../shared/spec';
import type { PretrainedSpec } from '../../shared/pretrained';
import { graphForm } from './runForm';
import { zodIssues, type AnySchema } from './schemaForm';

/** A RunSpec whose datasetId may be missing (a spec written for another database). */
const RunSpecFileSchema = RunSpecSchema.extend({ datasetId: RunSpecSchema.shape.datasetId.optional() });

/** What a spec file holds, validated; the model in the graph form (a layer list becomes its chain). */
export interface SpecFile {
  kind: 'run' | 'model';
  model: ModelSpec;
  training?: TrainingSpec;
  seed?: number;
  backend?: BackendChoice;
  datasetId?: number;
  /** A run spec's pre-trained backbone (weights file, input range, freeze point), kept as it is. */
  pretrained?: PretrainedSpec;
}

function refuse(fileName: string, err: z.ZodError, schema: AnySchema, data: unknown): never {
  const issues = zodIssues(err, schema, data);
  const lines = issues.map((i) => `${fileName}: ${i.path || '(root)'}: ${i.label !== (i.path || '(root)') ? `${i.label} ` : ''}${i.text}`);
  throw new SpecError(lines.join('\n'), issues[0]?.path || undefined);
}

/**
 * Parse and check a spec file's text.
 * A JSON object with `model` or `training` is a RunSpec, anything else a ModelSpec.
 * @throws SpecError naming the file and, for each problem, the field path: "spec.json:
 *   training.batchSize: Batch size must be a whole number ≥ 1"; shape errors as describeModel
 *   words them ("model.nodes[3] ("conv2d_2", conv2d): output would be empty …"); a file that is not
 *   JSON or not an object is named with the parser's reason.
 */
export function readSpecFile(text: string, fileName: string): SpecFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new SpecError(`${fileName}: not JSON (${(e as Error).message})`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new SpecError(`${fileName}: expected a JSON object (a RunSpec or a ModelSpec)`);
  const isRun = 'model' in data || 'training' in data;
  const shapes = (model: ModelSpec, prefix: string): void => {
    try {
      describeModel(model);
    } catch (e) {
      const err = e as SpecError;
      const message = prefix ? err.message : err.message.replace(/^model\./gm, '');
      throw new SpecError(message.split('\n').map((l) => `${fileName}: ${l}`).join('\n'), err.field);
    }
  };
  if (isRun) {
    const r = RunSpecFileSchema.safeParse(data);
    if (!r.success) refuse(fileName, r.error, RunSpecFileSchema, data);
    shapes(r.data.model, 'model');
    return { kind: 'run', model: graphForm(r.data.model), training: r.data.training, seed: r.data.seed, backend: r.data.backend, ...(r.data.datasetId !== undefined ? { datasetId: r.data.datasetId } : {}), ...(r.data.pretrained ? { pretrained: r.data.pretrained } : {}) };
  }
  const r = ModelSpecSchema.safeParse(data);
  if (!r.success) refuse(fileName, r.error, ModelSpecSchema, data);
  shapes(r.data, '');
  return { kind: 'model', model: graphForm(r.data) };
}

/** The file name an exported spec gets: "<preset>-run-spec.json" / "<preset>-model.json". */
export function specFileName(kind: 'run' | 'model', preset: string): string {
  return `${preset.replace(/[^\w.-]+/g, '_')}-${kind === 'run' ? 'run-spec' : 'model'}.json`;
}

/** Start a browser download of `value` as pretty JSON (2-space indent, final newline). */
export function downloadJson(fileName: string, value: unknown): void {
  const blob = new Blob([`${JSON.stringify(value, null, 2)}\n`], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
