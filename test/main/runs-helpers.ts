/**
 * Helpers for the run / host / CLI tests: a tiny real image folder (2 CIFAR-10 classes),
 * an engine launcher that records the processes it starts, and fake engine scripts.
 */
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultEngineEntry, NodeEngineLauncher, type EngineLauncher, type EngineProcess, type LaunchOptions } from '../../src/main/engine-launcher';
import type { RunSpecInput } from '../../src/shared/spec';
import { buildPreset } from '../../src/shared/spec';
import { sharedData } from '../helpers';

export const cifar = sharedData('cifar10-subset');

/** Copy `perClass` images of each of `classes` from the CIFAR-10 subset's test split into `dir/<class>/`. */
export function tinyCifarFolder(dir: string, classes = ['airplane', 'cat'], perClass = 20): string {
  if (!cifar) throw new Error('shared data cifar10-subset is absent');
  for (const c of classes) {
    const from = join(cifar, 'test', c);
    mkdirSync(join(dir, c), { recursive: true });
    for (const f of readdirSync(from).filter((n) => n.endsWith('.png')).sort().slice(0, perClass)) copyFileSync(join(from, f), join(dir, c, f));
  }
  return dir;
}

/** Records every engine it launches (to kill one in a test). */
export class RecordingLauncher implements EngineLauncher {
  readonly launched: EngineProcess[] = [];
  /** The options of each launch, in order. */
  readonly options: (LaunchOptions | undefined)[] = [];
  constructor(private readonly inner: EngineLauncher = new NodeEngineLauncher(defaultEngineEntry())) {}
  launch(opts?: LaunchOptions): EngineProcess {
    const p = this.inner.launch(opts);
    this.launched.push(p);
    this.options.push(opts);
    return p;
  }
}

/** A launcher running a small CommonJS script as the "engine" (for failure paths). */
export function scriptLauncher(dir: string, name: string, source: string): RecordingLauncher {
  const file = join(dir, `${name}.cjs`);
  writeFileSync(file, source);
  return new RecordingLauncher(new NodeEngineLauncher({ entry: file }));
}

/** A linear-classifier spec for a 2-class 32×32×3 dataset. */
export function linearSpec(datasetId: number, over: { epochs?: number; batchSize?: number; numClasses?: number } = {}): RunSpecInput {
  return {
    datasetId,
    model: buildPreset('linear', { inputShape: [32, 32, 3], numClasses: over.numClasses ?? 2 }),
    training: { optimizer: { type: 'sgd', learningRate: 0.01 }, batchSize: over.batchSize ?? 8, epochs: over.epochs ?? 1 },
    seed: 1,
    backend: 'auto',
  };
}
