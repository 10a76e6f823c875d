/**
 * Folder listing and walking for the folder importer (./folder.ts) and the import
 * preview (./preview.ts). The walk is iterative (an explicit stack, no recursion and no
 * `push(...spread)`), so folders of any size and depth work; a folder that cannot be
 * read, a broken link or a link back to a folder already walked is reported as skipped
 * with its reason and the walk goes on. Hidden entries (`.name`) and OS clutter
 * (`Thumbs.db`, `desktop.ini`, `__MACOSX`) are ignored.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SkippedFile } from '../../shared/api';

const IGNORED = new Set(['thumbs.db', 'desktop.ini', '__macosx']);

/** Natural order: "2" before "10", case-insensitive first. */
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
export const naturalCompare = (a: string, b: string): number => collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);

/** Options shared by listDir and walkFiles. */
export interface WalkOptions {
  /** Polled between folders; the walk stops early when it returns true. */
  isCancelled?: () => boolean;
  /**
   * Lists one folder (default: `fs.promises.readdir(dir, { withFileTypes: true })`).
   * Tests pass a wrapper that changes the real folder just before listing it.
   */
  readdir?: (dir: string) => Promise<Dirent[]>;
}

/** One folder's visible entries, each list in natural order (names only). */
export interface DirListing {
  dirs: string[];
  files: string[];
  /** Entries that are neither: broken links (absolute path + reason). */
  skipped: SkippedFile[];
}

const defaultReaddir = (dir: string): Promise<Dirent[]> => readdir(dir, { withFileTypes: true });

/** The reason a folder could not be listed, from its errno code. */
export function unreadableReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const why =
    e.code === 'EACCES' || e.code === 'EPERM'
      ? 'permission denied'
      : e.code === 'ENOTDIR'
        ? 'no longer a folder (replaced while it was read)'
        : e.code === 'ENOENT'
          ? 'no longer exists (removed while it was read)'
          : e.code === 'ENAMETOOLONG'
            ? 'path too long for the file system'
            : (e.message ?? String(err)).split('\n')[0];
  return `folder skipped with everything in it: cannot read it (${e.code ? `${e.code}: ` : ''}${why})`;
}

/**
 * List one folder: visible sub-folders (links to folders count as folders) and files.
 * @throws the file system's error (EACCES, ENOTDIR, …) when `dir` cannot be read.
 */
export async function listDir(dir: string, opts: WalkOptions = {}): Promise<DirListing> {
  const entries = await (opts.readdir ?? defaultReaddir)(dir);
  const dirs: string[] = [], files: string[] = [];
  const skipped: SkippedFile[] = [];
  for (const d of entries) {
    if (d.name.startsWith('.') || IGNORED.has(d.name.toLowerCase())) continue;
    if (d.isDirectory()) dirs.push(d.name);
    else if (d.isSymbolicLink()) {
      const st = await stat(join(dir, d.name)).catch(() => null);
      if (!st) skipped.push({ path: join(dir, d.name), reason: 'broken link: its target does not exist' });
      else if (st.isDirectory()) dirs.push(d.name);
      else files.push(d.name);
    } else files.push(d.name);
  }
  dirs.sort(naturalCompare);
  files.sort(naturalCompare);
  return { dirs, files, skipped };
}

/**
 * Every file under `dir` (relative paths with `/`), in natural order: a folder's files
 * first, then each sub-folder's, depth first — the order of the old recursive walk.
 * Folders that cannot be read (and their contents), broken links and links to a folder
 * already walked (loops) go to `skipped` with their reason; the walk goes on.
 * Memory: the result plus one stack entry per pending folder; no recursion.
 */
export async function walkFiles(dir: string, skipped: SkippedFile[], opts: WalkOptions = {}): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>(); // `dev:ino` of the folders read
  const stack: { abs: string; rel: string }[] = [{ abs: dir, rel: '' }];
  while (stack.length > 0) {
    if (opts.isCancelled?.()) break;
    const { abs, rel } = stack.pop()!;
    let listing: DirListing;
    try {
      // Identity by device and inode (realpath would cost O(depth²) lstat calls per folder).
      const st = await stat(abs, { bigint: true });
      const id = `${st.dev}:${st.ino}`;
      if (seen.has(id)) {
        skipped.push({ path: abs, reason: 'folder skipped: a link to a folder this walk has already read (a loop)' });
        continue;
      }
      seen.add(id);
      listing = await listDir(abs, opts);
    } catch (err) {
      skipped.push({ path: abs, reason: unreadableReason(err) });
      continue;
    }
    for (const s of listing.skipped) skipped.push(s);
    for (const f of listing.files) out.push(rel ? `${rel}/${f}` : f);
    for (let i = listing.dirs.length - 1; i >= 0; i--) {
      const d = listing.dirs[i];
      stack.push({ abs: join(abs, d), rel: rel ? `${rel}/${d}` : d });
    }
  }
  return out;
}
