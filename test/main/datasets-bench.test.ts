/**
 * Benchmark (opt-in: LAYERWISE_BENCH=1): import + pack full Fashion-MNIST (70,000 images)
 * from /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist).
 */
import { expect, it } from 'vitest';
import { DatasetService } from '../../src/main/services/datasets';
import { optionalPath, tempDataDir } from '../helpers';

const fashion = process.env.LAYERWISE_BENCH === '1' ? optionalPath('/usr/share/datasets/fashion-mnist') : null;

it.skipIf(!fashion)('bench: Fashion-MNIST import and pack', async () => {
  const dir = tempDataDir();
  const svc = new DatasetService({ db: dir.openDb(), paths: dir.paths });
  try {
    let t0 = performance.now();
    const job = await svc.waitForImport((await svc.startImport({ path: fashion! })).jobId);
    console.log(`import: ${((performance.now() - t0) / 1000).toFixed(1)} s, imported ${job.imported}, duplicates ${job.duplicates}, ${job.status}`);
    expect(job.status).toBe('done');
    const d = svc.get(job.datasetId!);
    console.log(JSON.stringify(d.classes.map((c) => [c.name, c.counts.total])), JSON.stringify(d.counts));
    t0 = performance.now();
    const page = svc.items({ datasetId: d.id, offset: 30_000, limit: 5000, split: 'train' });
    console.log(`items page (offset 30,000, 5,000 rows): ${(performance.now() - t0).toFixed(1)} ms of ${page.total}`);
    t0 = performance.now();
    const p = await svc.prepareTraining(d.id, [28, 28, 1]);
    console.log(`pack 28×28×1: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${p.meta.count} items ${JSON.stringify(p.meta.counts)}`);
    t0 = performance.now();
    await svc.prepareTraining(d.id, [28, 28, 1]);
    console.log(`pack reuse: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    t0 = performance.now();
    await svc.prepareTraining(d.id, [32, 32, 3]);
    console.log(`pack 32×32×3 (resize): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    svc.dispose();
    await svc.idle();
    dir.cleanup();
  }
});
