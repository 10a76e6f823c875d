/**
 * `npm run bench -- time-to-accuracy [-- --quick]`: the user-level figure of issue 8 — time
 * to 85 % test accuracy on Fashion-MNIST (Debian's dataset-fashion-mnist, 60,000 train /
 * 10,000 test IDX files) with LeNet-5, batch 64, Adam 1e-3 (β 0.9 / 0.999, ε 1e-7 in both).
 *
 * Ours: through the real services (createApp on a temporary data directory): the IDX import
 * job, the dataset's split set to the files' own (train 60,000, test 10,000, no val carved
 * out), the pack built, then one run (RunService.start → an engine process) of up to
 * MAX_EPOCHS epochs. The app measures val, not test, per epoch, so after the run each epoch's
 * checkpoint is evaluated on the test split by the engine's own `evaluate` (training untouched,
 * nothing running beside it). Time of epoch e: the engine's own epoch seconds summed to e
 * ("training"), and runs.start → epoch e's checkpoint on disk ("incl. start-up": engine
 * process, pack read, model build).
 * PyTorch: bench/torch_train.py on the same IDX files (pixels / 255, the same train and test
 * items, batch 64, Adam with the same settings, shuffled each epoch by torch.randperm, Keras'
 * glorotUniform initialiser drawn by torch), test accuracy after each epoch outside its clock.
 * Both with the same thread count (LAYERWISE_THREADS, else all cores).
 * Printed: per-epoch test accuracies, the seconds to the first epoch ≥ the bar, and the ratio
 * PyTorch seconds ÷ ours (> 1: we get there sooner). Import and pack times are stated apart.
 *
 * --quick: the first 2,000 train / 500 test images written as IDX files, bar 65 %, at most
 * 2 epochs: proves the path runs; figures printed, never judged. Without the dataset or
 * PyTorch the quick mode skips that side with the reason; the full mode fails.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildPreset, type RunSpecInput } from '../src/shared/spec';
import { checkpointTestAccuracy, findTorchPython, importGiven, openBenchApp, packFor, pct, THREADS, trainThroughApp, trainTorch } from './train-compare';

const QUICK = process.argv.includes('--quick');
const FASHION = '/usr/share/datasets/fashion-mnist';
const BAR = QUICK ? 0.65 : 0.85;
const MAX_EPOCHS = QUICK ? 2 : 6;
/** Quick mode: the first this many train / test images. */
const QUICK_TRAIN = 2000;
const QUICK_TEST = 500;
const FILES = { trainImages: 'train-images-idx3-ubyte', trainLabels: 'train-labels-idx1-ubyte', testImages: 't10k-images-idx3-ubyte', testLabels: 't10k-labels-idx1-ubyte' } as const;

/** The first `n` records of an IDX file (gzipped or not) as an uncompressed IDX buffer (header count rewritten). */
function idxHead(file: string, n: number): Buffer {
  let raw = readFileSync(file);
  if (raw[0] === 0x1f && raw[1] === 0x8b) raw = gunzipSync(raw);
  const images = raw.readUInt32BE(0) === 0x803;
  const header = images ? 16 : 8;
  const per = images ? raw.readUInt32BE(8) * raw.readUInt32BE(12) : 1;
  const out = Buffer.from(raw.subarray(0, header + n * per));
  out.writeUInt32BE(n, 4);
  return out;
}

