/** `layerwise executor set|show` on a real data directory: the settings round-trip, bad values are refused naming the field. */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/main/host/cli-program';
import { sbatchOptions } from '../../src/main/services/executors/slurm';
import type { ExecutorSettings } from '../../src/shared/executor';
import { tempDataDir, type TempDataDir } from '../helpers';
import { argv, io } from './cli-io';

describe('layerwise executor', () => {
  let dir: TempDataDir | undefined;
  afterEach(() => dir?.cleanup());

  it('set slurm then show --json gives back every setting; set local keeps them; sbatch gets them', async () => {
    dir = tempDataDir();
    const d = ['--data-dir', dir.root];
    const a = io();
    expect(await runCli(argv('executor', 'set', 'slurm', '--partition', 'gpu', '--account', 'lab', '--time', '01:30:00', '--cpus', '4', '--mem', '2048', '--gpus', '1', '--sbatch-arg=--qos=long', '--stage', '/shared/stage', ...d), a)).toBe(0);
    const b = io();
    expect(await runCli(argv('executor', 'show', '--json', ...d), b)).toBe(0);
    const s = JSON.parse(b.lines.join('\n')) as ExecutorSettings;
    expect(s).toEqual({ kind: 'slurm', slurm: { partition: 'gpu', account: 'lab', timeLimit: '01:30:00', cpusPerRun: 4, memoryMb: 2048, gpusPerRun: 1, extraArgs: ['--qos=long'], stageDir: '/shared/stage' } });
    expect(sbatchOptions(s.slurm!, { name: 'r', jobDir: '/shared/stage/jobs/x' })).toEqual([
      '--job-name=r', '--output=/shared/stage/jobs/x/slurm-%j.out', '--chdir=/shared/stage/jobs/x',
      '--partition=gpu', '--account=lab', '--time=01:30:00', '--cpus-per-task=4', '--mem=2048M', '--gres=gpu:1', '--qos=long',
    ]);
    expect(await runCli(argv('executor', 'set', 'local', ...d), io())).toBe(0);
    const c = io();
    await runCli(argv('executor', 'show', '--json', ...d), c);
    expect(JSON.parse(c.lines.join('\n'))).toEqual({ ...s, kind: 'local' });
    const e = io();
    expect(await runCli(argv('executor', 'set', 'slurm', '--time', 'soon', ...d), e)).toBe(2);
    expect(e.errors.join('\n')).toContain('slurm.timeLimit');
  });
});
