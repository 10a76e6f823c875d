/**
 * Executors (issue 12): where the run queue trains. `local` (the default) forks an engine
 * process on this machine; `slurm` submits each run as a Slurm batch job whose script runs
 * `layerwise engine-job DIR` on a compute node (src/main/services/executors/). The settings
 * live in the data directory (settings key `executor`) and are the same for the UI, the API
 * and the CLI (`layerwise executor set|show`).
 */
import { z } from 'zod';

export const ExecutorKindSchema = z.enum(['local', 'slurm']);
export type ExecutorKind = z.infer<typeof ExecutorKindSchema>;

/** Slurm's time format for `--time`: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS. */
const SLURM_TIME = /^(\d+-)?\d+(:\d{1,2}){0,2}$/;
/** A word sbatch may get as a value: no whitespace, no quotes, no shell metacharacters. */
const SLURM_WORD = /^[A-Za-z0-9_.,:@%+=/-]+$/;

/** The Slurm executor's settings; every field but `stageDir` may be left out (Slurm's own default then). */
export const SlurmSettingsSchema = z.object({
  /** `--partition`. */
  partition: z.string().regex(SLURM_WORD, 'a partition name (letters, digits, _ . , : - …)').optional().meta({ label: 'Partition' }),
  /** `--account`. */
  account: z.string().regex(SLURM_WORD, 'an account name').optional().meta({ label: 'Account' }),
  /** `--time`, e.g. `30`, `01:30:00`, `1-00:00:00`. */
  timeLimit: z.string().regex(SLURM_TIME, 'Slurm time: minutes, HH:MM:SS or D-HH:MM:SS').optional().meta({ label: 'Time limit', description: 'minutes, HH:MM:SS or D-HH:MM:SS (sbatch --time)' }),
  /** `--cpus-per-task`; also the engine's thread count on the node. */
  cpusPerRun: z.number().int().min(1).max(1024).optional().meta({ label: 'CPUs per run', description: 'sbatch --cpus-per-task; the engine trains with as many threads' }),
  /** `--mem`, in MiB. */
  memoryMb: z.number().int().min(64).optional().meta({ label: 'Memory per run', unit: 'MiB' }),
  /** `--gres=gpu:N` (0 or absent: none). A GPU job trains with the engine's `auto` backend (WebGPU where the node has an adapter). */
  gpusPerRun: z.number().int().min(0).max(64).optional().meta({ label: 'GPUs per run', description: 'sbatch --gres=gpu:N; a GPU job trains with the auto backend' }),
  /** More sbatch arguments, one per element, each `--name` or `--name=value` (e.g. `--qos=long`). */
  extraArgs: z.array(z.string().regex(/^--?[A-Za-z][A-Za-z0-9-]*(=[^\s'"`$\\;&|<>]+)?$/, 'an sbatch option: --name or --name=value')).max(32).default([]),
  /** A folder on the cluster's shared filesystem, mounted at the same path on this machine and the nodes: packs, specs and job folders. */
  stageDir: z.string().min(1).refine((p) => p.startsWith('/'), 'an absolute path').meta({ label: 'Staging folder', description: 'on the shared filesystem, the same path here and on the nodes' }),
  /** The command the job script runs for `layerwise` on the node (default: this installation's Node and bin/layerwise.cjs). */
  layerwiseCommand: z.string().min(1).optional().meta({ label: 'layerwise command on the nodes', description: 'default: this installation' }),
  /** Seconds between two squeue / sacct polls of a job (default 10). */
  pollSeconds: z.number().min(0.05).max(600).optional().meta({ label: 'Poll every', unit: 's' }),
});
export type SlurmSettings = z.infer<typeof SlurmSettingsSchema>;

/** The stored executor settings: which executor the queue uses, and Slurm's settings (kept while `local` is chosen). */
export const ExecutorSettingsSchema = z.object({
  kind: ExecutorKindSchema,
  slurm: SlurmSettingsSchema.nullable(),
});
export type ExecutorSettings = z.infer<typeof ExecutorSettingsSchema>;

export const DEFAULT_EXECUTOR: ExecutorSettings = { kind: 'local', slurm: null };

/** What Slurm says of one run's job (squeue while it is queued or running, sacct after), as stored in `slurm_jobs`. */
export const SlurmJobInfoSchema = z.object({
  runId: z.number().int(),
  jobId: z.string(),
  /** Slurm's state word: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, PREEMPTED, OUT_OF_MEMORY… */
  state: z.string(),
  /** The node it ran on (null while pending). */
  node: z.string().nullable(),
  /** Slurm's reason (a pending job's `Resources`, `Priority`…; an ended job's), null when none. */
  reason: z.string().nullable(),
  /** The job's folder on the staging filesystem (job.json, job.sh, messages.jsonl, slurm-<id>.out). */
  jobDir: z.string(),
  submittedAt: z.number(),
  updatedAt: z.number(),
});
export type SlurmJobInfo = z.infer<typeof SlurmJobInfoSchema>;

/** Slurm states after which a job no longer runs. */
export const SLURM_ENDED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'REVOKED']);

/** What a job that ended without the engine's own `done` / `failed` means, in words. */
export function slurmEndText(state: string, reason: string | null): string {
  const what: Record<string, string> = {
    TIMEOUT: 'reached its time limit',
    NODE_FAIL: 'lost its node',
    PREEMPTED: 'was preempted',
    OUT_OF_MEMORY: 'ran out of memory',
    CANCELLED: 'was cancelled in Slurm',
    BOOT_FAIL: 'could not boot its node',
    DEADLINE: 'passed its deadline',
  };
  return `${what[state] ?? `ended ${state}`}${reason && reason !== 'None' ? ` (${reason})` : ''}`;
}
