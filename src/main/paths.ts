/**
 * The data directory layout. Chosen by `--data-dir`, else `LAYERWISE_HOME`, else
 * (Electron) `userData`, else `~/.layerwise`.
 *   layerwise.sqlite   the database
 *   blobs/ab/<sha256>  imported image files, content-addressed
 *   thumbs/ab/<sha256>.png  thumbnails (derived, disposable)
 *   cache/             packed training tensors (derived, disposable)
 *   runs/<id>/         checkpoints and artifacts
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface DataPaths {
  root: string;
  db: string;
  blobs: string;
  thumbs: string;
  cache: string;
  runs: string;
}

export function dataPaths(root: string): DataPaths {
  const r = resolve(root);
  return { root: r, db: join(r, 'layerwise.sqlite'), blobs: join(r, 'blobs'), thumbs: join(r, 'thumbs'), cache: join(r, 'cache'), runs: join(r, 'runs') };
}

/** Resolve the data directory from an explicit option, the environment, or a fallback. */
export function resolveDataDir(explicit?: string, fallback?: string): string {
  return resolve(explicit ?? process.env.LAYERWISE_HOME ?? fallback ?? join(homedir(), '.layerwise'));
}
