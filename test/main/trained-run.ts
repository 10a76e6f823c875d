/**
 * A real app with a real trained run, for tests of engine jobs on checkpoints (inspect, attack):
 * 2 CIFAR-10 classes × 20 images imported, LeNet-5 trained `epochs` epochs on the CPU backend;
 * and the wait for a job's end.
 */
import type { ApiEvent } from '../../src/main/events';
import { createApp, type App } from '../../src/main/services/app';
import type { EngineJob } from '../../src/shared/inspect';
import { buildPreset } from '../../src/shared/spec';
import { tempDataDir, tempDir } from '../helpers';
import { RecordingLauncher, tinyCifarFolder } from './runs-helpers';

export interface TrainedRun {
  app: App;
  runId: number;
  datasetId: number;
  /** The imported folder (`<input>/<class>/<file>.png`). */
  input: string;
  close(): Promise<void>;
}

/**
 * Import the tiny CIFAR folder and train LeNet-5 (Adam 1e-3, batch 8, seed 1) for `epochs` epochs.
 * @throws Error when the run does not complete.
 */
export async function trainedLenet(epochs: number): Promise<TrainedRun> {
  const dir = tempDataDir();
  const input = tempDir();
  tinyCifarFolder(input.path);
  const app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), api: { validateResults: true }, cancelTimeoutMs: 3000, concurrency: 1 });
  const close = async (): Promise<void> => {
    await app.shutdown(2000);
    input.cleanup();
    dir.cleanup();
  };
  const { jobId } = (await app.handle('datasets.import', { path: input.path, name: 'tiny' })) as { jobId: number };
  const datasetId = (await app.datasets.waitForImport(jobId)).datasetId!;
  const spec = {
    datasetId,
    model: buildPreset('lenet5', { inputShape: [32, 32, 3], numClasses: 2 }),
    training: { optimizer: { type: 'adam', learningRate: 0.001 }, batchSize: 8, epochs },
    seed: 1,
    backend: 'cpu',
  };
  const runId = ((await app.handle('runs.start', { spec })) as { runId: number }).runId;
  const run = await app.runs.waitFor(runId);
  if (run.status !== 'completed') {
    await close();
    throw new Error(`training run ${runId}: ${run.status} ${run.error ?? ''}`);
  }
  return { app, runId, datasetId, input: input.path, close };
}

/** Resolve with an engine job's final state (from `job.finished`, or at once when it already ended); `progress` collects its progress events. */
export function jobFinished(app: App, jobId: number, progress?: EngineJob[]): Promise<EngineJob> {
  return new Promise((resolve) => {
    const sub = app.onEvent((e: ApiEvent) => {
      if (e.event === 'job.progress' && e.payload.jobId === jobId) progress?.push(e.payload);
      if (e.event === 'job.finished' && e.payload.jobId === jobId) {
        sub.dispose();
        resolve(e.payload);
      }
    });
    const now = app.inspect.get(jobId);
    if (now.status !== 'running') {
      sub.dispose();
      resolve(now);
    }
  });
}
