/**
 * Importer for a folder of class folders (`<root>/<class>/*.jpg`), or of split folders
 * (`train`, `val`/`validation`, `test`) each holding class folders. Files nested deeper
 * inside a class folder belong to that class; files directly in the root (or in a split
 * folder) are imported unlabelled. Hidden files are ignored. Content decides whether a
 * file is an image, not its name.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { SkippedFile, Split } from '../../shared/api';
import { normalizeFile } from './image';
import type { ImportEntry, ImportSource, Importer } from './types';

const SPLIT_NAMES: Record<string, Split> = { train: 'train', training: 'train', val: 'val', valid: 'val', validation: 'val', test: 'test', testing: 'test' };
const IGNORED = new Set(['thumbs.db', 'desktop.ini', '__macosx']);

/** Natural order: "2" before "10", case-insensitive first. */
export const naturalCompare = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' }) || (a < b ? -1 : a > b ? 1 : 0);

async function isDir(path: string, d: Dirent): Promise<boolean> {
  if (d.isDirectory()) return true;
  if (d.isSymbolicLink()) return (await stat(path).catch(() => null))?.isDirectory() ?? false;
  return false;
}

async function listDir(dir: string): Promise<{ dirs: string[]; files: string[] }> {
  const entries = await readdir(dir, { withFileTypes: true });
  const dirs: string[] = [], files: string[] = [];
  for (const d of entries) {
    if (d.name.startsWith('.') || IGNORED.has(d.name.toLowerCase())) continue;
    const p = join(dir, d.name);
    if (await isDir(p, d)) dirs.push(d.name);
    else files.push(d.name);
  }
  dirs.sort(naturalCompare);
  files.sort(naturalCompare);
  return { dirs, files };
}

/** All files under `dir`, recursively, in natural order (relative paths). */
async function walk(dir: string, isCancelled: () => boolean, prefix = ''): Promise<string[]> {
  const { dirs, files } = await listDir(dir);
  const out = files.map((f) => (prefix ? `${prefix}/${f}` : f));
  for (const d of dirs) {
    if (isCancelled()) break;
    out.push(...(await walk(join(dir, d), isCancelled, prefix ? `${prefix}/${d}` : d)));
  }
  return out;
}

export const folderImporter: Importer = {
  id: 'folder',
  description: 'a folder of class folders, or of train/val/test folders holding class folders',

  async accepts(path: string): Promise<boolean> {
    return (await stat(path).catch(() => null))?.isDirectory() ?? false;
  },

  async open(root: string, isCancelled: () => boolean): Promise<ImportSource> {
    const entries: ImportEntry[] = [];
    const skipped: SkippedFile[] = [];
    const classNames = new Set<string>();
    const top = await listDir(root);
    const splitDirs = top.dirs.filter((d) => SPLIT_NAMES[d.toLowerCase()] !== undefined);
    const hasSplits = splitDirs.length > 0;

    const add = (file: string, className: string | null, split: Split | null, base: string): void => {
      const name = relative(base, file).split('\\').join('/');
      entries.push({ path: file, name, className, split, load: () => normalizeFile(file) });
    };
    const addClassFolders = async (dir: string, split: Split | null): Promise<void> => {
      const { dirs, files } = await listDir(dir);
      for (const f of files) add(join(dir, f), null, split, dir);
      for (const c of dirs) {
        if (isCancelled()) return;
        classNames.add(c);
        const cdir = join(dir, c);
        for (const f of await walk(cdir, isCancelled)) add(join(cdir, f), c, split, cdir);
      }
    };

    if (hasSplits) {
      for (const f of top.files) add(join(root, f), null, null, root);
      for (const d of top.dirs) {
        const split = SPLIT_NAMES[d.toLowerCase()];
        if (split === undefined) skipped.push({ path: join(root, d), reason: 'folder ignored: not a split folder (expected train, val or test next to it)' });
        else await addClassFolders(join(root, d), split);
      }
    } else {
      await addClassFolders(root, null);
    }
    return { format: 'folder', classNames: [...classNames].sort(naturalCompare), hasSplits, entries, skipped };
  },
};