/** The four IDX files to train on: Debian's (full), or the first few thousand of each split in a temp folder (quick). */
function dataFiles(): { dir: string; files: Record<keyof typeof FILES, string>; cleanup: () => void } {
  const gz = (k: keyof typeof FILES): string => join(FASHION, `${FILES[k]}.gz`);
  if (!QUICK) return { dir: FASHION, files: { trainImages: gz('trainImages'), trainLabels: gz('trainLabels'), testImages: gz('testImages'), testLabels: gz('testLabels') }, cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'layerwise-fashion-quick-'));
  const files = {} as Record<keyof typeof FILES, string>;
  for (const k of Object.keys(FILES) as (keyof typeof FILES)[]) {
    files[k] = join(dir, FILES[k]);
    writeFileSync(files[k], idxHead(gz(k), k.startsWith('train') ? QUICK_TRAIN : QUICK_TEST));
  }
  return { dir, files, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Index of the first entry ≥ bar, or -1. */
const firstAt = (accs: number[]): number => accs.findIndex((a) => a >= BAR);
const sec = (s: number | null): string => (s == null ? '—' : `${s.toFixed(1)} s`);

async function main(): Promise<void> {
  if (!existsSync(FASHION)) {
    const why = `${FASHION} is absent (apt-get install -y dataset-fashion-mnist)`;
    if (QUICK) return void console.log(`skipped: ${why}`);
    throw new Error(why);
  }
  const torchPy = findTorchPython();
  if (!torchPy.python && !QUICK) throw new Error(torchPy.why);
  const data = dataFiles();
  const bench = openBenchApp('layerwise-bench-tta-');
  try {
    // ---- ours, through the services
    const imp = await importGiven(bench.app, data.dir);
    const input: RunSpecInput = {
      datasetId: imp.datasetId,
      model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }),
      training: { optimizer: { type: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, batchSize: 64, epochs: MAX_EPOCHS },
      seed: 7,
      backend: 'cpu',
    };
    const { pack, seconds: packSeconds } = await packFor(bench.app, input);
    console.log(`data: ${data.dir}: train ${imp.counts.train}, val ${imp.counts.val}, test ${imp.counts.test}; import ${imp.seconds.toFixed(1)} s, pack ${packSeconds.toFixed(1)} s (not timed below); threads ${THREADS}`);
    const run = await trainThroughApp(bench.app, input, 'time to accuracy');
    if (run.status !== 'completed') throw new Error(`our run ${run.runId} ${run.status}: ${run.error ?? ''}`);
    const oursAcc: number[] = [];
    for (const ckpt of run.checkpoints) oursAcc.push(await checkpointTestAccuracy(ckpt, pack));
    if (Math.abs(oursAcc[oursAcc.length - 1] - run.testAccuracy!) > 1e-9) throw new Error(`last checkpoint's test accuracy ${oursAcc[oursAcc.length - 1]} ≠ the run's ${run.testAccuracy}`);
    const oe = firstAt(oursAcc);
    const oursTrain = oe < 0 ? null : run.epochSeconds.slice(0, oe + 1).reduce((a, b) => a + b, 0);
    const oursWall = oe < 0 ? null : run.sinceStart[oe];
    await bench.close();

    // ---- PyTorch, the same IDX files
    if (!torchPy.python) {
      console.log(`skipped: the PyTorch side (${torchPy.why})`);
      console.log(`ours: test accuracy per epoch ${oursAcc.map(pct).join(', ')}; ${oe < 0 ? `bar ${pct(BAR)} not reached in ${MAX_EPOCHS} epochs` : `≥ ${pct(BAR)} after epoch ${oe + 1}: ${sec(oursTrain)} training, ${sec(oursWall)} incl. start-up`}`);
      return;
    }
    const torch = await trainTorch(torchPy.python, run.spec, { data: { kind: 'idx', ...data.files }, stopAt: BAR });
    const tAcc = torch.epochs.map((e) => e.testAccuracy ?? 0);
    const te = firstAt(tAcc);
    const torchTrain = te < 0 ? null : torch.epochs[te].trainSeconds;
    const torchWall = te < 0 ? null : torch.ready.setupSeconds + torch.epochs[te].trainSeconds;

    console.log(`\nTime to ${pct(BAR)} test accuracy, Fashion-MNIST${QUICK ? ` (quick: ${QUICK_TRAIN} train / ${QUICK_TEST} test)` : ''}, LeNet-5, batch 64, Adam 1e-3, ${THREADS} threads${QUICK ? ' — quick mode, not judged' : ''}`);
    console.log('| | ours (services, engine process) | PyTorch ' + torch.ready.torch + ' (bench/torch_train.py) |');
    console.log('|---|---|---|');
    console.log(`| test accuracy after each epoch | ${oursAcc.map(pct).join(', ')} | ${tAcc.map(pct).join(', ')} |`);
    console.log(`| first epoch ≥ ${pct(BAR)} | ${oe < 0 ? `none in ${MAX_EPOCHS}` : oe + 1} | ${te < 0 ? `none in ${MAX_EPOCHS}` : te + 1} |`);
    console.log(`| training seconds to it | ${sec(oursTrain)} | ${sec(torchTrain)} |`);
    console.log(`| incl. start-up (ours: runs.start → checkpoint; PyTorch: data read + model build + training) | ${sec(oursWall)} | ${sec(torchWall)} |`);
    console.log(`| seconds per epoch | ${run.epochSeconds.map((s) => s.toFixed(1)).join(', ')} | ${torch.epochs.map((e) => e.seconds.toFixed(1)).join(', ')} |`);
    if (oursTrain != null && torchTrain != null) {
      console.log(`\nratio PyTorch ÷ ours (> 1: ours reaches ${pct(BAR)} sooner): training ${(torchTrain / oursTrain).toFixed(2)}×, incl. start-up ${(torchWall! / oursWall!).toFixed(2)}×`);
    } else {
      console.log(`\nratio: — (${oe < 0 ? 'ours' : 'PyTorch'} did not reach ${pct(BAR)} in ${MAX_EPOCHS} epochs)`);
      if (!QUICK) process.exitCode = 1;
    }
    console.log(`import of the ${imp.counts.train + imp.counts.test} images into the app: ${imp.seconds.toFixed(1)} s; pack build ${packSeconds.toFixed(1)} s (before the run, not in its times)`);
  } finally {
    await bench.close().catch(() => {});
    data.cleanup();
  }
}

main().catch((e: Error) => {
  console.error(`time-to-accuracy bench failed: ${e.stack ?? e.message}`);
  process.exit(1);
});
