/**
 * `npm run bench -- parity [-- --quick]`: accuracy parity (issue 8, not a timed test). On
 * ../shared/data/cifar10-subset (4,000 train / 1,000 test, 32×32 RGB PNG in class folders):
 * - ours, ResNet-20 and LeNet-5 (the presets, buildPreset), each trained through the real
 *   services: the folder import, the dataset's split set to the folders' own (train 4,000,
 *   test 1,000, no val carved out), RunService.start → an engine process; test accuracy as
 *   the run records it (the final model on the test split);
 * - PyTorch (bench/torch_train.py, the graph built node by node by bench/torch_graph.py),
 *   the same ResNet-20 on the same pack (the decoded pixels our engine reads), visiting the
 *   items in our engine's order (the seeded shuffles of src/engine/train.ts, passed as a
 *   file) from our initial weights (buildModel with the run's seed, passed as a file).
 * Both: augmentation off, EPOCHS epochs, batch 64, Adam (lr 1e-3, β 0.9 / 0.999, ε 1e-7),
 * learning rate ×0.1 from epoch STEP_AT (the step schedule), L2 5e-5·Σw² over conv / dense
 * kernels added to the loss as the app applies it (= weight decay 1e-4 on kernels only;
 * not on biases or batch norm), batch-norm momentum / ε as the preset says (PyTorch
 * momentum = 1 − ours). The same initial weights, not just the same scheme; dropout none.
 * Judged: |ours − PyTorch| ≤ 3 points on ResNet-20 (exit 1 when not). The first step's loss
 * of both (same weights, same batch) is printed as a check that the two build one network.
 *
 * --quick: 1 epoch on 160 train / 100 test images (16 / 10 per class copied to a temp
 * folder); figures printed, not judged. Without the data the bench skips (quick) or fails;
 * without PyTorch the quick mode runs ours alone, with the reason.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPreset, describeModel, modelTotals, type RunSpecInput } from '../src/shared/spec';
import { epochOrders, findTorchPython, importGiven, initialWeights, openBenchApp, packFor, pct, ROOT, THREADS, trainThroughApp, trainTorch, type FinishedRun } from './train-compare';

const QUICK = process.argv.includes('--quick');
const DATA = join(ROOT, '..', 'shared', 'data', 'cifar10-subset');
const EPOCHS = QUICK ? 1 : 8;
const STEP_AT = 6;
const TOLERANCE_POINTS = 3;

/** Quick mode's data: the first `perClass` images of each class folder of each split, copied. */
function subset(perClass: Record<'train' | 'test', number>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'layerwise-cifar-quick-'));
  for (const split of ['train', 'test'] as const) {
    for (const cls of readdirSync(join(DATA, split)).sort()) {
      mkdirSync(join(dir, split, cls), { recursive: true });
      for (const f of readdirSync(join(DATA, split, cls)).sort().slice(0, perClass[split])) copyFileSync(join(DATA, split, cls, f), join(dir, split, cls, f));
    }
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const sec = (s: number): string => `${s.toFixed(0)} s`;

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    const why = `${DATA} is absent (see ../shared/data/README)`;
    if (QUICK) return void console.log(`skipped: ${why}`);
    throw new Error(why);
  }
  const torchPy = findTorchPython();
  if (!torchPy.python && !QUICK) throw new Error(torchPy.why);
  const data = QUICK ? subset({ train: 16, test: 10 }) : { dir: DATA, cleanup: () => {} };
  const bench = openBenchApp('layerwise-bench-parity-');
  try {
    const imp = await importGiven(bench.app, data.dir);
    const spec = (preset: 'resnet20' | 'lenet5'): RunSpecInput => ({
      datasetId: imp.datasetId,
      model: buildPreset(preset, { inputShape: [32, 32, 3], numClasses: 10 }),
      training: {
        optimizer: { type: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
        learningRateSchedule: { type: 'step', stepSize: STEP_AT, gamma: 0.1 },
        batchSize: 64,
        epochs: EPOCHS,
        regularization: { l1: 0, l2: 5e-5 },
        augmentation: { horizontalFlip: false, randomTranslation: 0, gaussianNoise: 0 },
      },
      seed: 7,
      backend: 'cpu',
    });
    const resnetInput = spec('resnet20');
    const { dir: packDir, pack, seconds: packSeconds } = await packFor(bench.app, resnetInput);
    console.log(`data: ${data.dir}: train ${imp.counts.train}, val ${imp.counts.val}, test ${imp.counts.test}; import ${imp.seconds.toFixed(1)} s, pack ${packSeconds.toFixed(1)} s; ${EPOCHS} epochs; threads ${THREADS}`);

    const runs: Record<string, FinishedRun> = {};
    for (const preset of ['resnet20', 'lenet5'] as const) {
      const r = await trainThroughApp(bench.app, spec(preset), `parity ${preset}`);
      if (r.status !== 'completed') throw new Error(`our ${preset} run ${r.runId} ${r.status}: ${r.error ?? ''}`);
      runs[preset] = r;
      console.log(`ours ${preset}: test ${pct(r.testAccuracy)}, ${sec(r.totalSeconds)} (epochs ${r.epochSeconds.map((s) => s.toFixed(0)).join(', ')} s)`);
    }
    const ours = runs.resnet20;
    const order = epochOrders(pack, ours.spec);
    const weights = await initialWeights(ours.spec);

    const params = modelTotals(describeModel(ours.spec.model)).params;
    if (!torchPy.python) {
      console.log(`skipped: the PyTorch side (${torchPy.why}); ours: ResNet-20 ${pct(ours.testAccuracy)}, LeNet-5 ${pct(runs.lenet5.testAccuracy)}`);
      return;
    }
    const t0 = performance.now();
    const torch = await trainTorch(torchPy.python, ours.spec, { data: { kind: 'pack', dir: packDir }, order, weights, evalEachEpoch: false });
    const torchSeconds = (performance.now() - t0) / 1000;
    const last = torch.epochs[torch.epochs.length - 1];
    const diff = (ours.testAccuracy! - last.testAccuracy!) * 100;
    const ok = Math.abs(diff) <= TOLERANCE_POINTS;

    console.log(`\nAccuracy parity, CIFAR-10 subset (${imp.counts.train} train / ${imp.counts.test} test), ${EPOCHS} epoch${EPOCHS > 1 ? 's' : ''}, batch 64, Adam 1e-3 (×0.1 from epoch ${STEP_AT + 1}), L2 5e-5 on kernels, no augmentation, ${THREADS} threads${QUICK ? ' — quick mode, not judged' : ''}`);
    console.log('| model | trained by | test accuracy | train loss per epoch | first-step loss | parameters | seconds |');
    console.log('|---|---|---|---|---|---|---|');
    const losses = (a: number[]): string => a.map((x) => x.toFixed(3)).join(', ');
    console.log(`| ResNet-20 | ours (services) | ${pct(ours.testAccuracy)} | ${losses(ours.trainLoss)} | ${ours.firstStepLoss?.toFixed(5)} | ${params.toLocaleString('en-US')} | ${sec(ours.totalSeconds)} |`);
    console.log(`| ResNet-20 | PyTorch ${torch.ready.torch} (same order, same initial weights) | ${pct(last.testAccuracy)} | ${losses(torch.epochs.map((e) => e.trainLoss))} | ${last.firstStepLoss.toFixed(5)} | ${torch.ready.params.toLocaleString('en-US')} | ${sec(torchSeconds)} |`);
    const lenet = runs.lenet5;
    console.log(`| LeNet-5 | ours (services) | ${pct(lenet.testAccuracy)} | ${losses(lenet.trainLoss)} | ${lenet.firstStepLoss?.toFixed(5)} | ${modelTotals(describeModel(lenet.spec.model)).params.toLocaleString('en-US')} | ${sec(lenet.totalSeconds)} |`);
    console.log(`\nResNet-20: ours − PyTorch = ${diff >= 0 ? '+' : ''}${diff.toFixed(1)} points${QUICK ? ' (quick mode: not judged)' : `; ${ok ? 'PASS' : 'FAIL'}: the bar is ±${TOLERANCE_POINTS} points`}`);
    if (params !== torch.ready.params) console.log(`note: parameter counts differ (describeModel ${params}, PyTorch ${torch.ready.params})`);
    if (!QUICK && !ok) process.exitCode = 1;
  } finally {
    await bench.close().catch(() => {});
    data.cleanup();
  }
}

main().catch((e: Error) => {
  console.error(`parity bench failed: ${e.stack ?? e.message}`);
  process.exit(1);
});
