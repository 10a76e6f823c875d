/**
 * The listing commands of the `layerwise` CLI (cli-program.ts registers them): `runs` (the run
 * table, each model named as the UI names it: src/shared/model-name.ts), `datasets` (the
 * dataset table) and `split` (reassign a dataset's splits). Each opens the data directory
 * through `withApp`.
 */
import { Option, type Command } from 'commander';
import type { DatasetSummary, RunSummary } from '../../shared/api';
import type { App } from '../services/app';
import { presetLabel } from '../../shared/model-name';
import { duration, int, num, pct, table } from './cli-args';
import { findDataset } from './workflows';

type WithApp = (dataDir: string | undefined, fn: (app: App) => Promise<number>) => Promise<void>;

/** Add `runs`, `datasets` and `split` to the program. */
export function registerListCommands(program: Command, io: { out(line: string): void }, withApp: WithApp, dataDirOption: () => Option): void {
  program
    .command('runs')
    .description('list runs')
    .option('--dataset <id|name>', 'only runs of this dataset')
    .addOption(dataDirOption())
    .action(async (o: { dataset?: string; dataDir?: string }) =>
      withApp(o.dataDir, async (app) => {
        const datasetId = o.dataset ? (await findDataset(app, o.dataset)).id : undefined;
        const runs = (await app.handle('runs.list', datasetId === undefined ? {} : { datasetId })) as RunSummary[];
        if (runs.length === 0) {
          io.out('no runs yet: start one with `layerwise train --dataset <id> --preset linear`');
          return 0;
        }
        const rows = runs.map((r) => [String(r.id), r.name, r.datasetName, presetLabel(r.preset, undefined, r.backbone), r.status, pct(r.testAccuracy), pct(r.bestValAccuracy), duration(r.durationSeconds), r.backend ?? '—']);
        for (const l of table(['id', 'name', 'dataset', 'preset', 'status', 'test acc', 'best val', 'time', 'backend'], rows)) io.out(l);
        return 0;
      }),
    );

  program
    .command('datasets')
    .description('list datasets')
    .addOption(dataDirOption())
    .action(async (o: { dataDir?: string }) =>
      withApp(o.dataDir, async (app) => {
        const list = (await app.handle('datasets.list', {})) as DatasetSummary[];
        if (list.length === 0) io.out('no datasets yet: `layerwise import <folder>`');
        else {
          const rows = list.map((d) => [String(d.id), d.name, String(d.itemCount), String(d.excludedCount ?? 0), String(d.classCount), `${d.counts.train}/${d.counts.val}/${d.counts.test}`, d.typicalShape ? d.typicalShape.join('×') : '—']);
          for (const l of table(['id', 'name', 'images', 'excluded', 'classes', 'train/val/test', 'shape'], rows)) io.out(l);
        }
        return 0;
      }),
    );

  program
    .command('split')
    .description('reassign the splits of a dataset: random percentages (seeded, stratified per class) or the splits the files came with')
    .argument('<dataset>', 'dataset id or name')
    .addOption(new Option('--mode <mode>', 'random, or given (the folders’ own train/val/test)').choices(['random', 'given']).default('random'))
    .option('--train <pct>', 'percentage for training', num(0, 100), 80)
    .option('--val <pct>', 'percentage for validation', num(0, 100), 10)
    .option('--test <pct>', 'percentage for testing', num(0, 100), 10)
    .option('--val-from-train <pct>', "given mode: percentage of train moved to val when the source has no val split", num(0, 90), 10)
    .option('--seed <n>', 'random seed', int(0, 2 ** 31 - 1), 0)
    .addOption(dataDirOption())
    .action(async (ref: string, o: { mode: 'random' | 'given'; train: number; val: number; test: number; valFromTrain: number; seed: number; dataDir?: string }) =>
      withApp(o.dataDir, async (app) => {
        const ds = await findDataset(app, ref);
        const split = { mode: o.mode, train: o.train, val: o.val, test: o.test, valFromTrain: o.valFromTrain, seed: o.seed };
        const d = (await app.handle('datasets.setSplit', { datasetId: ds.id, split })) as DatasetSummary;
        io.out(`dataset ${d.id} "${d.name}": train ${d.counts.train}, val ${d.counts.val}, test ${d.counts.test}`);
        return 0;
      }),
    );
}
