/**
 * The real process path: the engine entry forked as a child process (as the headless
 * host does), talking over the IPC channel. Runs the TypeScript entry through tsx, and
 * the built bundle out/main/engine.js too when it has been built.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineToMainSchema, type EngineToMain } from '../../src/shared/engine-protocol';
import { buildPreset } from '../../src/shared/spec';
import { writeSyntheticPack } from './helpers/pack';

const root = resolve(__dirname, '../..');
// LAYERWISE_ENGINE_BUNDLE points at another build (e.g. `electron-vite build --outDir …`).
const bundle = process.env.LAYERWISE_ENGINE_BUNDLE ?? join(root, 'out/main/engine.js');
let dir = '';
let pack = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lw-engine-proc-'));
  pack = writeSyntheticPack(join(dir, 'pack'), { count: 120 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  msgs: EngineToMain[];
  code: number | null;
}

/** Fork the engine, send `first`, call `onMsg` for each message; resolve on exit. */
function runEngineProcess(entry: 'tsx' | 'bundle', first: unknown, onMsg?: (m: EngineToMain, send: (x: unknown) => void, disconnect: () => void) => void): Promise<Outcome> {
  const child =
    entry === 'tsx'
      ? fork(join(root, 'src/engine/entry.ts'), [], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
      : fork(bundle, [], { cwd: root, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const msgs: EngineToMain[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`engine process timed out; stderr: ${stderr}`));
    }, 60_000);
    child.on('message', (raw) => {
      const m = EngineToMainSchema.parse(raw);
      msgs.push(m);
      onMsg?.(m, (x) => child.send(x as never), () => child.disconnect());
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ msgs, code });
    });
    child.send(first as never);
  });
}

const jobFor = (epochs: number, extra: Record<string, unknown> = {}) => ({
  type: 'train',
  runId: 3,
  packDir: pack,
  outDir: join(dir, `out-${Math.random().toString(36).slice(2)}`),
  spec: {
    datasetId: 1,
    seed: 1,
    backend: 'auto',
    model: buildPreset('lenet5', { inputShape: [28, 28, 1], numClasses: 10 }),
    training: { optimizer: { type: 'adam', learningRate: 1e-3 }, batchSize: 8, epochs },
  },
  ...extra,
});

const entries: ('tsx' | 'bundle')[] = existsSync(bundle) ? ['tsx', 'bundle'] : ['tsx'];

describe.each(entries)('engine process (%s)', (entry) => {
  it('sends ready … done for a train job and exits 0', async () => {
    const { msgs, code } = await runEngineProcess(entry, jobFor(1));
    expect(code).toBe(0);
    expect(msgs[0].type).toBe('ready');
    expect(['wasm', 'webgpu']).toContain((msgs[0] as { backend: string }).backend); // 'auto': webgpu only on a hardware GPU
    expect(msgs.some((m) => m.type === 'progress')).toBe(true);
    expect(msgs.filter((m) => m.type === 'metrics')).toHaveLength(1);
    expect(msgs.filter((m) => m.type === 'checkpoint')).toHaveLength(1);
    expect(msgs[msgs.length - 1]).toMatchObject({ type: 'done', cancelled: false });
  });

  it('stops on cancel: done with cancelled: true, exit 0', async () => {
    let sent = false;
    const { msgs, code } = await runEngineProcess(entry, jobFor(50), (m, send) => {
      if (m.type === 'progress' && !sent) {
        sent = true;
        send({ type: 'cancel' });
      }
    });
    expect(code).toBe(0);
    expect(msgs[msgs.length - 1]).toMatchObject({ type: 'done', cancelled: true });
    expect(msgs.filter((m) => m.type === 'metrics').length).toBeLessThan(50);
  });

  it('exits (1) when its parent disconnects mid-training', async () => {
    let done = false;
    const { msgs, code } = await runEngineProcess(entry, jobFor(50), (m, _send, disconnect) => {
      if (m.type === 'progress' && !done) {
        done = true;
        disconnect();
      }
    });
    expect(code).toBe(1);
    expect(msgs.some((m) => m.type === 'done')).toBe(false);
  });

  it('answers an invalid job with failed naming the field, exit 1', async () => {
    const bad = jobFor(1);
    (bad.spec.training as Record<string, unknown>).batchSize = 0;
    const { msgs, code } = await runEngineProcess(entry, bad);
    expect(code).toBe(1);
    expect(msgs).toHaveLength(1);
    expect(msgs[0].type).toBe('failed');
    expect((msgs[0] as { error: string }).error).toMatch(/spec\.training\.batchSize/);
  });

  it('reports a training error (missing pack) as failed, exit 1', async () => {
    const { msgs, code } = await runEngineProcess(entry, jobFor(1, { packDir: join(dir, 'missing') }));
    expect(code).toBe(1);
    expect(msgs.map((m) => m.type)).toEqual(['ready', 'failed']);
    expect((msgs[1] as { error: string }).error).toMatch(/cannot read meta\.json/);
  });
});
