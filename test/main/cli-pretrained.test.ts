/**
 * A fine-tune from the command line, as a user runs it (in-process runCli, the real engine):
 * `layerwise import` the hymenoptera folder, `layerwise spec --pretrained` MobileNet v1
 * 0.5/160 for that dataset (ImageNet's labels found beside the model file; the fine-tune
 * training defaults written in), `layerwise train --spec` it for 2 epochs with those defaults.
 * Checks the spec file against the model file (path, SHA-256, input range, head start from
 * "ant" / "bee" in the dataset's class order, freeze point) and the run's validation accuracy
 * against the zero-shot reference (144/153 = 94.1 %, ../shared/data/README.md).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../../src/main/host/cli-program';
import { sharedData, tempDataDir, tempDir, type TempDataDir } from '../helpers';

const models = sharedData('mobilenet-tflite');
const hymen = sharedData('hymenoptera');

function io(): CliIO & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), progressStream: { isTTY: false } as NodeJS.WriteStream, onInterrupt: () => () => {} };
}
const argv = (...args: string[]): string[] => ['node', 'layerwise', ...args];

describe.skipIf(!models || !hymen)('layerwise spec --pretrained / train --spec (fine-tune MobileNet v1 0.5/160 on hymenoptera)', () => {
  let dir: TempDataDir;
  let out: { path: string; cleanup(): void };
  beforeAll(() => {
    dir = tempDataDir();
    out = tempDir();
  });
  afterAll(() => {
    out?.cleanup();
    dir?.cleanup();
  });

  it('writes the fine-tune spec and trains it to ≥ 90 % validation accuracy in 2 epochs', async () => {
    let o = io();
    expect(await runCli(argv('import', hymen!, '--name', 'hymenoptera', '--data-dir', dir.root), o)).toBe(0);

    const model = join(models!, 'mobilenet_v1_0.5_160_quant.tflite');
    const specFile = join(out.path, 'ft.json');
    o = io();
    expect(await runCli(argv('spec', '--pretrained', model, '--dataset', 'hymenoptera', '--out', specFile, '--data-dir', dir.root), o)).toBe(0);
    expect(o.errors).toEqual([]);
    expect(o.lines.join('\n')).toContain('frozen up to MobilenetV1/Conv2d_12_pointwise; the head from the file\'s classes ants → "ant, emmet, pismire", bees → "bee" (labels from imagenet_labels.txt beside the model file)');
    // The fine-tune defaults, not the from-scratch ones (Adam 1e-3, batch 64 = 4 steps per epoch on the 245 training photos).
    expect(o.lines.join('\n')).toContain('fine-tune defaults: learning rate 0.0001 (a tenth of 0.001), batch size 16, 16 steps per epoch on 245 training images');
    const spec = JSON.parse(readFileSync(specFile, 'utf8'));
    expect(spec.datasetId).toBe(1);
    expect(spec.model.inputShape).toEqual([160, 160, 3]);
    expect(spec.model.nodes.at(-1)).toMatchObject({ name: 'logits', layer: { type: 'dense', units: 2 } });
    expect(spec.pretrained).toMatchObject({ format: 'tflite', file: model, backbone: 'mobilenet_v1_0.5_160_quant', inputRange: 'symmetric', resize: 'cover', freezeUpTo: 'MobilenetV1/Conv2d_12_pointwise', headInit: [311, 310], foldedBatchNorm: true });
    expect(spec.training).toEqual({ batchSize: 16, optimizer: { type: 'adam', learningRate: 0.0001 } });
    expect(spec.pretrained.sha256).toBe(createHash('sha256').update(readFileSync(model)).digest('hex'));

    // runs.start refuses a file that changed since the spec was made, or a relative path, before any run exists.
    const bad = join(out.path, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...spec, pretrained: { ...spec.pretrained, sha256: '0'.repeat(64) } }));
    o = io();
    expect(await runCli(argv('train', '--spec', bad, '--epochs', '1', '--data-dir', dir.root), o)).not.toBe(0);
    expect(o.errors.join('\n')).toContain(`pretrained.file: ${model} has SHA-256 ${spec.pretrained.sha256}, the spec records ${'0'.repeat(64)}`);
    writeFileSync(bad, JSON.stringify({ ...spec, pretrained: { ...spec.pretrained, file: 'm.tflite' } }));
    o = io();
    expect(await runCli(argv('train', '--spec', bad, '--epochs', '1', '--data-dir', dir.root), o)).not.toBe(0);
    expect(o.errors.join('\n')).toContain('pretrained.file: "m.tflite" is not an absolute path');

    o = io();
    const code = await runCli(argv('train', '--spec', specFile, '--epochs', '2', '--seed', '7', '--data-dir', dir.root), o);
    const text = o.lines.join('\n');
    console.log(`[cli fine-tune]\n${text}`);
    expect(o.errors).toEqual([]);
    expect(code).toBe(0);
    expect(text).toMatch(/run 1 completed/);
    const db = dir.openDb();
    const vals = (db.prepare("SELECT value AS v FROM metrics WHERE run_id = 1 AND name = 'val_accuracy' ORDER BY epoch").all() as { v: number }[]).map((r) => r.v);
    expect(vals.length).toBe(2);
    expect(Math.max(...vals)).toBeGreaterThanOrEqual(0.9);
    const stored = JSON.parse((db.prepare('SELECT spec FROM runs WHERE id = 1').get() as { spec: string }).spec);
    expect(stored.pretrained.headInit).toEqual([311, 310]);
  }, 900_000);
});
