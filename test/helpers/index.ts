/**
 * Shared test helpers: temporary data directories with a migrated database, and access
 * to the real data in ../shared/data (relative to the repository root).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDatabase, type Db } from '../../src/main/db/db';
import { dataPaths, type DataPaths } from '../../src/main/paths';
import { DatasetService } from '../../src/main/services/datasets';

/** The repository root (this file is test/helpers/index.ts). */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/** The shared real-data folder: `LAYERWISE_SHARED_DATA`, else `<repo>/../shared/data`. */
export const SHARED_DATA = resolve(process.env.LAYERWISE_SHARED_DATA ?? join(REPO_ROOT, '..', 'shared', 'data'));

const warned = new Set<string>();

/**
 * Absolute path of `rel` inside the shared data folder, or null (with a one-time warning
 * naming the missing path) when it is absent — use with `describe.skipIf(!p)`.
 */
export function sharedData(rel: string): string | null {
  const p = join(SHARED_DATA, rel);
  if (existsSync(p)) return p;
  if (!warned.has(p)) {
    warned.add(p);
    console.warn(`[tests] skipped: shared data ${p} is absent (expected the real-data folder at ../shared/data next to the repository)`);
  }
  return null;
}

/** Like sharedData, for an absolute path outside it (e.g. /usr/share/datasets/fashion-mnist). */
export function optionalPath(p: string): string | null {
  if (existsSync(p)) return p;
  if (!warned.has(p)) {
    warned.add(p);
    console.warn(`[tests] skipped: ${p} is absent`);
  }
  return null;
}

export interface TempDataDir {
  root: string;
  paths: DataPaths;
  /** Remove the folder (closing `db` first if opened through `openDb`). Safe to call twice. */
  cleanup(): void;
  /** Open (once) and return the migrated database of this data dir. */
  openDb(): Db;
}

/** A fresh data directory under the OS temp folder. */
export function tempDataDir(prefix = 'layerwise-test-'): TempDataDir {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const paths = dataPaths(root);
  let db: Db | null = null;
  return {
    root,
    paths,
    openDb() {
      db ??= openDatabase(paths.db);
      return db;
    },
    cleanup() {
      if (db?.open) db.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A fresh empty temp folder (for building test inputs). */
export function tempDir(prefix = 'layerwise-in-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A DatasetService on a fresh temporary data directory; `close()` disposes it, waits for its
 * background work (imports, packs) and removes the directory.
 */
export function tempDatasetService(): { dir: TempDataDir; svc: DatasetService; close(): Promise<void> } {
  const dir = tempDataDir();
  const svc = new DatasetService({ db: dir.openDb(), paths: dir.paths });
  return {
    dir,
    svc,
    close: async () => {
      svc.dispose();
      await svc.idle();
      dir.cleanup();
    },
  };
}
