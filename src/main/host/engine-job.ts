/**
 * `layerwise engine-job DIR`: the one command a Slurm job script runs on the compute node.
 * It reads the TrainJob in DIR/job.json, forks the engine as a local run does (the same
 * entry, protocol and code), and appends each of its messages to DIR/messages.jsonl (one
 * fsync'd JSON line each; services/executors/job-files.ts), which the host ingests. It never
 * opens a database. DIR/cancel (written by the host) asks the engine to stop between steps;
 * SIGTERM (scancel, Slurm's time limit; Slurm sends it to the engine as well) stops the engine at
 * once and leaves the end to Slurm's record. Exit code: the engine's (0 after `done`), 143 after SIGTERM.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TrainJobSchema, type EngineToMain } from '../../shared/engine-protocol';
import { formatZodError } from '../../shared/spec';
import { defaultEngineEntry, NodeEngineLauncher, type EngineLauncher } from '../engine-launcher';
import { exitReason } from '../services/runs/engine';
import { JOB_FILES, MessageLog, writeFileAtomic } from '../services/executors/job-files';

/** Milliseconds between two looks for DIR/cancel. */
const CANCEL_POLL_MS = 500;

/**
 * Run the train job of job folder `dir` to its end.
 * @returns the exit code. @throws Error naming DIR/job.json when it is missing or not a TrainJob.
 */
export async function runEngineJob(dir: string, opts: { launcher?: EngineLauncher; signals?: NodeJS.Signals[] } = {}): Promise<number> {
  const file = join(dir, JOB_FILES.job);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  const parsed = TrainJobSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: not a train job: ${formatZodError(parsed.error)}`);
  const job = parsed.data;
  writeFileAtomic(join(dir, JOB_FILES.node), `${JSON.stringify({ node: process.env.SLURMD_NODENAME ?? hostname(), slurmJobId: process.env.SLURM_JOB_ID ?? null, pid: process.pid, startedAt: Date.now() / 1000 })}\n`);
  const log = new MessageLog(join(dir, JOB_FILES.messages));
  const launcher = opts.launcher ?? new NodeEngineLauncher({ ...defaultEngineEntry(), echoStderr: true });
  const engine = launcher.launch();
  let ended = false;
  let terminated = false;
  return new Promise<number>((resolve) => {
    const onSignal = (): void => {
      terminated = true;
      engine.kill('SIGKILL');
    };
    const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
    for (const s of signals) process.on(s, onSignal);
    const cancelTimer = setInterval(() => {
      if (existsSync(join(dir, JOB_FILES.cancel))) {
        clearInterval(cancelTimer);
        engine.send({ type: 'cancel' });
      }
    }, CANCEL_POLL_MS);
    engine.onMessage((m: EngineToMain) => {
      if (m.type === 'done' || m.type === 'failed') ended = true;
      log.append(m);
    });
    engine.onExit((exit) => {
      clearInterval(cancelTimer);
      for (const s of signals) process.off(s, onSignal);
      // Slurm signals every process of the job (scancel, time limit), the engine too: whichever exit is
      // seen first here, an engine ended by SIGTERM / SIGINT was stopped from outside and Slurm's record says why.
      if (exit.signal === 'SIGTERM' || exit.signal === 'SIGINT') terminated = true;
      // An engine that died by itself: its reason, as a local run records it.
      if (!ended && !terminated) log.append({ type: 'failed', error: exitReason(exit) });
      log.close();
      resolve(terminated ? 143 : (exit.code ?? 1));
    });
    engine.send(job);
  });
}
