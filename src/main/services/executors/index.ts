/**
 * The run queue's executor (issue 12): `local` forks engines here; `slurm` submits each run
 * as a batch job (./slurm-process.ts). The choice and Slurm's settings are stored in the data
 * directory (settings `queue.executor`), read at each launch, so a change applies to the next
 * run that starts. Only training goes to Slurm; short engine jobs (inspect, export, LR range)
 * stay local.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_EXECUTOR, ExecutorSettingsSchema, SLURM_ENDED, type ExecutorKind, type ExecutorSettings, type SlurmJobInfo } from '../../../shared/executor';
import { ApiError } from '../../../shared/errors';
import { formatZodError } from '../../../shared/spec';
import type { Db } from '../../db/db';
import { readSetting, SETTING, writeSetting } from '../../db/settings';
import type { EngineLauncher, EngineProcess, LaunchOptions } from '../../engine-launcher';
import { SlurmEngineProcess } from './slurm-process';
import { SlurmJobStore } from './store';
import { shellQuote } from './slurm';

export { SlurmEngineProcess } from './slurm-process';

/** This installation's `layerwise` as a command line: Node and bin/layerwise.cjs found above `from`. */
export function defaultLayerwiseCommand(from: string = __dirname): string {
  let dir = resolve(from);
  for (;;) {
    const bin = join(dir, 'bin', 'layerwise.cjs');
    if (existsSync(bin)) return `${shellQuote(process.execPath)} ${shellQuote(bin)}`;
    const up = dirname(dir);
    if (up === dir) return 'layerwise';
    dir = up;
  }
}

export interface ExecutorServiceOptions {
  db: Db;
  /** The data directory's `runs/` folder. */
  runsDir: string;
  /** Engines on this machine. */
  local: EngineLauncher;
  /** Use this executor whatever is stored (the CLI's `sweep --executor`). */
  override?: ExecutorKind;
}

export class ExecutorService {
  readonly store: SlurmJobStore;
  private readonly db: Db;
  private readonly runsDir: string;
  private readonly local: EngineLauncher;
  private readonly override: ExecutorKind | undefined;

  constructor(opts: ExecutorServiceOptions) {
    this.db = opts.db;
    this.runsDir = opts.runsDir;
    this.local = opts.local;
    this.override = opts.override;
    this.store = new SlurmJobStore(opts.db);
    if (this.override === 'slurm' && !this.get().slurm) throw new ApiError('invalid_params', 'executor: Slurm is not set up; run `layerwise executor set slurm --stage DIR` first', 'executor');
  }

  /** The stored settings (the default: local, no Slurm settings). */
  get(): ExecutorSettings {
    return readSetting(this.db, SETTING.executor, ExecutorSettingsSchema) ?? DEFAULT_EXECUTOR;
  }

  /**
   * Store the executor settings. @returns them as stored.
   * @throws ApiError invalid_params naming the field: a bad value, or `slurm` without Slurm settings (`slurm.stageDir`).
   */
  set(params: unknown): ExecutorSettings {
    const r = ExecutorSettingsSchema.safeParse(params);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new ApiError('invalid_params', formatZodError(r.error), issue.path.join('.'));
    }
    if (r.data.kind === 'slurm' && !r.data.slurm) throw new ApiError('invalid_params', 'slurm.stageDir: the Slurm executor needs a staging folder on the shared filesystem', 'slurm.stageDir');
    writeSetting(this.db, SETTING.executor, r.data);
    return r.data;
  }

  /** The Slurm job of a run, or null when it never was one. */
  job(runId: number): SlurmJobInfo | null {
    return this.store.info(runId);
  }

  /** The launcher of training runs: each launch goes to the executor stored at that moment. */
  trainingLauncher(): EngineLauncher {
    return {
      launch: (opts?: LaunchOptions): EngineProcess => {
        const s = this.get();
        const kind = this.override ?? s.kind;
        if (kind === 'slurm' && s.slurm) return new SlurmEngineProcess({ settings: s.slurm, store: this.store, runsDir: this.runsDir, defaultCommand: defaultLayerwiseCommand() });
        return this.local.launch(opts);
      },
    };
  }

  /** Whether run `runId` has a Slurm job a host should follow (its row's last state is not an end state). */
  hasLiveJob(runId: number): boolean {
    const r = this.store.row(runId);
    return r !== undefined && !SLURM_ENDED.has(r.state) && r.state !== 'UNKNOWN';
  }

  /**
   * Follow the Slurm job of a run whose host went away (its messages replayed from the start).
   * @returns the process and the epoch the job continues after (-1: from the start), or null when there is no live job.
   */
  reattach(runId: number): { engine: EngineProcess; resumeAfter: number } | null {
    const row = this.store.row(runId);
    if (!row || !this.hasLiveJob(runId)) return null;
    const s = this.get().slurm;
    const settings = s ?? { stageDir: dirname(dirname(row.job_dir)), extraArgs: [] };
    return { engine: new SlurmEngineProcess({ settings, store: this.store, runsDir: this.runsDir, defaultCommand: defaultLayerwiseCommand() }, row), resumeAfter: row.resume_after };
  }
}
