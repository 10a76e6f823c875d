/**
 * The headless-host fixture of the host tests (test/main/host.test.ts) and the upload test
 * (test/renderer/upload-host.test.ts): a temp data dir with a migrated database, a real app
 * (its engine launcher recording, never starting, engines), the host's HTTP + WebSocket server
 * on a free 127.0.0.1 port, and optionally a tiny CIFAR-10 dataset imported through the app.
 * It registers vitest hooks, so call it inside a describe.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startHostServer, type HostServer, type HostServerOptions } from '../../src/main/host/server';
import { createApp, type App } from '../../src/main/services/app';
import { RecordingLauncher, tinyCifarFolder } from '../main/runs-helpers';
import { tempDataDir, tempDir, type TempDataDir } from './index';

/** What useTestHost sets up; the fields are filled before the describe's first test. */
export interface TestHost {
  dir: TempDataDir;
  app: App;
  server: HostServer;
  /** The dataset imported from `options.dataset`, else null. */
  datasetId: number | null;
}

/** The parts of the host set-up a describe chooses. */
export interface TestHostOptions {
  /** The address to bind (default the server's, 127.0.0.1). */
  host?: string;
  /** The token (null: `--no-token`; default: the server makes one). */
  token?: string | null;
  /** Files of a stand-in renderer build, path relative to its folder → text; absent: no renderer (the placeholder page). */
  rendererFiles?: Record<string, string>;
  /** The events the server pushes (default the app's own `onEvent`). */
  onEvent?: (app: App) => HostServerOptions['onEvent'];
  /** Import `perClass` images of each of `classes` from ../shared/data/cifar10-subset as dataset `name` (needs the data). */
  dataset?: { name: string; classes: string[]; perClass: number };
}

/**
 * Start the host in the describe's beforeAll and stop it (server closed twice: it must be
 * safe; app shut down; folders removed) in its afterAll.
 */
export function useTestHost(options: TestHostOptions = {}): TestHost {
  const t = { datasetId: null } as TestHost;
  let renderer: { path: string; cleanup(): void } | null = null;
  beforeAll(async () => {
    t.dir = tempDataDir();
    if (options.rendererFiles) {
      renderer = tempDir();
      for (const [rel, text] of Object.entries(options.rendererFiles)) {
        mkdirSync(dirname(join(renderer.path, rel)), { recursive: true });
        writeFileSync(join(renderer.path, rel), text);
      }
    }
    t.app = createApp({ dataDir: t.dir.root, launcher: new RecordingLauncher() });
    const { app } = t;
    t.server = await startHostServer({
      handle: app.handle,
      onEvent: options.onEvent?.(app) ?? app.onEvent,
      imageFile: app.imageFile,
      rendererDir: renderer?.path ?? null,
      port: 0,
      ...(options.host !== undefined && { host: options.host }),
      ...(options.token !== undefined && { token: options.token }),
    });
    if (options.dataset) {
      const input = tempDir();
      try {
        tinyCifarFolder(input.path, options.dataset.classes, options.dataset.perClass);
        const { jobId } = await app.datasets.startImport({ path: input.path, name: options.dataset.name });
        t.datasetId = (await app.datasets.waitForImport(jobId)).datasetId!;
      } finally {
        input.cleanup();
      }
    }
  });
  afterAll(async () => {
    await t.server?.close();
    await t.server?.close(); // safe twice
    await t.app?.shutdown(1000);
    renderer?.cleanup();
    t.dir?.cleanup();
  });
  return t;
}
