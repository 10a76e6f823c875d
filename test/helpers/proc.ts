/**
 * Linux /proc readers for tests and benchmarks. A process may exit between listing /proc and
 * reading its stat file (ENOENT), which is normal on a busy machine: every reader here treats
 * that process as gone instead of throwing (a bench once failed CI on exactly that race).
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * The fields of `/proc/<pid>/stat` after the command name, 0-based from the state: [0] state,
 * [1] ppid, [11] utime, [12] stime (clock ticks), [16] nice; null when the process is gone.
 */
export function procStat(pid: number | string): string[] | null {
  try {
    const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1];
    return rest === undefined ? null : rest.split(' ');
  } catch {
    return null;
  }
}

/** Process ids whose parent is `pid` (live or zombie), read from /proc. */
export function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n) && procStat(n)?.[1] === String(pid))
    .map(Number);
}

/** True while `pid` runs (not a zombie, not gone). */
export function processAlive(pid: number): boolean {
  const state = procStat(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}
