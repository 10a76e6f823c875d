/**
 * `layerwise baseline --dataset X --features color|dominant|hog|lbp[+…]|FILE.tflite[:NODE]
 * [--pca N] --classifier svm|rbf|rf|logreg [--input-size HxWxC] [--seed S] [--set PATH=VALUE]
 * [--json]` (issue 11): start a classic or features run (src/shared/run-kinds.ts), follow it and
 * print its validation and test accuracy. `--set` paths are the baseline spec's
 * (`classifier.C=10`, `descriptors[0].pixelsPerCell=4`, `backbone.node=…`). Ctrl+C cancels (exit 130).
 */
import { InvalidArgumentError, type Command, type Option } from 'commander';
import type { Metric, RunSummary } from '../../shared/api';
import { METRIC } from '../../shared/metrics';
import { defaultInputShape } from '../../shared/input-shape';
import { describeBaseline, parseAnyRunSpec, type BaselineReport, type BaselineRunSpec, type BaselineRunSpecInput, type ClassifierSpecInput } from '../../shared/run-kinds';
import type { DescriptorSpec } from '../../shared/descriptors';
import { RUN_DEFAULTS } from '../../shared/spec';
import type { App } from '../services/app';
import { backboneInfo } from '../services/runs/baseline';
import { int, parseInputSize } from './cli-args';
import { applySets, checkWithSets, parseSet, type SpecSet } from './cli-set';
import { findDataset } from './workflows';

type WithApp = (dataDir: string | undefined, fn: (app: App) => Promise<number>) => Promise<void>;

/** The descriptor names of `--features` and their default specs. */
const DESCRIPTORS: Record<string, DescriptorSpec['type']> = { color: 'colorHistogram', colour: 'colorHistogram', dominant: 'dominantColors', hog: 'hog', lbp: 'lbp' };
/** The classifier names of `--classifier`. */
const CLASSIFIERS: Record<string, ClassifierSpecInput> = {
  svm: { type: 'svm', kernel: 'linear' },
  rbf: { type: 'svm', kernel: 'rbf' },
  rf: { type: 'randomForest' },
  logreg: { type: 'logisticRegression' },
};

interface BaselineFlags {
  dataset: string;
  features: string;
  pca?: number;
  classifier: string;
  inputSize?: [number, number, 1 | 3];
  seed: number;
  set: SpecSet[];
  json: boolean;
  dataDir?: string;
}

/**
 * The baseline spec the flags describe (not yet validated: parseAnyRunSpec does that).
 * @throws InvalidArgumentError for an unknown descriptor or classifier; ApiError from backboneInfo for a bad model file or node.
 */
export function baselineSpecOfFlags(o: Omit<BaselineFlags, 'dataset' | 'json' | 'dataDir' | 'set'>, ds: { id: number; typicalShape: [number, number, number] | null }): BaselineRunSpecInput {
  const classifier = CLASSIFIERS[o.classifier.toLowerCase()];
  if (!classifier) throw new InvalidArgumentError(`--classifier ${o.classifier}: expected ${Object.keys(CLASSIFIERS).join(', ')}`);
  const common = { datasetId: ds.id, classifier, seed: o.seed, ...(o.pca ? { pca: { components: o.pca } } : {}) };
  const names = o.features.split('+').map((s) => s.trim().toLowerCase());
  if (names.every((n) => n in DESCRIPTORS)) {
    return { kind: 'classic', ...common, descriptors: names.map((n) => ({ type: DESCRIPTORS[n] }) as DescriptorSpec), inputShape: o.inputSize ?? defaultInputShape(ds.typicalShape) };
  }
  if (!/\.tflite(:|$)/i.test(o.features)) throw new InvalidArgumentError(`--features ${o.features}: expected color, dominant, hog, lbp (joined with +) or FILE.tflite[:NODE]`);
  const m = /^(.*\.tflite)(?::(.+))?$/i.exec(o.features)!;
  const b = backboneInfo(m[1], m[2]);
  return { kind: 'features', ...common, backbone: b.backbone, inputShape: b.inputShape };
}

