/**
 * Staging on the cluster's shared filesystem: a dataset version's pack is copied once into
 * `<stage>/packs/<versionHash>-<h>x<w>x<c>/` (its name is already its content address: the
 * version hash covers every item, label and split; src/main/services/pack.ts), through a
 * temporary folder renamed into place, so two runs of one version share one copy and a
 * half-copied pack is never used. Checkpoints and predictions come back into the run's own
 * folder (`runs/<id>/`) as their messages arrive.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';

/** Where a pack lives under the staging folder. */
export function stagedPackDir(stageDir: string, packDir: string): string {
  return join(stageDir, 'packs', basename(packDir));
}

/**
 * Copy the pack folder `packDir` into the staging folder unless that version is there already.
 * @returns the staged folder and whether this call copied it.
 */
export function stagePack(stageDir: string, packDir: string): { dir: string; copied: boolean } {
  const dir = stagedPackDir(stageDir, packDir);
  if (existsSync(dir)) return { dir, copied: false };
  mkdirSync(join(stageDir, 'packs'), { recursive: true });
  const tmp = join(stageDir, 'packs', `.tmp-${basename(packDir)}-${randomBytes(4).toString('hex')}`);
  cpSync(packDir, tmp, { recursive: true });
  try {
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // Another host staged the same version meanwhile: its copy is as good.
    if (!existsSync(dir)) throw err;
    return { dir, copied: false };
  }
  return { dir, copied: true };
}

/** The order a checkpoint's files are copied in: train-state.json last, as the engine writes it, so a half-copied epoch is never "whole" (runs/resume.ts). */
function checkpointFiles(dir: string): string[] {
  return readdirSync(dir).sort((a, b) => Number(a === 'train-state.json') - Number(b === 'train-state.json'));
}

/** Copy checkpoint folder `from` to `to` (files only, train-state.json last). */
export function copyCheckpoint(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const f of checkpointFiles(from)) copyFileSync(join(from, f), join(to, f));
}
