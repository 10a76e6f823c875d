/**
 * The `layerwise spec` and `layerwise describe` commands: export a preset's model spec, or a
 * run's whole run spec, as JSON (to edit and train with `layerwise train --spec FILE`) and
 * print the layer table of a spec file or a preset. Only `spec <run>` opens a data directory.
 */
import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { RunDetail } from '../../shared/api';
import { buildPreset, describeModel, parseRunSpec, type ModelSpec } from '../../shared/spec';
import type { App } from '../services/app';
import { int, num, parseInputSize, table } from './cli-args';
import { modelOfFile, modelTable, PRESETS, readSpecFile } from './cli-spec';
import { pretrainedRunSpec } from '../services/pretrained';
import { FreezeChoiceSchema, type FreezeChoice } from '../../shared/pretrained';
import { findDataset } from './workflows';

/** How `spec <run>` opens the data directory (runCli's withApp: sets the exit code, shuts the app down). */
export interface RunSpecAccess {
  withApp(dataDir: string | undefined, fn: (app: App) => Promise<number>): Promise<void>;
  dataDirOption(): Option;
}

interface PresetFlags {
  preset?: (typeof PRESETS)[number];
  inputSize?: [number, number, 1 | 3];
  classes?: number;
  dropout?: number;
  batchNormalization: boolean;
  widthMultiplier?: number;
}

/** The preset options shared by `spec` and `describe`. */
function presetOptions(cmd: Command): Command {
  return cmd
    .option('--input-size <HxWxC>', 'input shape, e.g. 32x32x3 (with --preset)', parseInputSize)
    .option('--classes <n>', 'number of classes (with --preset)', int(2, 10000))
    .option('--dropout <rate>', "dropout rate (default: the preset's)", num(0, 0.99))
    .option('--batch-normalization', 'batch normalization after each conv / hidden layer', false)
    .option('--width-multiplier <alpha>', "width multiplier of the deep presets (default: the preset's)", num(0.01, 4));
}

/** The preset's model for the flags. @throws SpecError (exit 2) for a width multiplier out of range or a network that does not fit the input. */
function presetModel(o: PresetFlags, cmd: Command): ModelSpec {
  if (!o.inputSize || !o.classes) cmd.error('error: --preset needs --input-size HxWxC and --classes K', { exitCode: 2 });
  const model = buildPreset(o.preset!, { inputShape: o.inputSize!, numClasses: o.classes!, dropoutRate: o.dropout, batchNormalization: o.batchNormalization, widthMultiplier: o.widthMultiplier });
  describeModel(model);
  return model;
}

/**
 * Add `spec` and `describe` to the program; their lines go to `io.out`. `done` is called when a
 * command has succeeded (runCli's exit code 0); errors are thrown to runCli, which maps them
 * (invalid spec: exit 2).
 */
export function registerSpecCommands(program: Command, io: { out(line: string): void }, done: () => void, runs: RunSpecAccess): void {
  presetOptions(
    program
      .command('spec')
      .description('print the model spec of a preset, or the whole run spec of a run, as JSON, to edit and train with `layerwise train --spec FILE`')
      .argument('[run]', 'a run id: print its run spec (defaults of fields added since filled in)', int(1))
      .addOption(new Option('--preset <preset>', 'network').choices(PRESETS).conflicts('run')),
  )
    .addOption(new Option('--pretrained <file>', 'a fine-tune from a pre-trained .tflite model or a Layerwise TF.js export (model.json): backbone, new head, freeze point, fine-tune training defaults (with --dataset or --classes)').conflicts(['run', 'preset']))
    .option('--dataset <id|name>', 'with --pretrained: the dataset whose classes (names, count) the head gets')
    .addOption(new Option('--freeze <rule>', 'with --pretrained: where to freeze').choices(FreezeChoiceSchema.options).default('likeImagenet'))
    .option('--labels <file>', "with --pretrained: the model's labels file (default: imagenet_labels.txt or labels.txt beside a .tflite file); class names found in it start the head from those classes")
    .option('--out <file>', 'write the JSON to this file instead of stdout')
    .addOption(runs.dataDirOption())
    .action(async (runId: number | undefined, o: PresetFlags & { out?: string; dataDir?: string; pretrained?: string; dataset?: string; freeze: FreezeChoice; labels?: string }, cmd: Command) => {
      const write = (json: string, what: string): void => {
        if (o.out) {
          writeFileSync(o.out, `${json}\n`);
          io.out(`wrote ${o.out}: ${what}`);
        } else io.out(json);
      };
      if (runId !== undefined) {
        if (o.preset) cmd.error('error: give a run or --preset, not both', { exitCode: 2 });
        await runs.withApp(o.dataDir, async (app) => {
          const detail = (await app.handle('runs.get', { runId })) as RunDetail;
          write(JSON.stringify(parseRunSpec(detail.spec), null, 2), `the run spec of run ${runId} ("${detail.name}")`);
          return 0;
        });
        return;
      }
      if (o.pretrained) {
        const make = (classNames: string[], datasetId?: number, trainCount?: number): number => {
          const { model, pretrained, training, summary } = pretrainedRunSpec(o.pretrained!, { classNames, labels: o.labels, freeze: o.freeze, dropout: o.dropout, trainCount });
          write(JSON.stringify({ ...(datasetId !== undefined ? { datasetId } : {}), model, pretrained, training }, null, 2), summary);
          return 0;
        };
        if (o.dataset) {
          await runs.withApp(o.dataDir, async (app) => {
            const ds = await findDataset(app, o.dataset!);
            return make([...ds.classes].sort((a, b) => a.index - b.index).map((c) => c.name), ds.id, ds.counts.train);
          });
          return;
        }
        if (!o.classes) cmd.error('error: --pretrained needs --dataset <id|name> or --classes K', { exitCode: 2 });
        make(Array.from({ length: o.classes! }, (_, i) => `class${i}`));
        done();
        return;
      }
      if (!o.preset) cmd.error('error: give a run id, --preset <preset> or --pretrained <file>', { exitCode: 2 });
      const model = presetModel(o, cmd);
      write(JSON.stringify(model, null, 2), `${o.preset}, ${model.nodes?.length ?? 0} nodes, input ${model.inputShape.join('×')}, ${model.numClasses} classes`);
      done();
    });

  presetOptions(
    program
      .command('describe')
      .description('print the layer table of a spec file or a preset: node, type, inputs, output shape, parameters, multiply-adds, totals')
      .option('--spec <file>', 'JSON file holding a run spec or a model spec')
      .addOption(new Option('--preset <preset>', 'network').choices(PRESETS).conflicts('spec')),
  ).action((o: PresetFlags & { spec?: string }, cmd: Command) => {
    if (!o.spec && !o.preset) cmd.error('error: give --spec <file> or --preset <preset>', { exitCode: 2 });
    const model = o.spec ? modelOfFile(readSpecFile(o.spec)) : presetModel(o, cmd);
    const t = modelTable(model);
    for (const l of table(t.header, t.rows)) io.out(l);
    io.out(t.totals);
    done();
  });
}
