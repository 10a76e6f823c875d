/**
 * Run the headless host: open the data directory, serve the UI and the API, print the
 * URL, and stop cleanly (cancel runs, close the database) on SIGINT / SIGTERM.
 * Used by `out/main/host.js` and by `layerwise serve`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetSummary } from '../../shared/api';
import { METRIC } from '../../shared/metrics';
import { defaultEngineEntry, defaultEngineNiceness, HOST_ENGINE_NICENESS, NodeEngineLauncher } from '../engine-launcher';
import { resolveDataDir } from '../paths';
import { createApp, type App } from '../services/app';
import { cacheReads } from './read-cache';
import { isLoopback, startHostServer, type HostServer } from './server';
import { presetRunSpec, waitForImport } from './workflows';

export interface ServeOptions {
  /** Data directory (default: LAYERWISE_HOME or ~/.layerwise). */
  dataDir?: string;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Access token asked for on every interface: not given → a random one; null (`--no-token`) → none, loopback only. */
  token?: string | null;
  /** Port (default 7700; 0 = any free port). */
  port?: number;
  /** Built renderer folder (default: out/renderer next to this bundle). */
  rendererDir?: string;
  /** On first start (no datasets), import the bundled sample and train a LeNet-5 on it. */
  demo?: boolean;
  /** Where lines for the user go (default console.log). */
  log?: (line: string) => void;
}

export interface RunningHost {
  app: App;
  server: HostServer;
  /** Cancel runs (engines get up to `timeoutMs` ms), close the server and the database. Safe to call twice. */
  stop(timeoutMs?: number): Promise<void>;
}

/** The built renderer: out/renderer, found from out/main/ or out/main/chunks/ (or from the sources, src/main/host/). */
export function defaultRendererDir(from: string = __dirname): string {
  const candidates = [join(from, '..', 'renderer'), join(from, '..', '..', 'renderer'), join(from, '..', '..', '..', 'out', 'renderer')];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[0];
}

/**
 * Start the host. Resolves once it listens.
 * @throws Error when the database cannot be opened or the port is taken.
 */
export async function startHost(opts: ServeOptions = {}): Promise<RunningHost> {
  const log = opts.log ?? ((line: string) => console.log(line));
  // Engines a little below the host's priority: it answers every tab while a run takes the cores.
  const launcher = new NodeEngineLauncher({ ...defaultEngineEntry(), niceness: defaultEngineNiceness(process.env, HOST_ENGINE_NICENESS) });
  const app = createApp({ dataDir: resolveDataDir(opts.dataDir), host: 'headless', launcher, adoptQueued: true });
  let server: HostServer;
  try {
    server = await startHostServer({
      // Many tabs ask the same reads while a run trains: answered from memory while the database is unchanged.
      handle: cacheReads(app.handle, app.db).handle,
      onEvent: app.onEvent,
      imageFile: app.servedFile,
      rendererDir: opts.rendererDir ?? defaultRendererDir(),
      host: opts.host,
      port: opts.port,
      token: opts.token,
    });
  } catch (err) {
    app.dispose();
    throw err;
  }
  log(`Layerwise is running at ${server.url}`);
  log(`data: ${app.paths.root}`);
  if (server.token) log(`(open the URL above: it carries the access token${isLoopback(server.host) ? '' : ' and the host listens beyond this machine'}; keep it private)`);
  else log('(no access token: any program on this machine can use the app)');
  let stopping: Promise<void> | null = null;
  const stop = (timeoutMs?: number): Promise<void> =>
    (stopping ??= (async () => {
      await server.close();
      await app.shutdown(timeoutMs);
    })());
  if (opts.demo) void runDemo(app, log);
  return { app, server, stop };
}

/**
 * Epochs of the demo run: long enough that a user who opens the URL within the first minute
 * or two finds it still training, short enough to end with a test accuracy while they watch.
 * LeNet-5 on the 8,000 training images of the sample took 0.46 s an epoch on a quiet 2-core
 * machine with today's kernels (100 epochs ended in 46 s) and 1–2 s on busy cores, so 300
 * epochs are about 2–10 minutes.
 */
