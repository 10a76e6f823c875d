/**
 * `layerwise spec`, `layerwise describe` and `layerwise train --spec FILE` / the deep presets:
 * in-process (runCli, the real engine from the sources) on a tiny CIFAR folder, and the
 * built bin/layerwise.cjs process when the build exists (`npx electron-vite build`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../../src/main/host/cli-program';
import { buildPreset, type ModelSpec, type RunSpec } from '../../src/shared/spec';
import { REPO_ROOT, tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { cifar, tinyCifarFolder } from './runs-helpers';

function io(): CliIO & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), progressStream: { isTTY: false } as NodeJS.WriteStream, onInterrupt: () => () => undefined };
}
const argv = (...args: string[]): string[] => ['node', 'layerwise', ...args];

describe('layerwise spec / describe (no data directory)', () => {
  let tmp: { path: string; cleanup(): void };
  beforeAll(() => (tmp = tempDir('layerwise-spec-')));
  afterAll(() => tmp?.cleanup());

  it('spec prints the preset\'s model spec as JSON; --out writes the same to a file', async () => {
    const o = io();
    expect(await runCli(argv('spec', '--preset', 'resnet20', '--input-size', '32x32x3', '--classes', '10'), o)).toBe(0);
    const printed = JSON.parse(o.lines.join('\n')) as ModelSpec;
    expect(printed).toEqual(buildPreset('resnet20', { inputShape: [32, 32, 3], numClasses: 10 }));
    const file = join(tmp.path, 'resnet20.json');
    const w = io();
    expect(await runCli(argv('spec', '--preset', 'resnet20', '--input-size', '32x32x3', '--classes', '10', '--out', file), w)).toBe(0);
    expect(w.lines).toEqual([`wrote ${file}: resnet20, 72 nodes, input 32×32×3, 10 classes`]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(printed);
  });

  it('describe --spec prints the layer table and totals (ResNet-20: 272,474 trainable parameters); --preset the same table', async () => {
    const file = join(tmp.path, 'r20.json');
    expect(await runCli(argv('spec', '--preset', 'resnet20', '--input-size', '32x32x3', '--classes', '10', '--out', file), io())).toBe(0);
    const o = io();
    expect(await runCli(argv('describe', '--spec', file), o)).toBe(0);
    expect(o.lines[0]).toMatch(/^node\s+type\s+inputs\s+output\s+params\s+mult-adds$/);
    expect(o.lines).toHaveLength(2 + 72 + 1);
    expect(o.lines.find((l) => l.startsWith('stage2_block1_add '))).toMatch(/^stage2_block1_add\s+add\s+stage2_block1_conv2_bn, stage2_block1_shortcut_bn\s+16×16×32\s+0\s+0$/);
    expect(o.lines.find((l) => l.startsWith('conv1 '))).toMatch(/^conv1\s+conv2d\s+input\s+32×32×16\s+432\s+442,368$/);
    expect(o.lines.at(-1)).toBe('total: 72 nodes, 274,042 parameters (272,474 trainable), 40,813,184 multiply-adds per image; input 32×32×3, 10 classes');
    const p = io();
    expect(await runCli(argv('describe', '--preset', 'resnet20', '--input-size', '32x32x3', '--classes', '10'), p)).toBe(0);
    expect(p.lines).toEqual(o.lines);
    const m = io();
    expect(await runCli(argv('describe', '--preset', 'mobilenet', '--input-size', '224x224x3', '--classes', '1000'), m)).toBe(0);
    expect(m.lines.at(-1)).toContain('(4,231,976 trainable), 568,740,352 multiply-adds');
  });

  it('describe refuses a bad file naming the file and the field path (exit 2), and a preset without its input size', async () => {
    const spec = buildPreset('resnet20', { inputShape: [32, 32, 3], numClasses: 10 });
    (spec.nodes![3].layer as { filters: number }).filters = 0;
    const bad = join(tmp.path, 'bad.json');
    writeFileSync(bad, JSON.stringify(spec));
    let o = io();
    expect(await runCli(argv('describe', '--spec', bad), o)).toBe(2);
    expect(o.errors.join('\n')).toContain(`${bad}: model.nodes[3].layer.filters: Too small`);
    // A misfit found by the shapes, not the schema: the node and the shapes.
    const tiny = join(tmp.path, 'tiny.json');
    writeFileSync(tiny, JSON.stringify({ ...buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }), inputShape: [8, 8, 1] }));
    o = io();
    expect(await runCli(argv('describe', '--spec', tiny), o)).toBe(2);
    expect(o.errors.join('\n')).toMatch(new RegExp(`${tiny.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: model.nodes\\[\\d+\\] \\("conv2d_2", conv2d\\): output would be empty`));
    const notJson = join(tmp.path, 'x.json');
    writeFileSync(notJson, '{ nodes: ');
    o = io();
    expect(await runCli(argv('describe', '--spec', notJson), o)).toBe(2);
    expect(o.errors.join('\n')).toContain(`${notJson}: not valid JSON`);
    o = io();
    expect(await runCli(argv('describe', '--spec', join(tmp.path, 'missing.json')), o)).toBe(2);
    expect(o.errors.join('\n')).toContain('missing.json: cannot read the spec file (ENOENT)');
    o = io();
    expect(await runCli(argv('describe', '--preset', 'vgg16'), o)).toBe(2);
    expect(o.errors.join('\n')).toContain('--preset needs --input-size HxWxC and --classes K');
    o = io();
    expect(await runCli(argv('spec', '--preset', 'mobilenet', '--input-size', '32x32x3', '--classes', '10', '--width-multiplier', '9'), o)).toBe(2);
  });
});

describe.skipIf(!cifar)('layerwise train --spec / deep presets (in-process, real engine)', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  const storedSpec = (runId: number): RunSpec => JSON.parse((dir.openDb().prepare('SELECT spec FROM runs WHERE id = ?').get(runId) as { spec: string }).spec) as RunSpec;
  const runIdOf = (o: { lines: string[] }): number => Number(/^run (\d+):/.exec(o.lines.find((l) => /^run \d+:/.test(l)) ?? '')?.[1]);
  beforeAll(async () => {
    dir = tempDataDir();
    input = tempDir();
    tinyCifarFolder(input.path);
    expect(await runCli(argv('import', input.path, '--name', 'tiny', '--data-dir', dir.root), io())).toBe(0);
  });
  afterAll(() => {
    input?.cleanup();
    dir?.cleanup();
  });

  it('train --preset resnet20 (a deep preset) trains and stores the ResNet-20 graph', async () => {
    const o = io();
    const code = await runCli(argv('train', '--dataset', 'tiny', '--preset', 'resnet20', '--width-multiplier', '0.25', '--epochs', '1', '--batch-size', '8', '--max-train-samples', '8', '--data-dir', dir.root), o);
    // One training step: the only message is the warning that batch normalization has not settled.
    expect(o.errors).toEqual([expect.stringMatching(/^warning: Batch normalization's moving statistics \(momentum 0\.9\) have not settled: 1 training step, about 30 needed/)]);
    expect(code).toBe(0);
    const text = o.lines.join('\n');
    expect(text).toMatch(/run \d+: resnet20 on "tiny" \(2 classes, input 32×32×3\), 1 epoch, batch 8/);
    expect(text).toMatch(/run \d+ completed/);
    const spec = storedSpec(runIdOf(o));
    expect(spec.model.nodes!.map((n) => n.name)).toEqual(buildPreset('resnet20', { inputShape: [32, 32, 3], numClasses: 2, widthMultiplier: 0.25 }).nodes!.map((n) => n.name));
  });

  it('train --spec with an edited model spec file: the file\'s graph, the flags\' training', async () => {
    const file = join(input.path, '..', `edited-${process.pid}.json`);
    expect(await runCli(argv('spec', '--preset', 'mobilenet', '--input-size', '32x32x3', '--classes', '2', '--width-multiplier', '0.25', '--out', file), io())).toBe(0);
    const model = JSON.parse(readFileSync(file, 'utf8')) as ModelSpec;
    const node = model.nodes!.find((n) => n.name === 'pw_conv13')!;
    (node.layer as { filters: number }).filters = 48; // edit: a narrower last block
    writeFileSync(file, JSON.stringify(model, null, 2));
    const o = io();
    const code = await runCli(argv('train', '--dataset', 'tiny', '--spec', file, '--epochs', '1', '--batch-size', '4', '--max-train-samples', '8', '--optimizer', 'sgd', '--data-dir', dir.root), o);
    expect(o.errors).toEqual([expect.stringMatching(/^warning: Batch normalization's moving statistics .* not settled: 2 training steps/)]);
    expect(code).toBe(0);
    expect(o.lines[0]).toBe(`run ${runIdOf(o)}: mobilenet (${file}) on "tiny" (2 classes, input 32×32×3), 1 epoch, batch 4`);
    const spec = storedSpec(runIdOf(o));
    expect(spec.model).toEqual(model);
    expect(spec.training).toMatchObject({ epochs: 1, batchSize: 4, maxTrainSamples: 8, optimizer: { type: 'sgd', learningRate: 0.01 } });
  });

  it('train --spec with a whole run spec: its datasetId and training, flags typed on the command line override', async () => {
    const file = join(input.path, '..', `run-${process.pid}.json`);
    const run = {
      datasetId: 1,
      model: buildPreset('lenet5', { inputShape: [32, 32, 3], numClasses: 2 }),
      training: { optimizer: { type: 'adam', learningRate: 0.002 }, batchSize: 5, epochs: 3, maxTrainSamples: 10 },
      seed: 9,
    };
    writeFileSync(file, JSON.stringify(run));
    const o = io();
    const code = await runCli(argv('train', '--spec', file, '--epochs', '1', '--data-dir', dir.root), o);
    expect(o.errors).toEqual([]);
    expect(code).toBe(0);
    const spec = storedSpec(runIdOf(o));
    expect(spec.datasetId).toBe(1);
    expect(spec.seed).toBe(9);
    expect(spec.training).toMatchObject({ epochs: 1, batchSize: 5, maxTrainSamples: 10, optimizer: { type: 'adam', learningRate: 0.002 } });
    // A bad field of the run spec: the file and the path.
    writeFileSync(file, JSON.stringify({ ...run, training: { ...run.training, batchSize: 0 } }));
    const bad = io();
    expect(await runCli(argv('train', '--spec', file, '--data-dir', dir.root), bad)).toBe(2);
    expect(bad.errors.join('\n')).toContain(`${file}: training.batchSize: Too small`);
  });

  it('train --spec refuses: no --dataset for a model spec, a class count the dataset lacks, preset flags, both --preset and --spec', async () => {
    const file = join(input.path, '..', `ten-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(buildPreset('lenet5', { inputShape: [32, 32, 3], numClasses: 10 })));
    let o = io();
    expect(await runCli(argv('train', '--spec', file, '--data-dir', dir.root), o)).toBe(2);
    expect(o.errors.join('\n')).toContain(`--dataset: required (${file} has no datasetId)`);
    o = io();
    expect(await runCli(argv('train', '--spec', file, '--dataset', 'tiny', '--data-dir', dir.root), o)).toBe(2);
    expect(o.errors.join('\n')).toContain(`${file}: model.numClasses: the dataset "tiny" has 2 classes but the model outputs 10`);
    o = io();
    expect(await runCli(argv('train', '--spec', file, '--dataset', 'tiny', '--dropout', '0.2', '--data-dir', dir.root), o)).toBe(2);
    expect(o.errors.join('\n')).toContain('--dropout shapes a preset; with --spec, edit the spec file instead');
    o = io();
    expect(await runCli(argv('train', '--spec', file, '--preset', 'linear', '--dataset', 'tiny', '--data-dir', dir.root), o)).toBe(2);
    o = io();
    expect(await runCli(argv('train', '--dataset', 'tiny', '--data-dir', dir.root), o)).toBe(2);
    expect(o.errors.join('\n')).toContain('give --preset <preset> or --spec <file>');
    expect(dir.openDb().prepare("SELECT COUNT(*) AS n FROM runs WHERE preset = 'lenet5' AND spec LIKE '%\"numClasses\":10%'").get()).toEqual({ n: 0 });
  });
});

const builtCli = join(REPO_ROOT, 'out', 'main', 'cli.js');
describe.skipIf(!existsSync(builtCli))('bin/layerwise.cjs spec | describe (built CLI process)', () => {
  it('exports a preset to a file and prints its table from that file', () => {
    const tmp = tempDir('layerwise-spec-bin-');
    try {
      const bin = join(REPO_ROOT, 'bin', 'layerwise.cjs');
      const file = join(tmp.path, 'inception.json');
      const spec = spawnSync(process.execPath, [bin, 'spec', '--preset', 'inception', '--input-size', '28x28x1', '--classes', '10', '--out', file], { encoding: 'utf8' });
      expect(spec.status, spec.stderr).toBe(0);
      const table = spawnSync(process.execPath, [bin, 'describe', '--spec', file], { encoding: 'utf8' });
      expect(table.status, table.stderr).toBe(0);
      expect(table.stdout).toMatch(/^inception3a_output\s+concatenate\s+inception3a_1x1, inception3a_3x3, inception3a_5x5, inception3a_pool_proj\s+7×7×128\s/m);
      expect(table.stdout).toMatch(/^total: 33 nodes, /m);
    } finally {
      tmp.cleanup();
    }
  });
});
