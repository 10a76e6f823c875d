/**
 * What runs.start refuses before a run row exists, on real SQLite and real engine
 * processes: a dataset with fewer than two labeled classes (with its figures, never the
 * model schema's `numClasses: Too small`, also through the CLI), and backend 'gpu' where
 * the host's one GPU probe (an engine process) found no usable adapter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../../src/main/host/cli-program';
import { createApp, type App } from '../../src/main/services/app';
import type { DatasetDetail, Item } from '../../src/shared/api';
import { ApiError } from '../../src/shared/errors';
import { buildPreset } from '../../src/shared/spec';
import { tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { cifar, linearSpec, RecordingLauncher, tinyCifarFolder } from './runs-helpers';

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected a rejection');
}

const runRows = (app: App): number => (app.db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n;

describe.skipIf(!cifar)('runs.start refuses what cannot train, before a run row exists', () => {
  let dir: TempDataDir;
  let one: { path: string; cleanup(): void };
  let two: { path: string; cleanup(): void };
  let app: App;
  let launcher: RecordingLauncher;

  beforeAll(() => {
    dir = tempDataDir();
    one = tempDir();
    two = tempDir();
    tinyCifarFolder(one.path, ['cat'], 20);
    tinyCifarFolder(two.path, ['airplane', 'cat'], 10);
    launcher = new RecordingLauncher();
    app = createApp({ dataDir: dir.root, launcher, api: { validateResults: true } });
  });
  afterAll(async () => {
    await app?.shutdown(2000);
    one?.cleanup();
    two?.cleanup();
    dir?.cleanup();
  });

  const importFolder = async (path: string, name: string): Promise<DatasetDetail> => {
    const job = await app.datasets.waitForImport((await app.datasets.startImport({ path, name })).jobId);
    expect(job.status).toBe('done');
    return app.datasets.get(job.datasetId!);
  };

  it('one class: refused with its class and image counts (field datasetId), whatever numClasses the spec says', async () => {
    const ds = await importFolder(one.path, 'only cats');
    for (const numClasses of [1, 2]) {
      const spec = { ...linearSpec(ds.id), model: buildPreset('linear', { inputShape: [32, 32, 3], numClasses }) };
      const e = await rejection(app.handle('runs.start', { spec }));
      expect(e).toMatchObject({ code: 'invalid_params', field: 'datasetId' });
      expect(e.message).toContain('has 1 labeled class ("cat") and 20 labeled images');
      expect(e.message).toContain('at least two classes');
      expect(e.message).not.toContain('Too small');
    }
    expect(runRows(app)).toBe(0);
    expect(launcher.launched).toHaveLength(0);
  });

  it('two classes, one of them wholly excluded: refused as one labeled class; included again, it starts', async () => {
    const ds = await importFolder(two.path, 'planes and cats');
    const planes = ds.classes.find((c) => c.name === 'airplane')!;
    const items = app.datasets.items({ datasetId: ds.id, offset: 0, limit: 100, classId: planes.id }).items as Item[];
    app.labels.exclude({ datasetId: ds.id, itemIds: items.map((i) => i.id), excluded: true });
    const e = await rejection(app.handle('runs.start', { spec: linearSpec(ds.id) }));
    expect(e).toMatchObject({ code: 'invalid_params', field: 'datasetId' });
    expect(e.message).toContain('has 1 labeled class ("cat") and 10 labeled images (1 more class without images)');
    expect(runRows(app)).toBe(0);
    app.labels.exclude({ datasetId: ds.id, itemIds: items.map((i) => i.id), excluded: false });
    const { runId } = (await app.handle('runs.start', { spec: linearSpec(ds.id) })) as { runId: number };
    await app.runs.cancel(runId);
    await app.runs.waitFor(runId);
  });

  it('the CLI prints the same refusal (exit 2, as for other invalid params), not a schema message', async () => {
    const lines: string[] = [];
    const errors: string[] = [];
    const io: CliIO = { out: (l) => lines.push(l), err: (l) => errors.push(l), progressStream: { isTTY: false } as NodeJS.WriteStream, onInterrupt: () => () => undefined };
    await app.shutdown(2000);
    const code = await runCli(['node', 'layerwise', 'train', '--dataset', 'only cats', '--preset', 'linear', '--data-dir', dir.root], io);
    expect(errors.join('\n')).toContain('has 1 labeled class ("cat") and 20 labeled images');
    expect(errors.join('\n')).not.toContain('numClasses');
    expect(code).toBe(2);
    app = createApp({ dataDir: dir.root, launcher });
  });
});

describe.skipIf(!cifar)("backend 'gpu' without a usable adapter", () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  let app: App;
  let launcher: RecordingLauncher;

  beforeAll(() => {
    dir = tempDataDir();
    input = tempDir();
    tinyCifarFolder(input.path, ['airplane', 'cat'], 5);
    launcher = new RecordingLauncher();
    app = createApp({ dataDir: dir.root, launcher, api: { validateResults: true } });
  });
  afterAll(async () => {
    await app?.shutdown(2000);
    input?.cleanup();
    dir?.cleanup();
  });

  it('system.info reports the probe once; runs.start refuses gpu (field backend) when there is none, with no run row', async () => {
    const job = await app.datasets.waitForImport((await app.datasets.startImport({ path: input.path, name: 'tiny' })).jobId);
    const info = (await app.handle('system.info', {})) as { gpu: { available: boolean; detail: string } };
    expect(info.gpu).toMatchObject({ available: expect.any(Boolean), detail: expect.any(String) });
    console.log(`GPU probe on this machine: ${JSON.stringify(info.gpu)}`);
    expect(launcher.launched).toHaveLength(1); // the probe, an engine process
    await app.handle('system.info', {});
    expect(launcher.launched).toHaveLength(1); // cached
    const spec = { ...linearSpec(job.datasetId!), backend: 'gpu' as const };
    if (!info.gpu.available) {
      const e = await rejection(app.handle('runs.start', { spec }));
      expect(e).toMatchObject({ code: 'invalid_params', field: 'backend' });
      expect(e.message).toContain("'gpu' was chosen but this machine has no usable GPU");
      expect(e.message).toContain(info.gpu.detail);
      expect(runRows(app)).toBe(0);
      expect(launcher.launched).toHaveLength(1);
    } else {
      const { runId } = (await app.handle('runs.start', { spec })) as { runId: number };
      expect((await app.runs.waitFor(runId)).backend).toBe('webgpu');
    }
  }, 60_000);
});
