/**
 * Training controls through the real training function (cpu backend, in-process):
 * early stopping on a real run against the rule replayed by hand on its recorded metrics,
 * the test metrics taken from the best epoch's checkpoint, resume after a cancel equal to
 * the uninterrupted run, re-run with the same seed equal, random labels.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/engine/backend';
import { readCheckpoint } from '../../src/engine/checkpoint';
import { readPack } from '../../src/engine/pack-reader';
import { evaluate, withRandomTrainLabels } from '../../src/engine/train';
import type { EngineToMain, TrainJob } from '../../src/shared/engine-protocol';
import { buildPreset, parseRunSpec, type RunSpecInput } from '../../src/shared/spec';
import { writeSyntheticPack } from './helpers/pack';
import { runJob } from './helpers/run';

type Metrics = Extract<EngineToMain, { type: 'metrics' }>;
type Done = Extract<EngineToMain, { type: 'done' }>;

let dir = '';
let pack = '';
beforeAll(async () => {
  await initBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'lw-train-controls-'));
  pack = writeSyntheticPack(join(dir, 'pack'), { count: 200 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function job(training: Partial<RunSpecInput['training']>, opts: { seed?: number; batchNormalization?: boolean; outDir?: string } = {}): TrainJob {
  const spec = parseRunSpec({
    datasetId: 1,
    seed: opts.seed ?? 11,
    backend: 'cpu',
    model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10, batchNormalization: opts.batchNormalization ?? true, dropoutRate: 0.25 }),
    training: { optimizer: { type: 'adam', learningRate: 3e-3 }, batchSize: 16, epochs: 3, maxTrainSamples: 64, ...training },
  });
  return { type: 'train', runId: 1, spec, packDir: pack, outDir: opts.outDir ?? join(dir, `out-${++n}`) };
}

const run = runJob;
const epochsOf = (msgs: EngineToMain[]): Metrics[] => msgs.filter((m): m is Metrics => m.type === 'metrics');
const doneOf = (msgs: EngineToMain[]): Done => msgs[msgs.length - 1] as Done;
/** Messages without wall-clock fields, for equality. */
const numbers = (msgs: EngineToMain[]) =>
  msgs.filter((m) => m.type === 'metrics' || m.type === 'done').map((m) => (m.type === 'metrics' ? { ...m, seconds: 0 } : { ...m, samplesPerSec: 0 }));

describe('early stopping and the best epoch', () => {
  it('stops where the rule replayed on the recorded val accuracies says, and tests the best epoch’s weights', { timeout: 120_000 }, async () => {
    const minDelta = 0.02;
    const msgs = await run(job({ epochs: 12, earlyStopping: { monitor: 'val_accuracy', patience: 2, minDelta } }));
    const ep = epochsOf(msgs);
    // The rule by hand: better = above best + minDelta; stop after 2 epochs in a row without.
    let best = -Infinity;
    let bestEpoch = -1;
    let wait = 0;
    let stop = -1;
    for (const m of ep) {
      if (m.valAccuracy! > best + minDelta) {
        best = m.valAccuracy!;
        bestEpoch = m.epoch;
        wait = 0;
      } else if (++wait >= 2) {
        stop = m.epoch;
        break;
      }
    }
    const done = doneOf(msgs);
    expect(stop).toBeGreaterThanOrEqual(0); // this data saturates: it does stop
    expect(stop).toBeLessThan(11);
    expect(ep.map((m) => m.epoch)).toEqual(Array.from({ length: stop + 1 }, (_, e) => e));
    expect(done.stoppedEarly).toBe(true);
    expect(done.testedEpoch).toBe(bestEpoch);
    expect(bestEpoch).toBeLessThan(stop); // so the test below tells the best epoch from the last

    // The tested epoch's checkpoint, reloaded, gives the reported test metrics; the last one does not claim them.
    const p = readPack(pack);
    const bestModel = await readCheckpoint(join(dir, `out-${n}`, `epoch-${bestEpoch}`));
    const again = (await evaluate(bestModel, p, p.indices.test))!;
    bestModel.dispose();
    expect(again.accuracy).toBe(done.testAccuracy);
    expect(again.loss).toBeCloseTo(done.testLoss!, 6);
    const lastModel = await readCheckpoint(join(dir, `out-${n}`, `epoch-${stop}`));
    const last = (await evaluate(lastModel, p, p.indices.test))!;
    lastModel.dispose();
    expect(last.loss).not.toBeCloseTo(done.testLoss!, 6);
  });

  it('tests the last epoch with restoreBest off', { timeout: 120_000 }, async () => {
    const msgs = await run(job({ epochs: 3, earlyStopping: { restoreBest: false } }));
    expect(doneOf(msgs).testedEpoch).toBe(2);
    expect(doneOf(msgs).stoppedEarly).toBe(false);
  });
});

