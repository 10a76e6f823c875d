/**
 * The executor commands (issue 12):
 *   layerwise executor show [--json]
 *   layerwise executor set local|slurm [--partition P] [--account A] [--time T] [--cpus N] [--mem MB] [--gpus N]
 *                          [--sbatch-arg ARG …] [--stage DIR] [--command CMD] [--poll SECONDS]
 *   layerwise engine-job DIR   (run by a Slurm job script on the compute node; host/engine-job.ts)
 * `set slurm` keeps the Slurm settings not named; `set local` keeps them for later.
 */
import { resolve } from 'node:path';
import type { Command, Option } from 'commander';
import type { ExecutorSettings, SlurmSettings } from '../../shared/executor';
import type { App } from '../services/app';
import { int, num } from './cli-args';
import { runEngineJob } from './engine-job';

interface SetFlags {
  partition?: string;
  account?: string;
  time?: string;
  cpus?: number;
  mem?: number;
  gpus?: number;
  sbatchArg: string[];
  stage?: string;
  command?: string;
  poll?: number;
  dataDir?: string;
}

/** The executor settings as lines of text. */
export function executorLines(s: ExecutorSettings): string[] {
  const lines = [`executor: ${s.kind}`];
  const k = s.slurm;
  if (!k) return [...lines, 'slurm: not set up (layerwise executor set slurm --stage DIR …)'];
  const row = (name: string, v: string | number | undefined): string => `  ${name.padEnd(12)} ${v === undefined || v === '' ? '(Slurm default)' : v}`;
  return [
    ...lines,
    `slurm${s.kind === 'slurm' ? '' : ' (kept, not in use)'}:`,
    row('stage', k.stageDir),
    row('partition', k.partition),
    row('account', k.account),
    row('time', k.timeLimit),
    row('cpus', k.cpusPerRun),
    row('memory', k.memoryMb !== undefined ? `${k.memoryMb} MiB` : undefined),
    row('gpus', k.gpusPerRun),
    row('sbatch args', k.extraArgs.join(' ')),
    row('command', k.layerwiseCommand ?? '(this installation)'),
    row('poll', k.pollSeconds !== undefined ? `${k.pollSeconds} s` : '10 s'),
  ];
}

/** Register `executor set|show` and `engine-job` on `program`. */
export function registerExecutorCommands(
  program: Command,
  io: { out(line: string): void; err(line: string): void },
  withApp: (dataDir: string | undefined, fn: (app: App) => Promise<number>) => Promise<void>,
  dataDirOption: () => Option,
  setCode: (code: number) => void,
): void {
  const executor = program.command('executor').description('where the run queue trains: this machine (local) or a Slurm cluster');
  executor
    .command('show')
    .description('print the executor settings')
    .option('--json', 'as JSON', false)
    .addOption(dataDirOption())
    .action(async (o: { json: boolean; dataDir?: string }) =>
      withApp(o.dataDir, async (app) => {
        const s = (await app.handle('executor.get', {})) as ExecutorSettings;
        if (o.json) io.out(JSON.stringify(s, null, 2));
        else for (const l of executorLines(s)) io.out(l);
        return 0;
      }),
    );
  const collect = (v: string, prev: string[]): string[] => [...prev, v];
  executor
    .command('set')
    .description('choose the executor (and set Slurm\'s settings)')
    .argument('<kind>', 'local or slurm')
    .option('--partition <name>', 'sbatch --partition')
    .option('--account <name>', 'sbatch --account')
    .option('--time <limit>', 'sbatch --time, e.g. 30, 01:30:00, 1-00:00:00')
    .option('--cpus <n>', 'sbatch --cpus-per-task (the engine\'s threads)', int(1, 1024))
    .option('--mem <MiB>', 'sbatch --mem in MiB', int(64, 2 ** 31 - 1))
    .option('--gpus <n>', 'sbatch --gres=gpu:N', int(0, 64))
    .option('--sbatch-arg <arg>', 'another sbatch option, e.g. --qos=long (repeatable; replaces the stored list)', collect, [])
    .option('--stage <dir>', 'staging folder on the shared filesystem (same path on this machine and the nodes)')
    .option('--command <cmd>', 'the `layerwise` command on the nodes (default: this installation)')
    .option('--poll <seconds>', 'seconds between squeue / sacct polls', num(0.05, 600))
    .addOption(dataDirOption())
    .action(async (kind: string, o: SetFlags, cmd: Command) => {
      if (kind !== 'local' && kind !== 'slurm') cmd.error(`error: executor must be local or slurm, not "${kind}"`, { exitCode: 2 });
      await withApp(o.dataDir, async (app) => {
        const old = (await app.handle('executor.get', {})) as ExecutorSettings;
        const given: Partial<SlurmSettings> = {
          ...(o.partition !== undefined ? { partition: o.partition } : {}),
          ...(o.account !== undefined ? { account: o.account } : {}),
          ...(o.time !== undefined ? { timeLimit: o.time } : {}),
          ...(o.cpus !== undefined ? { cpusPerRun: o.cpus } : {}),
          ...(o.mem !== undefined ? { memoryMb: o.mem } : {}),
          ...(o.gpus !== undefined ? { gpusPerRun: o.gpus } : {}),
          ...(o.sbatchArg.length > 0 ? { extraArgs: o.sbatchArg } : {}),
          ...(o.stage !== undefined ? { stageDir: resolve(o.stage) } : {}),
          ...(o.command !== undefined ? { layerwiseCommand: o.command } : {}),
          ...(o.poll !== undefined ? { pollSeconds: o.poll } : {}),
        };
        const touched = Object.keys(given).length > 0;
        const slurm = touched || kind === 'slurm' ? { extraArgs: [], ...old.slurm, ...given } : old.slurm;
        const s = (await app.handle('executor.set', { kind, slurm })) as ExecutorSettings;
        for (const l of executorLines(s)) io.out(l);
        return 0;
      });
    });

  program
    .command('engine-job')
    .description('train the job in a Slurm job folder (run by the job script on a compute node; opens no database)')
    .argument('<dir>', 'the job folder (job.json)')
    .action(async (dir: string) => {
      setCode(await runEngineJob(resolve(dir)));
    });
}
