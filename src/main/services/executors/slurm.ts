/**
 * Slurm itself, through its commands: the batch script and the sbatch arguments built from the
 * executor settings (pure), and `sbatch`, `squeue`, `sacct`, `scancel` run as child processes
 * (found on PATH; no Slurm library). The formats asked for are fixed here so the parsers know
 * the columns: squeue `-t all -o %i|%T|%N|%r`, sacct `-P -X -o JobID,State,ExitCode,NodeList,Reason`.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SlurmSettings } from '../../../shared/executor';
import { JOB_FILES } from './job-files';

const exec = promisify(execFile);

/** Quote `s` for bash (single quotes). */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The sbatch options of one run's job, in order: job name, output file (in the job folder,
 * `%j` the job id), working folder, then partition, account, `--time`, `--cpus-per-task`,
 * `--mem` (MiB), `--gres=gpu:N` for the settings given, then `extraArgs` as they are.
 */
export function sbatchOptions(settings: SlurmSettings, job: { name: string; jobDir: string }): string[] {
  const o = [`--job-name=${job.name}`, `--output=${join(job.jobDir, 'slurm-%j.out')}`, `--chdir=${job.jobDir}`];
  if (settings.partition) o.push(`--partition=${settings.partition}`);
  if (settings.account) o.push(`--account=${settings.account}`);
  if (settings.timeLimit) o.push(`--time=${settings.timeLimit}`);
  if (settings.cpusPerRun) o.push(`--cpus-per-task=${settings.cpusPerRun}`);
  if (settings.memoryMb) o.push(`--mem=${settings.memoryMb}M`);
  if (settings.gpusPerRun) o.push(`--gres=gpu:${settings.gpusPerRun}`);
  o.push(...settings.extraArgs);
  return o;
}

/**
 * The batch script of one run's job: the sbatch options as `#SBATCH` lines (so the script can
 * be resubmitted by hand as it is), the engine's thread count from the CPUs Slurm gave, and
 * `layerwise engine-job <jobDir>`. `layerwise` is the settings' `layerwiseCommand`, else
 * `defaultCommand`.
 */
export function jobScript(settings: SlurmSettings, job: { name: string; jobDir: string; runId: number; defaultCommand: string }): string {
  const threads = settings.cpusPerRun ?? 1;
  return [
    '#!/bin/bash',
    `# Layerwise run ${job.runId}: trains in \`layerwise engine-job\`, which writes the engine's messages to ${JOB_FILES.messages} here.`,
    ...sbatchOptions(settings, job).map((o) => `#SBATCH ${o}`),
    'set -eu',
    `export LAYERWISE_THREADS="\${SLURM_CPUS_PER_TASK:-${threads}}"`,
    `exec ${settings.layerwiseCommand ?? job.defaultCommand} engine-job ${shellQuote(job.jobDir)}`,
    '',
  ].join('\n');
}

/** What Slurm says of a job now. `ended`: it no longer runs (from sacct, or squeue's end states). */
export interface SlurmJobState {
  state: string;
  node: string | null;
  reason: string | null;
  exitCode: string | null;
}

/** Node list and reason as null when Slurm writes none. */
const orNull = (s: string | undefined): string | null => {
  const t = (s ?? '').trim();
  return t === '' || t === 'None' || t === '(null)' || t === 'None assigned' ? null : t;
};

/** One `squeue -o %i|%T|%N|%r` line of job `jobId`, or null when squeue does not list it. */
export function parseSqueue(stdout: string, jobId: string): SlurmJobState | null {
  for (const line of stdout.split('\n')) {
    const [id, state, node, reason] = line.trim().split('|');
    if (id === jobId && state) return { state: state.trim(), node: orNull(node), reason: orNull(reason), exitCode: null };
  }
  return null;
}

/** The allocation line of job `jobId` in `sacct -P -X -o JobID,State,ExitCode,NodeList,Reason`, or null. `CANCELLED by 1000` reads as CANCELLED. */
export function parseSacct(stdout: string, jobId: string): SlurmJobState | null {
  for (const line of stdout.split('\n')) {
    const [id, state, exitCode, node, reason] = line.trim().split('|');
    if (id === jobId && state) return { state: state.trim().split(/\s+/)[0]!, node: orNull(node), reason: orNull(reason), exitCode: orNull(exitCode) };
  }
  return null;
}

/** The error text of a failed Slurm command: its stderr, else its message. */
function commandError(cmd: string, err: unknown): Error {
  const e = err as { stderr?: string; message?: string; code?: string };
  if (e.code === 'ENOENT') return new Error(`${cmd}: not found on PATH; is this a Slurm login node, or is Slurm's bin folder on PATH?`);
  return new Error(`${cmd}: ${(e.stderr ?? '').trim() || e.message || String(err)}`);
}

/** Submit `script` (a file in the job folder) with `sbatch --parsable`. @returns the job id. @throws Error with sbatch's message. */
export async function sbatch(script: string, cwd: string): Promise<string> {
  let out: string;
  try {
    out = (await exec('sbatch', ['--parsable', script], { cwd })).stdout;
  } catch (err) {
    throw commandError('sbatch', err);
  }
  const id = out.trim().split(';')[0]!;
  if (!/^\d+(_\d+)?$/.test(id)) throw new Error(`sbatch: unexpected answer "${out.trim().slice(0, 200)}"`);
  return id;
}

/**
 * The job's state: squeue while Slurm still lists it, else sacct's record.
 * @returns null when neither knows the job (yet, or any more).
 * @throws Error when both commands are missing.
 */
export async function queryJob(jobId: string): Promise<SlurmJobState | null> {
  let squeueFailed: Error | null = null;
  try {
    // `-t all`: an ended job too while slurmctld still holds it (MinJobAge), for clusters without accounting (sacct off).
    const r = parseSqueue((await exec('squeue', ['-h', '-t', 'all', '-j', jobId, '-o', '%i|%T|%N|%r'])).stdout, jobId);
    if (r) return r;
  } catch (err) {
    // An ended job is an "Invalid job id" to squeue: sacct knows it.
    squeueFailed = commandError('squeue', err);
  }
  try {
    return parseSacct((await exec('sacct', ['-n', '-P', '-X', '-j', jobId, '-o', 'JobID,State,ExitCode,NodeList,Reason'])).stdout, jobId);
  } catch (err) {
    if (squeueFailed && (err as { code?: string }).code === 'ENOENT') throw squeueFailed;
    return null;
  }
}

/** `scancel <jobId>`. @throws Error with scancel's message. */
export async function scancel(jobId: string): Promise<void> {
  try {
    await exec('scancel', [jobId]);
  } catch (err) {
    throw commandError('scancel', err);
  }
}
