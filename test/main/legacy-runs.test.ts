/**
 * Runs stored by the layer-list code (before the graph ModelSpec) still parse, and re-running
 * their stored specs gives the metrics stored with them. The data directory in
 * test/fixtures/legacy-runs/data was written by commit 1fa4b31 (test/fixtures/legacy-runs/make.ts):
 * LeNet-5 with batch norm + dropout (Adam), an MLP with L1/L2 (momentum), and a custom list
 * whose dense layer directly follows a pooling layer (the old implicit flatten), with augmentation.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Metric, RunDetail } from '../../src/shared/api';
import { createApp, type App } from '../../src/main/services/app';
import { tempDataDir, type TempDataDir } from '../helpers';

const fixture = join(__dirname, '..', 'fixtures', 'legacy-runs', 'data');

describe('runs stored by the layer-list code', () => {
  let dir: TempDataDir;
  let app: App;
  beforeAll(() => {
    dir = tempDataDir();
    cpSync(fixture, dir.root, { recursive: true });
    app = createApp({ dataDir: dir.root });
  });
  afterAll(async () => {
    await app?.shutdown(2000);
    dir?.cleanup();
  });

  const epochMetrics = async (runId: number): Promise<Map<string, number>> => {
    const ms = (await app.handle('runs.metrics', { runId })) as Metric[];
    return new Map(ms.filter((m) => m.epoch !== null && m.step === null && !m.name.endsWith('seconds') && !m.name.startsWith('test_')).map((m) => [`${m.name}@${m.epoch}`, m.value]));
  };

  it.each([1, 2, 3])('run %i parses, and re-running its stored spec gives its stored epoch metrics', async (runId) => {
    const old = (await app.handle('runs.get', { runId })) as RunDetail;
    expect(old.status).toBe('completed');
    const before = await epochMetrics(runId);
    expect(before.size).toBeGreaterThanOrEqual(4);
    const { runId: again } = await app.runs.start({ spec: old.spec });
    expect((await app.runs.waitFor(again)).status).toBe('completed');
    const after = await epochMetrics(again);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [k, v] of before) expect(after.get(k), k).toBeCloseTo(v, 5);
  }, 60_000);
});