export const DEMO_EPOCHS = 300;
/** Per-epoch learning-rate decay of the demo: the rate ends at 0.98^100 ≈ 0.13 of its start, whatever DEMO_EPOCHS is. */
const DEMO_DECAY = 0.98 ** (100 / DEMO_EPOCHS);

/** First start: import the sample dataset and train a LeNet-5 on it (DEMO_EPOCHS epochs). Errors are logged, never thrown. */
async function runDemo(app: App, log: (line: string) => void): Promise<void> {
  try {
    const list = (await app.handle('datasets.list', {})) as DatasetSummary[];
    const info = (await app.handle('system.info', {})) as { sampleDatasetPath: string | null };
    if (list.length > 0 || !info.sampleDatasetPath) return;
    log('demo: importing the sample dataset (Fashion-MNIST test split)…');
    const { jobId } = (await app.handle('datasets.import', { path: info.sampleDatasetPath, name: 'Fashion-MNIST (sample)' })) as { jobId: number };
    const job = await waitForImport(app, jobId);
    if (job.status !== 'done' || job.datasetId === null) return log(`demo: the import ${job.status}${job.error ? `: ${job.error}` : ''}`);
    // A test-split-only source (the sample is the t10k files) gets a seeded stratified 80/10/10 split at import.
    const ds = (await app.handle('datasets.get', { datasetId: job.datasetId })) as DatasetSummary;
    const spec = presetRunSpec(ds, { preset: 'lenet5', epochs: DEMO_EPOCHS, batchSize: 64, optimizer: 'adam', learningRate: 0.001 });
    // A gentle decay keeps the later epochs improving rather than wandering.
    spec.training.learningRateSchedule = { type: 'exponential', gamma: DEMO_DECAY };
    const { runId } = (await app.handle('runs.start', { spec, name: 'LeNet-5 demo' })) as { runId: number };
    log(`demo: training LeNet-5 on ${ds.name} for ${DEMO_EPOCHS} epochs (run ${runId}); watch it in the browser`);
    const sub = app.onEvent((e) => {
      if (e.event === 'run.metrics' && e.payload.runId === runId) {
        for (const m of e.payload.metrics) if (m.name === METRIC.valAccuracy && m.step === null) log(`demo: epoch ${(m.epoch ?? 0) + 1}: validation accuracy ${(m.value * 100).toFixed(2)}%`);
      } else if (e.event === 'run.status' && e.payload.runId === runId && !['queued', 'running'].includes(e.payload.status)) {
        sub.dispose();
        const r = app.runs.get(runId);
        log(`demo: run ${runId} ${r.status}${r.testAccuracy !== null ? `, test accuracy ${(r.testAccuracy * 100).toFixed(2)}%` : ''}${r.error ? `: ${r.error}` : ''} (${r.backend ?? '?'}, ${Math.round(r.samplesPerSec ?? 0)} samples/s)`);
      }
    });
  } catch (err) {
    log(`demo: ${(err as Error).message}`);
  }
}

/** A second signal this soon after the first is the same Ctrl+C (a terminal signals the group, and `npm start`'s launcher forwards it), ms. */
const SAME_SIGNAL_MS = 1000;

/**
 * Run the host until SIGINT / SIGTERM / SIGHUP, then stop cleanly (exit 0). A second signal
 * at least a second later exits at once (130).
 */
export async function serveUntilSignalled(opts: ServeOptions = {}): Promise<void> {
  const host = await startHost(opts);
  let signalledAt: number | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalledAt !== null) {
      if (Date.now() - signalledAt < SAME_SIGNAL_MS) return;
      process.exit(130);
    }
    signalledAt = Date.now();
    (opts.log ?? console.log)(`${sig}: stopping (cancelling runs)…`);
    host.stop().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}
