/**
 * `runs.pipelines` (issue 11): the Pipelines table of one dataset version — every run of any
 * kind (src/shared/run-kinds.ts) with its held-out accuracy and macro-F1 (from its stored
 * predictions' confusion matrix: test, else val; src/shared/pipelines.ts), training seconds,
 * inference time per image (a baseline's measured pipeline; a network's final prediction pass,
 * `<run>/inference.json`) and parameter count.
 */
import type { RunDetail, RunSummary } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import { macroF1, type InferenceTiming, type PipelineRow } from '../../shared/pipelines';
import { describeBaseline, isBaselineSpec, parseAnyRunSpec, runKindOf, type AnyRunSpec, type BaselineReport } from '../../shared/run-kinds';
import { describeModel, modelTotals, PRESET_LABELS, type RunSpec } from '../../shared/spec';
import type { QualityService } from './quality';

export interface PipelineDeps {
  runs: { list(p: { datasetId?: number }): RunSummary[]; get(runId: number): RunDetail; baselineReport(runId: number): BaselineReport | null; inferenceTiming(runId: number): InferenceTiming | null };
  quality: Pick<QualityService, 'confusion'>;
}

function networkParameters(spec: RunSpec): number | null {
  try {
    return modelTotals(describeModel(spec.model)).params;
  } catch {
    return null;
  }
}

/** One table row of a run. */
function rowOf(deps: PipelineDeps, run: RunSummary, spec: AnyRunSpec): PipelineRow {
  const baseline = isBaselineSpec(spec);
  const report = baseline && run.status === 'completed' ? deps.runs.baselineReport(run.id) : null;
  const timing = !baseline && run.status === 'completed' ? deps.runs.inferenceTiming(run.id) : null;
  let split: PipelineRow['split'] = null;
  let accuracy: number | null = null;
  let f1: number | null = null;
  if (run.status === 'completed') {
    try {
      const cm = deps.quality.confusion(run.id);
      if (cm.split !== 'train') {
        split = cm.split;
        accuracy = cm.accuracy;
        f1 = macroF1(cm.counts);
      }
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'not_found')) throw e;
    }
  }
  return {
    runId: run.id,
    name: run.name,
    kind: runKindOf(spec),
    pipeline: baseline ? describeBaseline(spec) : spec.pretrained ? `${spec.pretrained.backbone}, fine-tuned` : `${PRESET_LABELS[spec.model.preset] ?? spec.model.preset} · ${spec.training.epochs} epoch${spec.training.epochs === 1 ? '' : 's'}`,
    status: run.status,
    datasetVersionId: run.datasetVersionId,
    split,
    accuracy,
    macroF1: f1,
    valAccuracy: run.bestValAccuracy,
    testAccuracy: run.testAccuracy,
    trainingSeconds: run.durationSeconds,
    inferenceMsPerImage: report ? 1000 * report.inferenceSecondsPerImage : timing ? 1000 * timing.secondsPerImage : null,
    parameters: baseline ? (report?.parameters ?? null) : networkParameters(spec),
  };
}

/**
 * The rows of `datasetId`'s runs on one version: `datasetVersionId`, else the newest version
 * any of its runs used; runs not yet packed (queued, no version) are listed with the newest.
 * @returns the version shown, every version its runs used (newest first), the rows (newest run first)
 */
export function pipelineRows(deps: PipelineDeps, p: { datasetId: number; datasetVersionId?: number }): { datasetVersionId: number | null; versions: number[]; rows: PipelineRow[] } {
  const runs = deps.runs.list({ datasetId: p.datasetId });
  const versions = [...new Set(runs.map((r) => r.datasetVersionId).filter((v): v is number => v !== null))].sort((a, b) => b - a);
  const version = p.datasetVersionId ?? versions[0] ?? null;
  const rows: PipelineRow[] = [];
  for (const run of runs) {
    if (run.datasetVersionId !== version && !(run.datasetVersionId === null && version === versions[0])) continue;
    let spec: AnyRunSpec;
    try {
      spec = parseAnyRunSpec(deps.runs.get(run.id).spec);
    } catch {
      continue; // a spec no longer valid is listed on the Runs page with its error, not here
    }
    rows.push(rowOf(deps, run, spec));
  }
  return { datasetVersionId: version, versions, rows };
}
