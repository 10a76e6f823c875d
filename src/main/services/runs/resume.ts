/**
 * Where a run can resume: the last whole checkpoint in its folder. The engine writes, per
 * epoch e, `epoch-<e>/model.json`, `weights.bin`, `optimizer.json`, `optimizer.bin` and
 * last `train-state.json` (src/engine/checkpoint.ts), so a folder with all five is whole;
 * a crash while writing leaves it without train-state.json and an earlier epoch is used.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const CHECKPOINT_FILES = ['model.json', 'weights.bin', 'optimizer.json', 'optimizer.bin', 'train-state.json'] as const;

/** The largest epoch e (0-based) with a whole `epoch-<e>/` in `runDir`, or null when there is none. */
export function lastWholeCheckpoint(runDir: string): number | null {
  if (!existsSync(runDir)) return null;
  const epochs = readdirSync(runDir)
    .map((n) => /^epoch-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  return epochs.find((e) => CHECKPOINT_FILES.every((f) => existsSync(join(runDir, `epoch-${e}`, f)))) ?? null;
}
