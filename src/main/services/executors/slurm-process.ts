/**
 * A run trained as a Slurm job, behind the same EngineProcess interface as a local engine, so
 * the run service's supervision (messages → rows, cancel, exits) is the one of a local run.
 *
 * send(train job): stage the pack (once per version, ./stage.ts), write job.json and job.sh into
 * a fresh job folder, `sbatch` it, then follow it: the engine's messages are read from the job's
 * messages.jsonl as they appear (fs.watch on the folder, and a poll every `pollSeconds` since
 * shared filesystems often send no events) and handed on; checkpoints and predictions are copied
 * into the run's folder first and their paths rewritten. squeue / sacct give the state, node and
 * reason, stored in `slurm_jobs`, until Slurm reports the job's end state (also after the engine's
 * `done`: kill() then follows the job to its end, bounded, rather than cancel it). A job that ends without the engine's `done` / `failed` (time
 * limit, node failure, preemption) is reported as `failed` with Slurm's words. send(cancel) and
 * kill() → `scancel`; detach() stops following without cancelling (a host going down), and
 * `attach` follows a job a previous host submitted, replaying its messages from the start.
 */
import { existsSync, mkdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { copyFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SLURM_ENDED, slurmEndText, type SlurmSettings } from '../../../shared/executor';
import type { EngineToMain, MainToEngine, TrainJob } from '../../../shared/engine-protocol';
import { EngineProcessBase } from '../../engine-launcher';
import { lastWholeCheckpoint } from '../runs/resume';
import { JOB_FILES, readMessages, writeFileAtomic } from './job-files';
import { jobScript, queryJob, sbatch, scancel } from './slurm';
import { copyCheckpoint, stagePack } from './stage';
import type { SlurmJobRow, SlurmJobStore } from './store';

/** What a Slurm engine process needs from its executor. */
export interface SlurmContext {
  settings: SlurmSettings;
  store: SlurmJobStore;
  /** The data directory's `runs/` folder: checkpoints and predictions are copied into `runs/<id>/`. */
  runsDir: string;
  /** The `layerwise` command for the job script when the settings name none. */
  defaultCommand: string;
}

/** Polls in a row that find neither squeue nor sacct knowing a submitted job before it counts as lost. */
const UNKNOWN_POLLS = 30;
/** After the engine's `done` / `failed`, how long the job is followed (at most) until Slurm reports its end state, and how often it is asked meanwhile. */
const FINAL_FOLLOW_MS = 60_000;
const FINAL_POLL_MS = 1000;

export class SlurmEngineProcess extends EngineProcessBase {
  private jobId: string | null = null;
  private jobDir: string | null = null;
  private outDir: string | null = null;
  private runId = 0;
  private offset = 0;
  private timer: NodeJS.Timeout | null = null;
  private finalTimer: NodeJS.Timeout | null = null;
  private watcher: FSWatcher | null = null;
  private cancelRequested = false;
  private endedByEngine = false;
  private unknownPolls = 0;
  private polling = false;
  private stopped = false;
  private lastState: string | null = null;

  constructor(private readonly ctx: SlurmContext, attach?: SlurmJobRow) {
    super();
    if (attach) {
      this.runId = attach.run_id;
      this.jobId = attach.job_id;
      this.jobDir = attach.job_dir;
      this.outDir = attach.out_dir;
      // After the caller has subscribed: the replay starts with the job's first message.
      setImmediate(() => {
        if (!this.exited) this.follow();
      });
    }
  }

  /** The OS pid: none here, the engine runs on a compute node. */
  get pid(): number | undefined {
    return undefined;
  }

  /** The Slurm job id once submitted. */
  get slurmJobId(): string | null {
    return this.jobId;
  }

  send(msg: MainToEngine): void {
    if (this.exited) return;
    if (msg.type === 'train') {
      if (this.runId !== 0) return;
      this.runId = msg.runId;
      void this.submit(msg).catch((err: unknown) => {
        this.appendStderr((err as Error).message);
        this.stop();
        this.exit(1, null);
      });
    } else if (msg.type === 'cancel') {
      this.cancelRequested = true;
      if (this.jobId) void this.cancelJob();
    } else {
      this.appendStderr(`the Slurm executor runs training jobs only, not "${msg.type}"`);
      this.exit(1, null);
    }
  }

  /**
   * scancel the job and stop following it at once. After the engine's own `done` / `failed` the
   * job is ending by itself: it is not cancelled but followed (every FINAL_POLL_MS, at most
   * FINAL_FOLLOW_MS) until Slurm reports its end state, which is stored; then the process exits.
   */
  kill(): void {
    if (this.exited) return;
    if (this.endedByEngine && !this.cancelRequested && this.jobId && !this.stopped) {
      this.followToEnd();
      return;
    }
    if (this.jobId) void this.cancelJob();
    this.stop();
    this.exit(null, 'SIGKILL');
  }

  /** Stop following the job without cancelling it (it trains on; a later host re-attaches). */
  detach(): void {
    if (this.exited) return;
    this.stop();
    this.exit(null, null);
  }

  private async cancelJob(): Promise<void> {
    try {
      await scancel(this.jobId!);
    } catch (err) {
      this.appendStderr(`\n${(err as Error).message}`);
    }
  }

  private async submit(job: TrainJob): Promise<void> {
    const s = this.ctx.settings;
    const pack = stagePack(s.stageDir, job.packDir);
    const outDir = join(s.stageDir, 'runs', String(job.runId));
    mkdirSync(outDir, { recursive: true });
    if (job.resume) {
      // The job continues after this checkpoint: the copy in the run's folder is the one the host checked.
      const e = job.resume.epoch;
      if (lastWholeCheckpoint(outDir) !== e || !existsSync(join(outDir, `epoch-${e}`, 'train-state.json'))) copyCheckpoint(join(job.outDir, `epoch-${e}`), join(outDir, `epoch-${e}`));
    }
    const jobDir = join(s.stageDir, 'jobs', `run-${job.runId}-${Date.now().toString(36)}`);
    mkdirSync(jobDir, { recursive: true });
    const staged: TrainJob = { ...job, packDir: pack.dir, outDir };
    writeFileAtomic(join(jobDir, JOB_FILES.job), `${JSON.stringify(staged, null, 2)}\n`);
    const name = `layerwise-run-${job.runId}`;
    writeFileAtomic(join(jobDir, JOB_FILES.script), jobScript(s, { name, jobDir, runId: job.runId, defaultCommand: this.ctx.defaultCommand }), 0o755);
    if (this.exited) return;
    const jobId = await sbatch(join(jobDir, JOB_FILES.script), jobDir);
    this.jobId = jobId;
    this.jobDir = jobDir;
    this.outDir = outDir;
    this.ctx.store.submitted({ runId: job.runId, jobId, jobDir, outDir, resumeAfter: job.resume?.epoch ?? -1 });
    if (this.exited || this.cancelRequested) {
      await this.cancelJob();
      if (this.exited) return;
    }
    this.follow();
  }

  private follow(): void {
    const every = Math.max(50, (this.ctx.settings.pollSeconds ?? 10) * 1000);
    try {
      this.watcher = watch(this.jobDir!, () => this.readNew());
      this.watcher.on('error', () => undefined);
    } catch {
      // no events on this filesystem: the poll reads them
    }
    this.timer = setInterval(() => void this.poll(), every);
    void this.poll();
  }

  /** Poll fast until Slurm says the job ended (poll() then exits), or give up after FINAL_FOLLOW_MS. */
  private followToEnd(): void {
    if (this.finalTimer) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => void this.poll(), FINAL_POLL_MS);
    this.finalTimer = setTimeout(() => {
      if (this.exited) return;
      this.stop();
      this.exit(null, 'SIGKILL');
    }, FINAL_FOLLOW_MS);
    void this.poll();
  }

  private stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.finalTimer) clearTimeout(this.finalTimer);
    this.finalTimer = null;
    this.watcher?.close();
    this.watcher = null;
  }

  /** Hand on every complete message line written since the last read. */
  private readNew(): void {
    if (this.stopped || !this.jobDir) return;
    let batch: unknown[];
    try {
      const r = readMessages(join(this.jobDir, JOB_FILES.messages), this.offset);
      this.offset = r.offset;
      batch = r.messages;
    } catch (err) {
      this.appendStderr(`\n${(err as Error).message}`);
      return;
    }
    for (const raw of batch) {
      if (this.stopped) return;
      this.receive(this.toHost(raw as EngineToMain));
    }
  }

  /** A message as the host sees it: checkpoints and predictions copied into `runs/<id>/`, the node named in `ready`. */
  private toHost(msg: EngineToMain): EngineToMain {
    if (!msg || typeof msg !== 'object') return msg;
    const runDir = join(this.ctx.runsDir, String(this.runId));
    const here = (p: string): string => join(runDir, relative(this.outDir!, p));
    switch (msg.type) {
      case 'checkpoint': {
        copyCheckpoint(join(this.outDir!, `epoch-${msg.epoch}`), join(runDir, `epoch-${msg.epoch}`));
        return { ...msg, path: here(msg.path) };
      }
      case 'predictions': {
        mkdirSync(runDir, { recursive: true });
        copyFileSync(msg.path, here(msg.path));
        return { ...msg, path: here(msg.path) };
      }
      case 'ready': {
        const node = this.nodeName();
        return node ? { ...msg, detail: `${msg.detail ? `${msg.detail}; ` : ''}Slurm job ${this.jobId} on ${node}` } : msg;
      }
      case 'done':
      case 'failed':
        this.endedByEngine = true;
        return msg;
      default:
        return msg;
    }
  }

  private nodeName(): string | null {
    try {
      return (JSON.parse(readFileSync(join(this.jobDir!, JOB_FILES.node), 'utf8')) as { node?: string }).node ?? null;
    } catch {
      return null;
    }
  }

  /** Read new messages, ask Slurm for the state, and end when the job has. */
  private async poll(): Promise<void> {
    if (this.stopped || this.polling || !this.jobId) return;
    this.polling = true;
    try {
      this.readNew();
      let state;
      try {
        state = await queryJob(this.jobId);
      } catch (err) {
        this.appendStderr(`\n${(err as Error).message}`);
        return;
      }
      if (this.stopped) return;
      if (!state) {
        if (++this.unknownPolls < UNKNOWN_POLLS) return;
        state = { state: 'UNKNOWN', node: null, reason: `Slurm no longer knows job ${this.jobId}`, exitCode: null };
      } else this.unknownPolls = 0;
      try {
        this.ctx.store.update(this.runId, state);
      } catch (err) {
        // The database closed under us (the host quit): nothing more to record.
        this.appendStderr(`\n${(err as Error).message}`);
        this.stop();
        this.exit(null, null);
        return;
      }
      this.lastState = state.state;
      if (!SLURM_ENDED.has(state.state) && state.state !== 'UNKNOWN') return;
      // Ended: what the engine wrote before the end, then the end itself.
      this.readNew();
      if (this.stopped) return;
      if (!this.endedByEngine && !this.cancelRequested) {
        this.receive({ type: 'failed', error: `Slurm job ${this.jobId}${state.node ? ` on ${state.node}` : ''} ${slurmEndText(state.state, state.reason)}; resume the run to continue from its last checkpoint` });
      }
      this.stop();
      const code = state.exitCode ? Number(state.exitCode.split(':')[0]) : null;
      this.exit(Number.isFinite(code) ? code : null, null);
    } finally {
      this.polling = false;
    }
  }

  /** Slurm's last state word of the job (null before the first poll). */
  get slurmState(): string | null {
    return this.lastState;
  }
}
