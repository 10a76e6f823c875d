/**
 * The `layerwise` CLI: in-process (runCli, engine from the sources) and, when the build
 * exists, the real bin/layerwise.cjs process with Ctrl+C (SIGINT) during training.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInputSize, runCli, table, type CliIO } from '../../src/main/host/cli-program';
import { REPO_ROOT, tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { cifar, tinyCifarFolder } from './runs-helpers';

function io(onLine?: (line: string, interrupt: () => void) => void): CliIO & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  let handler: (() => void) | null = null;
  return {
    lines,
    errors,
    out(line) {
      lines.push(line);
      onLine?.(line, () => handler?.());
    },
    err: (line) => errors.push(line),
    progressStream: { isTTY: false } as NodeJS.WriteStream,
    onInterrupt(h) {
      handler = h;
      return () => {
        handler = null;
      };
    },
  };
}

const argv = (...args: string[]): string[] => ['node', 'layerwise', ...args];

describe('CLI helpers', () => {
  it('parses --input-size HxWxC', () => {
    expect(parseInputSize('28x28x1')).toEqual([28, 28, 1]);
    expect(() => parseInputSize('28x28')).toThrow('HxWxC');
    expect(() => parseInputSize('28x28x2')).toThrow('HxWxC');
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
    expect(text).toContain('run 1: linear on "tiny" (2 classes, input 32×32×3), 1 epochs, batch 8');
    expect(text).toMatch(/epoch 1: train loss \d+\.\d+ acc \d+\.\d+%/);
    expect(text).toMatch(/run 1 completed/);
    expect(text).toMatch(/test accuracy \d+\.\d+%/);
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

  it('lists runs', async () => {
    const o = io();
    expect(await runCli(argv('runs', '--data-dir', dir.root), o)).toBe(0);
    expect(o.lines[0]).toMatch(/^id\s+name\s+dataset\s+preset\s+status/);
    const text = o.lines.join('\n');
    expect(text).toContain('completed');
    expect(text).toContain('cancelled');
    const d = io();
    expect(await runCli(argv('datasets', '--data-dir', dir.root), d)).toBe(0);
    expect(d.lines.join('\n')).toContain('32×32×3');
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

  it('SIGINT during train cancels the run, exits 130, and leaves the database consistent', async () => {
    const imp = spawnSync(process.execPath, [bin, 'import', input.path, '--data-dir', dir.root], { encoding: 'utf8' });
    expect(imp.status, imp.stderr).toBe(0);
    const child = spawn(process.execPath, [bin, 'train', '--dataset', '1', '--preset', 'linear', '--epochs', '500', '--batch-size', '1', '--data-dir', dir.root], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('training on')) resolve();
      });
    });
    const t0 = performance.now();
    child.kill('SIGINT');
    const code = await exited;
    console.log(`SIGINT → CLI exit in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    expect(code, `${out}\n${err}`).toBe(130);
    expect(out).toMatch(/run 1 cancelled/);
    const runs = spawnSync(process.execPath, [bin, 'runs', '--data-dir', dir.root], { encoding: 'utf8' });
    expect(runs.stdout).toMatch(/^1\s.*cancelled/m);
    const db = dir.openDb();
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((db.prepare('SELECT COUNT(*) AS n FROM metrics WHERE run_id = 1').get() as { n: number }).n).toBeGreaterThan(0);
  });
});
