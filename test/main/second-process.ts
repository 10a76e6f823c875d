/**
 * A second Layerwise process on the same data directory, for the cross-process storage
 * tests (test/main/storage-processes.test.ts). Run with `node --import tsx`:
 *   second-process.ts <dataDir> import <path>          import, print `job <id>` (and `thumbnails <n>` when its items are in), wait, print the job as JSON
 *   second-process.ts <dataDir> train <datasetId> <engine.cjs>   start a run on a fake engine, print `run <id>`, wait, print it
 * Heartbeat: LAYERWISE_TEST_HEARTBEAT_MS (default 300). Lines go to stdout.
 */
import { NodeEngineLauncher } from '../../src/main/engine-launcher';
import { createApp } from '../../src/main/services/app';
import { buildPreset } from '../../src/shared/spec';

async function main(): Promise<void> {
  const [dataDir, command, arg, engine] = process.argv.slice(2);
  const heartbeatMs = Number(process.env.LAYERWISE_TEST_HEARTBEAT_MS ?? 300);
  const app = createApp({ dataDir, heartbeatMs, launcher: engine ? new NodeEngineLauncher({ entry: engine }) : undefined, sampleDatasetPath: null });
  try {
    if (command === 'import') {
      let thumbnails = false;
      app.datasets.onEvent((e) => {
        if (e.event !== 'import.progress' || e.payload.phase !== 'thumbnails' || thumbnails) return;
        thumbnails = true;
        console.log(`thumbnails ${e.payload.total}`);
      });
      const { jobId } = await app.datasets.startImport({ path: arg });
      console.log(`job ${jobId}`);
      console.log(JSON.stringify(await app.datasets.waitForImport(jobId)));
    } else if (command === 'train') {
      const spec = {
        datasetId: Number(arg),
        model: buildPreset('linear', { inputShape: [32, 32, 3], numClasses: 2 }),
        training: { optimizer: { type: 'sgd', learningRate: 0.01 }, batchSize: 8, epochs: 1 },
        seed: 1,
        backend: 'auto',
      };
      const { runId } = await app.runs.start({ spec });
      console.log(`run ${runId}`);
      console.log(JSON.stringify(await app.runs.waitFor(runId)));
    } else {
      throw new Error(`unknown command ${command}`);
    }
  } finally {
    await app.shutdown(2000);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