/** Add `baseline` to the program; it opens the data directory through `withApp`. */
export function registerBaselineCommand(
  program: Command,
  io: { out(line: string): void; err(line: string): void; onInterrupt(handler: () => void): () => void },
  withApp: WithApp,
  dataDirOption: () => Option,
): void {
  program
    .command('baseline')
    .description('a classic (colour / HoG / LBP descriptors) or off-the-shelf features (a TFLite backbone\'s node) run → optional PCA → SVM, random forest or logistic regression; prints validation and test accuracy')
    .requiredOption('--dataset <name|id>', 'dataset')
    .requiredOption('--features <what>', 'color, dominant, hog, lbp (several joined with +), or FILE.tflite[:NODE] (default node: its last global pooling)')
    .option('--pca <n>', 'PCA components (fitted on the training split)', int(1))
    .option('--classifier <name>', 'svm (linear), rbf (RBF SVM), rf (random forest) or logreg', 'svm')
    .option('--input-size <HxWxC>', 'image size of a classic run (default: the dataset\'s typical size, at most 64 px)', parseInputSize)
    .option('--seed <s>', 'seed', int(0), RUN_DEFAULTS.seed)
    .option('--set <PATH=VALUE>', 'set any spec path (repeatable), e.g. classifier.C=10', (v: string, prev: SpecSet[]) => [...prev, parseSet(v)], [] as SpecSet[])
    .option('--json', 'print the result as JSON', false)
    .addOption(dataDirOption())
    .action(async (o: BaselineFlags) =>
      withApp(o.dataDir, async (app) => {
        const ds = await findDataset(app, o.dataset);
        const raw = baselineSpecOfFlags(o, ds);
        const spec = checkWithSets(o.set, () => parseAnyRunSpec(applySets(raw as unknown as Record<string, unknown>, o.set))) as BaselineRunSpec;
        const { runId } = (await app.handle('runs.start', { spec })) as { runId: number };
        if (!o.json) io.out(`run ${runId}: ${describeBaseline(spec)} on "${ds.name}" (${ds.classCount} classes, input ${spec.inputShape.join('×')})`);
        if (!o.json && app.executor.get().kind === 'slurm') io.out('runs on this machine: classic and features runs do not go to Slurm (network runs do)');
        const off = io.onInterrupt(() => {
          io.err('cancelling the run…');
          void app.handle('runs.cancel', { runId }).catch(() => undefined);
        });
        let final: RunSummary;
        try {
          final = await app.runs.waitFor(runId);
        } finally {
          off();
        }
        if (final.status !== 'completed') {
          if (final.error) io.err(`error: ${final.error}`);
          return final.status === 'cancelled' ? 130 : 1;
        }
        const metrics = (await app.handle('runs.metrics', { runId })) as Metric[];
        const at = (name: string): number | null => metrics.find((x) => x.name === name && x.step === null)?.value ?? null;
        const report = (await app.handle('runs.baselineReport', { runId })) as BaselineReport | null;
        const result = { runId, pipeline: describeBaseline(spec), trainAccuracy: at(METRIC.trainAccuracy), valAccuracy: at(METRIC.valAccuracy), testAccuracy: final.testAccuracy, seconds: final.durationSeconds, report };
        if (o.json) {
          io.out(JSON.stringify(result, null, 2));
          return 0;
        }
        const pct = (v: number | null): string => (v === null ? '—' : `${(100 * v).toFixed(2)}%`);
        io.out(`train accuracy ${pct(result.trainAccuracy)}, validation accuracy ${pct(result.valAccuracy)}, test accuracy ${pct(result.testAccuracy)}`);
        if (report) io.out(`${report.featureDim} features${report.featuresCached ? ' (cached)' : ''}${report.pcaComponents ? ` → PCA ${report.pcaComponents} (${(100 * report.pcaExplained!).toFixed(1)}% of the variance)` : ''}; fit ${report.fitSeconds.toFixed(1)} s on ${report.trainCount} images; ${(1000 * report.inferenceSecondsPerImage).toFixed(2)} ms per image; ${report.parameters} parameters`);
        return 0;
      }),
    );
}
