/**
 * Import and pack speed on full Fashion-MNIST (70,000 28×28 images, Debian's
 * dataset-fashion-mnist): `npm run bench datasets`. Prints one table: what, seconds,
 * items/s, and the bar we hold ourselves to beside it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/main/db/db';
import { dataPaths } from '../src/main/paths';
import { DatasetService } from '../src/main/services/datasets';

const FASHION = '/usr/share/datasets/fashion-mnist';

async function main(): Promise<void> {
  if (!existsSync(FASHION)) {
    console.log(`skipped: ${FASHION} is absent (apt-get install -y dataset-fashion-mnist)`);
    return;
  }
  const root = mkdtempSync(join(tmpdir(), 'layerwise-bench-'));
  const paths = dataPaths(root);
  const svc = new DatasetService({ db: openDatabase(paths.db), paths });
  const rows: [string, number, number, string][] = [];
  const time = async <T>(what: string, n: number, bar: string, f: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    const r = await f();
    const s = (performance.now() - t0) / 1000;
    rows.push([what, s, n / s, bar]);
    return r;
  };
  try {
    const job = await time('import 70,000 IDX images (decode, PNG, SHA-256, SQLite)', 70_000, '< 60 s', async () => svc.waitForImport((await svc.startImport({ path: FASHION })).jobId));
    if (job.status !== 'done' || job.imported !== 70_000) throw new Error(`import ended ${job.status} with ${job.imported} images`);
    const id = job.datasetId!;
    await time('items page: 5,000 rows at offset 30,000 (train filter)', 5000, '< 0.1 s', () => svc.items({ datasetId: id, offset: 30_000, limit: 5000, split: 'train' }));
    await time('pack 28×28×1 (freeze version, write tensors)', 70_000, '< 15 s', () => svc.prepareTraining(id, [28, 28, 1]));
    await time('pack 28×28×1 again (cached)', 70_000, '< 1 s', () => svc.prepareTraining(id, [28, 28, 1]));
    await time('pack 32×32×3 (resize with sharp)', 70_000, '< 90 s', () => svc.prepareTraining(id, [32, 32, 3]));
  } finally {
    svc.dispose();
    await svc.idle();
    rmSync(root, { recursive: true, force: true });
  }
  console.log('| what | seconds | items/s | bar |\n|---|---:|---:|---|');
  for (const [what, s, rate, bar] of rows) console.log(`| ${what} | ${s.toFixed(2)} | ${Math.round(rate).toLocaleString('en')} | ${bar} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