describe('resume', () => {
  it.each(['adam', 'momentum', 'rmsprop'] as const)(
    '%s: cancelled after epoch 1, resumed from its checkpoint → epochs 2–3, test metrics and predictions equal the uninterrupted run (bit for bit)',
    { timeout: 180_000 },
    async (type) => {
      const training: Partial<RunSpecInput['training']> = {
        epochs: 4,
        optimizer: type === 'adam' ? { type, learningRate: 3e-3 } : { type, learningRate: type === 'momentum' ? 0.03 : 3e-3 },
        augmentation: { horizontalFlip: true, randomTranslation: 0.1, gaussianNoise: 0.05 },
        learningRateSchedule: { type: 'plateau', monitor: 'train_loss', patience: 1, factor: 0.5 },
        regularization: { l1: 0, l2: 1e-4 },
      };
      const whole = job(training);
      const a = await run(whole);
      const cut = job(training);
      const signal = { aborted: false };
      const first = await run(cut, (m) => (signal.aborted ||= m.type === 'checkpoint' && m.epoch === 1), signal);
      expect(doneOf(first).cancelled).toBe(true);
      expect(epochsOf(first).map((m) => m.epoch)).toEqual([0, 1]);
      const b = await run({ ...cut, resume: { epoch: 1 } });
      expect(epochsOf(b).map((m) => m.epoch)).toEqual([2, 3]);
      expect(numbers(b)).toEqual(numbers(a).slice(2));
      // Steps continue from the checkpoint's global step.
      const firstProgress = b.find((m) => m.type === 'progress') as Extract<EngineToMain, { type: 'progress' }>;
      expect(firstProgress.step).toBeGreaterThanOrEqual(2 * 4);
      expect(readFileSync(join(cut.outDir, 'predictions.f32')).equals(readFileSync(join(whole.outDir, 'predictions.f32')))).toBe(true);
    },
  );

  it('names the missing optimizer state file', async () => {
    const j = job({ epochs: 1 });
    await run(j);
    rmSync(join(j.outDir, 'epoch-0', 'optimizer.bin'));
    await expect(run({ ...j, resume: { epoch: 0 } })).rejects.toThrow(join(j.outDir, 'epoch-0', 'optimizer.bin'));
  });
});

describe('random labels', () => {
  it('permutes the training labels among the training items by the seed; val and test keep theirs', () => {
    const p = readPack(pack);
    const r = withRandomTrainLabels(p, 3);
    const counts = (labels: Int32Array, idx: Int32Array) => Array.from(idx, (i) => labels[i]).sort((x, y) => x - y);
    expect(counts(r.labels, p.indices.train)).toEqual(counts(p.labels, p.indices.train));
    for (const i of [...p.indices.val, ...p.indices.test]) expect(r.labels[i]).toBe(p.labels[i]);
    const changed = Array.from(p.indices.train).filter((i) => r.labels[i] !== p.labels[i]).length;
    expect(changed).toBeGreaterThan(0.8 * p.indices.train.length); // ~90 % expected with 10 balanced classes
    expect(Array.from(withRandomTrainLabels(p, 3).labels)).toEqual(Array.from(r.labels));
    expect(Array.from(withRandomTrainLabels(p, 4).labels)).not.toEqual(Array.from(r.labels));
  });
});
