/**
 * The `layerwise` CLI: in-process (runCli, engine from the sources) and, when the build
 * exists, the real bin/layerwise.cjs process with Ctrl+C (SIGINT) during training.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInputSize, runCli, table } from '../../src/main/host/cli-program';
import { argv, io } from './cli-io';
import { defaultRunForm } from '../../src/renderer/lib/runForm';
import type { RunSpec } from '../../src/shared/spec';
import { REPO_ROOT, tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { childrenOf, processAlive } from '../helpers/proc';
import { cifar, tinyCifarFolder } from './runs-helpers';

describe('CLI helpers', () => {
  it('parses --input-size HxWxC', () => {
    expect(parseInputSize('28x28x1')).toEqual([28, 28, 1]);
    expect(() => parseInputSize('28x28')).toThrow('HxWxC');
    expect(() => parseInputSize('28x28x2')).toThrow('HxWxC');
  });
  it('serve --no-token is refused off loopback (exit 2, before anything listens)', async () => {
    const o = io();
    expect(await runCli(argv('serve', '--no-token', '--host', '0.0.0.0', '--port', '0'), o)).toBe(2);
    expect(o.errors.join('\n')).toContain('--no-token is allowed on a loopback address only');
  });
  it('pads tables', () => {
    expect(table(['id', 'name'], [['1', 'linear']])).toEqual(['id  name', '--  ------', '1   linear']);
  });
});

describe.skipIf(!cifar)('layerwise import / train / runs (in-process, real engine)', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  beforeAll(() => {
    dir = tempDataDir();
    input = tempDir();
    tinyCifarFolder(input.path);
  });
  afterAll(() => {
    input?.cleanup();
    dir?.cleanup();
  });

  it('imports a folder', async () => {
    const o = io();
    expect(await runCli(argv('import', input.path, '--name', 'tiny', '--data-dir', dir.root), o)).toBe(0);
    expect(o.lines.join('\n')).toContain('import done: 40 images imported');
    expect(o.lines.join('\n')).toMatch(/dataset 1 "tiny": 40 images, 2 classes/);
  });

  it('trains linear for 1 epoch and prints per-epoch metrics and the test accuracy', async () => {
    const o = io();
    const code = await runCli(argv('train', '--dataset', 'tiny', '--preset', 'linear', '--epochs', '1', '--batch-size', '8', '--optimizer', 'sgd', '--seed', '3', '--data-dir', dir.root), o);
    const text = o.lines.join('\n');
    expect(o.errors).toEqual([]);
    expect(code).toBe(0);
    expect(text).toContain('run 1: linear on "tiny" (2 classes, input 32×32×3), 1 epoch, batch 8');
    expect(text).toMatch(/epoch 1: train loss \d+\.\d+ acc \d+\.\d+%/);
    expect(text).toMatch(/run 1 completed/);
    expect(text).toMatch(/test accuracy \d+\.\d+%/);
  });

  it('train without --batch-size, --epochs, --seed or --optimizer stores the New-run form\'s defaults', async () => {
    const o = io();
    const code = await runCli(argv('train', '--dataset', 'tiny', '--preset', 'linear', '--max-train-samples', '8', '--data-dir', dir.root), o);
    expect(o.errors).toEqual([]);
    expect(code).toBe(0);
    const runId = Number(/^run (\d+):/.exec(o.lines[0])![1]);
    const db = dir.openDb();
    const spec = JSON.parse((db.prepare('SELECT spec FROM runs WHERE id = ?').get(runId) as { spec: string }).spec) as RunSpec;
    const form = defaultRunForm();
    expect(spec.training.batchSize).toBe(form.training.batchSize);
    expect(spec.training.epochs).toBe(form.training.epochs);
    expect(spec.seed).toBe(form.seed);
    expect(spec.training.optimizer).toMatchObject({ type: form.training.optimizer.type, learningRate: form.training.optimizer.learningRate });
    expect(spec.backend).toBe(form.backend);
  });

  it('refuses bad options (exit 2) and an unknown dataset (exit 1)', async () => {
    let o = io();
    expect(await runCli(argv('train', '--dataset', 'tiny', '--preset', 'linear', '--batch-size', '0', '--data-dir', dir.root), o)).toBe(2);
    expect(o.errors.join('\n')).toContain('--batch-size');
    o = io();
    expect(await runCli(argv('train', '--dataset', 'tiny', '--preset', 'vgg', '--data-dir', dir.root), o)).toBe(2);
    o = io();
    expect(await runCli(argv('train', '--dataset', 'nope', '--preset', 'linear', '--data-dir', dir.root), o)).toBe(1);
    expect(o.errors.join('\n')).toContain('dataset "nope" not found');
    o = io();
    expect(await runCli(argv('train', '--dataset', '1', '--preset', 'linear', '--input-size', '2x2x3', '--data-dir', dir.root), o)).toBe(2);
    expect(o.errors.join('\n')).toContain('model.inputShape');
  });

  it('Ctrl+C during train cancels the run cleanly (exit 130, status cancelled)', async () => {
    const o = io((line, interrupt) => {
      if (line.startsWith('training on')) interrupt();
    });
    const code = await runCli(argv('train', '--dataset', '1', '--preset', 'mlp', '--epochs', '500', '--batch-size', '1', '--data-dir', dir.root), o);
    expect(code).toBe(130);
    expect(o.lines.join('\n')).toMatch(/cancelling the run[\s\S]*run \d+ cancelled/);
  });

  it('reassigns splits', async () => {
    const o = io();
    expect(await runCli(argv('split', 'tiny', '--train', '50', '--val', '25', '--test', '25', '--seed', '1', '--data-dir', dir.root), o)).toBe(0);
    expect(o.lines.join('\n')).toContain('train 20, val 10, test 10');
    const bad = io();
    expect(await runCli(argv('split', 'tiny', '--train', '50', '--val', '10', '--test', '10', '--data-dir', dir.root), bad)).toBe(2);
    expect(bad.errors.join('\n')).toContain('split.train');
  });

  it('lists runs', async () => {
    const o = io();
    expect(await runCli(argv('runs', '--data-dir', dir.root), o)).toBe(0);
    expect(o.lines[0]).toMatch(/^id\s+name\s+dataset\s+preset\s+status/);
    const text = o.lines.join('\n');
    expect(text).toMatch(/^\d+\s.*\sLinear\s+(completed|cancelled)/m); // the model named as the UI names it, not the preset's key
    expect(text).toContain('completed');
    expect(text).toContain('cancelled');
    const db = dir.openDb();
    db.prepare("UPDATE items SET excluded = 1, exclude_reason = 'blurry' WHERE id IN (SELECT id FROM items ORDER BY id LIMIT 2)").run();
    const d = io();
    expect(await runCli(argv('datasets', '--data-dir', dir.root), d)).toBe(0);
    expect(d.lines.join('\n')).toContain('32×32×3');
    // Excluded images are counted apart, as on the dataset page.
    expect(d.lines[0]).toMatch(/^id\s+name\s+images\s+excluded\s+classes/);
    expect(d.lines[2]).toMatch(/^\d+\s+\S+\s+\d+\s+2\s+/);
  });
});

const builtCli = join(REPO_ROOT, 'out', 'main', 'cli.js');
describe.skipIf(!cifar || !existsSync(builtCli))('bin/layerwise.cjs (built CLI process)', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  const bin = join(REPO_ROOT, 'bin', 'layerwise.cjs');
  beforeAll(() => {
    dir = tempDataDir();
    input = tempDir();
    tinyCifarFolder(input.path);
  });
  afterAll(() => {
    input?.cleanup();
    dir?.cleanup();
  });

  /** Start `layerwise train` (long) in its own process group; resolves once it reports training. */
  async function startTraining(): Promise<{ child: ChildProcessWithoutNullStreams; exited: Promise<number | null>; output: () => string }> {
    const child = spawn(process.execPath, [bin, 'train', '--dataset', '1', '--preset', 'linear', '--epochs', '1000', '--batch-size', '1', '--data-dir', dir.root], { detached: true });
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('training on')) resolve();
      });
    });
    return { child, exited, output: () => out };
  }

  const alive = processAlive;

  it('Ctrl+C at a terminal (SIGINT to the whole process group) cancels the run: exit 130, status cancelled, database consistent', async () => {
    const imp = spawnSync(process.execPath, [bin, 'import', input.path, '--data-dir', dir.root], { encoding: 'utf8' });
    expect(imp.status, imp.stderr).toBe(0);
    const { child, exited, output } = await startTraining();
    const t0 = performance.now();
    process.kill(-child.pid!, 'SIGINT'); // as a terminal does: the CLI and everything in its group
    const code = await exited;
    console.log(`SIGINT → CLI exit in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    expect(code, output()).toBe(130);
    expect(output()).toMatch(/run 1 cancelled/);
    const runs = spawnSync(process.execPath, [bin, 'runs', '--data-dir', dir.root], { encoding: 'utf8' });
    expect(runs.stdout).toMatch(/^1\s.*cancelled/m);
    const db = dir.openDb();
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((db.prepare('SELECT COUNT(*) AS n FROM metrics WHERE run_id = 1').get() as { n: number }).n).toBeGreaterThan(0);
  });

  it.skipIf(!existsSync('/proc/self/stat'))('SIGKILL of the CLI: the engine does not train on as an orphan; the next start marks the run interrupted', async () => {
    const { child, exited } = await startTraining();
    const engines = childrenOf(child.pid!);
    expect(engines).toHaveLength(1);
    child.kill('SIGKILL');
    await exited;
    const t0 = Date.now();
    while (alive(engines[0]) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
    expect(alive(engines[0])).toBe(false);
    console.log(`orphaned engine exited ${Date.now() - t0} ms after the CLI was killed`);
    const runs = spawnSync(process.execPath, [bin, 'runs', '--data-dir', dir.root], { encoding: 'utf8' });
    expect(runs.stdout).toMatch(/^2\s.*interrupted/m);
    const db = dir.openDb();
    expect(db.prepare('SELECT error FROM runs WHERE id = 2').get()).toEqual({ error: 'interrupted: the app stopped during the run' });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});
