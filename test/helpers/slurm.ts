/**
 * The real one-node Slurm of scripts/slurm-up.sh, for the tests that submit to it
 * (test/main/slurm-real.test.ts, test/e2e/slurm.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Metric } from '../../src/shared/api';

/** `layerwise` from this checkout's sources (tsx), as job scripts on the node run it (the node is this machine). */
export const LAYERWISE_DEV = resolve(__dirname, '..', 'fixtures', 'fake-slurm', 'layerwise-dev');

/**
 * Why the real Slurm cannot be used here, or null when `sinfo` answers and a node of the
 * default partition is idle (or partly allocated). Warns once with the reason when there is one.
 */
export function realSlurmMissing(): string | null {
  let why: string | null = null;
  try {
    const states = execFileSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] }).split('\n').map((s) => s.trim()).filter(Boolean);
    if (!states.some((s) => s === 'idle' || s === 'mix')) why = `no idle Slurm node (sinfo: ${states.join(', ') || 'no nodes'}); scripts/slurm-up.sh starts one`;
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer | string };
    why = e.code === 'ENOENT' ? 'sinfo not found (Slurm is not installed; .ci/run installs slurm-wlm and munge, scripts/slurm-up.sh starts a one-node cluster)' : `sinfo failed: ${String(e.stderr ?? err).trim().split('\n')[0]} (scripts/slurm-up.sh starts a one-node cluster)`;
  }
  if (why) console.warn(`[tests] skipped: ${why}`);
  return why;
}

/** A run's epoch and test metrics as sorted comparable strings ("val_loss|3|0.41…"), timings left out: equal lists, equal numbers. */
export function epochNumbers(ms: Metric[]): string[] {
  return ms
    .filter((m) => m.step === null && m.name !== 'epoch_seconds' && m.name !== 'samples_per_sec')
    .map((m) => `${m.name}|${m.epoch}|${m.value}`)
    .sort();
}

/** Poll `ok` every `everyMs` until it holds. @throws Error naming `what` after `ms` milliseconds. */
export async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 120_000, everyMs = 100): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
