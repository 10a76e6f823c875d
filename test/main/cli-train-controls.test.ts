/**
 * The CLI's training controls, in-process against a real data directory and real engines:
 * `train --set PATH=VALUE` for any spec path (stored in the run's spec; a bad path or value
 * refused with exit 2 naming it), `spec RUN` printing a run's spec that `train --spec` runs
 * again to the same numbers, and `resume RUN` continuing a run cancelled with Ctrl+C.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySets, parseSet } from '../../src/main/host/cli-set';
import { runCli } from '../../src/main/host/cli-program';
import { argv, io } from './cli-io';
import { createApp } from '../../src/main/services/app';
import type { Metric } from '../../src/shared/api';
import { parseRunSpec, type RunSpec } from '../../src/shared/spec';
import { tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { cifar, tinyCifarFolder } from './runs-helpers';

describe('--set parsing', () => {
  it('reads paths with indices and JSON or text values; applies them to a copy', () => {
    expect(parseSet('training.optimizer.learningRate=0.01')).toEqual({ path: 'training.optimizer.learningRate', segments: ['training', 'optimizer', 'learningRate'], value: 0.01 });
    expect(parseSet('model.nodes[3].layer.filters=32').segments).toEqual(['model', 'nodes', 3, 'layer', 'filters']);
    expect(parseSet('training.learningRateSchedule.type=cosine').value).toBe('cosine');
    expect(parseSet('training.randomLabels=true').value).toBe(true);
    expect(parseSet('training.augmentation={"horizontalFlip":true}').value).toEqual({ horizontalFlip: true });
    expect(() => parseSet('training.epochs')).toThrow('expected PATH=VALUE');
    expect(() => parseSet('training..epochs=3')).toThrow('is not a spec path');
    const spec = { training: { epochs: 2 }, model: { nodes: [{ layer: { filters: 8 } }] } };
    const out = applySets(spec, [parseSet('training.epochs=5'), parseSet('model.nodes[0].layer.filters=16'), parseSet('training.earlyStopping.patience=2')]);
    expect(out).toEqual({ training: { epochs: 5, earlyStopping: { patience: 2 } }, model: { nodes: [{ layer: { filters: 16 } }] } });
    expect(spec.training.epochs).toBe(2);
    expect(() => applySets(spec, [parseSet('training.epochs.x=1')])).toThrow('training.epochs is 2, not an object');
  });
});

describe.skipIf(!cifar)('train --set, spec RUN, resume RUN (real engines)', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  beforeAll(async () => {
    dir = tempDataDir();
    input = tempDir();
    tinyCifarFolder(input.path, ['airplane', 'cat'], 20);
    expect(await runCli(argv('import', input.path, '--name', 'tiny', '--data-dir', dir.root), io())).toBe(0);
  }, 120_000);
  afterAll(() => {
    input?.cleanup();
    dir?.cleanup();
  });

  const stored = (runId: number): { spec: RunSpec; metrics: Metric[]; status: string } => {
    const app = createApp({ dataDir: dir.root });
    try {
      const r = app.runs.get(runId);
      return { spec: r.spec, metrics: app.runs.metrics(runId), status: r.status };
    } finally {
      app.runs.dispose();
      app.db.close();
    }
  };
  const epochNumbers = (ms: Metric[]) => ms.filter((m) => m.step === null && !m.name.endsWith('seconds')).map((m) => `${m.name}@${m.epoch}=${m.value}`);

  it('train --set writes any spec path into the run; spec RUN prints it; train --spec of that file gives the same numbers', { timeout: 240_000 }, async () => {
    const o = io();
    const code = await runCli(
      argv('train', '--dataset', 'tiny', '--preset', 'linear', '--epochs', '3', '--data-dir', dir.root,
        '--set', 'training.earlyStopping.monitor=val_loss', '--set', 'training.learningRateSchedule={"type":"cosine","warmupEpochs":1}',
        '--set', 'training.optimizer.learningRate=0.003', '--set', 'seed=9'),
      o,
    );
    expect(code, o.errors.join('\n')).toBe(0);
    expect(o.lines.join('\n')).toMatch(/test accuracy .* \(weights of epoch \d\)/);
    const first = stored(1);
    expect(first.spec.training.earlyStopping).toEqual({ monitor: 'val_loss', patience: 0, minDelta: 0, mode: 'auto', restoreBest: true });
    expect(first.spec.training.learningRateSchedule).toEqual({ type: 'cosine', warmupEpochs: 1, minLearningRate: 0 });
    expect(first.spec.training.optimizer.learningRate).toBe(0.003);
    expect(first.spec.seed).toBe(9);
    // Learning rates by epoch: 0.003·1/2, then the cosine from 0.003 over 2 epochs.
    expect(first.metrics.filter((m) => m.name === 'learning_rate').map((m) => m.value)).toEqual([0.0015, 0.003, 0.0015 * (1 + Math.cos(Math.PI / 2))]);

    const file = join(input.path, 'run1.json');
    const s = io();
    expect(await runCli(argv('spec', '1', '--out', file, '--data-dir', dir.root), s)).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(parseRunSpec(first.spec));
    const t = io();
    expect(await runCli(argv('train', '--spec', file, '--data-dir', dir.root), t), t.errors.join('\n')).toBe(0);
    expect(epochNumbers(stored(2).metrics)).toEqual(epochNumbers(first.metrics));
  });

  it('refuses a bad --set with exit 2, naming the path', async () => {
    let o = io();
    expect(await runCli(argv('train', '--dataset', 'tiny', '--preset', 'linear', '--data-dir', dir.root, '--set', 'training.batchSize=0'), o)).toBe(2);
    expect(o.errors.join('\n')).toContain('--set training.batchSize=0: training.batchSize');
    o = io();
    expect(await runCli(argv('train', '--dataset', 'tiny', '--preset', 'linear', '--data-dir', dir.root, '--set', 'training.earlyStoping.patience=2'), o)).toBe(2);
    expect(o.errors.join('\n')).toMatch(/--set training\.earlyStoping\.patience=2: training: .*earlyStoping/);
  });

  it('resume RUN continues a run cancelled with Ctrl+C to the end', { timeout: 240_000 }, async () => {
    let epochsSeen = 0;
    const o = io((line, interrupt) => {
      if (/^epoch \d+:/.test(line) && ++epochsSeen === 2) interrupt();
    });
    expect(await runCli(argv('train', '--dataset', 'tiny', '--preset', 'linear', '--epochs', '40', '--batch-size', '1', '--data-dir', dir.root), o)).toBe(130);
    const runId = 3;
    expect(stored(runId).status).toBe('cancelled');
    const r = io();
    expect(await runCli(argv('resume', String(runId), '--data-dir', dir.root), r), r.errors.join('\n')).toBe(0);
    expect(r.lines[0]).toMatch(new RegExp(`^run ${runId}: resuming after epoch \\d+`));
    expect(r.lines.join('\n')).toContain(`run ${runId} completed`);
    const after = stored(runId);
    expect(after.metrics.filter((m) => m.name === 'train_loss').map((m) => m.epoch)).toEqual(Array.from({ length: 40 }, (_, e) => e));
    // A completed run is not resumed.
    const again = io();
    expect(await runCli(argv('resume', String(runId), '--data-dir', dir.root), again)).toBe(1);
    expect(again.errors.join('\n')).toContain('is completed');
  });
});
