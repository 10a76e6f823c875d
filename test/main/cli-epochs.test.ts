/**
 * Epoch numbers in the CLI are 1-based like the run page (trial item 5): on a LeNet-5 trained 3
 * epochs here, `attack RUN --epoch 1` attacks the checkpoint the run stores as epoch 0 (its clean
 * accuracy is that of an attack job on stored epoch 0, not on epoch 1) and prints "epoch 1";
 * without --epoch it attacks the tested epoch and prints it 1-based; `export --epoch 1` writes
 * the stored epoch-0 checkpoint and says "epoch 1"; --epoch 0 is refused. And `train` warns when a
 * batch-normalization run had fewer steps than its moving statistics need (bnUnsettledWarning).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/main/host/cli-program';
import type { RunDetail } from '../../src/shared/api';
import type { AttackResult } from '../../src/shared/attack';
import type { ExportResult } from '../../src/shared/export';
import { argv, io } from './cli-io';
import { cifar } from './runs-helpers';
import { jobFinished, trainedLenet, type TrainedRun } from './trained-run';

describe.skipIf(!cifar)('1-based epochs in attack and export (LeNet-5, 3 epochs on 2 CIFAR-10 classes)', () => {
  let trained: TrainedRun;
  beforeAll(async () => {
    trained = await trainedLenet(3);
  }, 240_000);
  afterAll(async () => {
    await trained?.close();
  });

  /** Clean accuracy on the train split from an attack job on stored (0-based) epoch `epoch`. */
  async function cleanAt(epoch: number): Promise<number> {
    const { app, runId } = trained;
    const { jobId } = (await app.handle('attack.start', { runId, epoch, params: { methods: ['fgsm'], epsilons: [0], split: 'train', galleryCount: 0 } })) as { jobId: number };
    expect((await jobFinished(app, jobId)).status).toBe('completed');
    return ((await app.handle('attack.result', { jobId })) as AttackResult).cleanAccuracy;
  }

  it('attack --epoch 1 is the first epoch (stored 0); the default is the tested epoch, printed 1-based', async () => {
    const { app, runId } = trained;
    const args = (...a: string[]) => argv('attack', String(runId), '--method', 'fgsm', '--eps', '0', '--split', 'train', '--data-dir', app.paths.root, ...a);
    const out = io();
    expect(await runCli(args('--epoch', '1', '--json'), out), out.errors.join('\n')).toBe(0);
    const j = JSON.parse(out.lines.join('\n')) as AttackResult & { epoch: number };
    expect(j.epoch).toBe(1);
    const [first, last] = [await cleanAt(0), await cleanAt(2)];
    expect(j.cleanAccuracy).toBe(first);
    const text = io();
    expect(await runCli(args(), text), text.errors.join('\n')).toBe(0);
    const tested = ((await app.handle('runs.get', { runId })) as RunDetail).bestEpoch!;
    expect(text.lines[0]).toMatch(new RegExp(`^run ${runId}, epoch ${tested + 1}, `));
    console.log(`clean train accuracy: epoch 1 ${first}, epoch 3 ${last}; tested epoch ${tested + 1}`);
    expect(await runCli(args('--epoch', '0'), io())).not.toBe(0);
  }, 180_000);

  it('train warns when batch normalization had too few steps to settle (item 1); not without BN', async () => {
    const { app } = trained;
    const bn = io();
    expect(await runCli(argv('train', '--dataset', 'tiny', '--preset', 'mlp', '--batch-normalization', '--epochs', '1', '--batch-size', '8', '--data-dir', app.paths.root), bn), bn.errors.join('\n')).toBe(0);
    expect(bn.errors.join('\n')).toMatch(/^warning: Batch normalization's moving statistics \(momentum 0\.9\) have not settled: \d training steps, about 30 needed/m);
    const plain = io();
    expect(await runCli(argv('train', '--dataset', 'tiny', '--preset', 'mlp', '--epochs', '1', '--batch-size', '8', '--data-dir', app.paths.root), plain), plain.errors.join('\n')).toBe(0);
    expect(plain.errors).toEqual([]);
  }, 120_000);

  it('export --epoch 1 writes the stored epoch-0 checkpoint and says epoch 1', async () => {
    const { app, runId } = trained;
    const out = io();
    expect(await runCli(argv('export', String(runId), '--format', 'tfjs', '--epoch', '1', '--data-dir', app.paths.root), out), out.errors.join('\n')).toBe(0);
    expect(out.lines[0]).toMatch(new RegExp(`^run ${runId}, epoch 1 → .*tfjs-epoch-0`));
    const r = (await app.handle('runs.export', { runId, format: 'tfjs', epoch: 0 })) as ExportResult;
    expect(r.signature.run.epoch).toBe(0);
  }, 120_000);
});
