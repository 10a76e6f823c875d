/**
 * Importer for a folder of class folders (`<root>/<class>/*.jpg`), or of split folders
 * (`train`, `training_set`, `val`, `dev`, `test_set`, … : see layout.ts `splitOfName`)
 * each holding class folders. When the chosen folder holds only one folder (and no
 * image files: a README or licence may sit beside it), the split folders are looked
 * for below it too (`dataset/training_set/…`), and a split folder holding only a folder
 * of the same split is entered (`training_set/training_set/cats`, as Kaggle ships
 * cats-vs-dogs). Class folders that hold only split folders (`cats/train`, `cats/test`)
 * are read the other way round. Files nested deeper inside a class folder belong to
 * that class; files directly in the root (or in a split folder) are unlabelled unless a
 * label pattern names their class. Hidden files are ignored. Content decides whether a
 * file is an image, not its name.
 *
 * `scanFolder` is the one scan, used by the import (`folderImporter`) and the preview
 * (./preview.ts), so a preview shows exactly what an import would store.
 */
import { stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { SkippedFile, Split } from '../../shared/api';
import { classNameProblem } from '../../shared/class-name';
import { normalizeFile } from '../images/image';
import { compileLabelPattern, splitOfName, type LabelPattern } from './layout';
import type { ImportEntry, ImportSource, Importer } from './types';
import { listDir, naturalCompare, unreadableReason, walkFiles, type DirListing, type WalkOptions } from './walk';

export { naturalCompare } from './walk';

/** Single-folder levels looked through for split folders (`chosen/dataset/archive/train`). */
const MAX_DESCENT = 3;
/** Files that may sit beside the single folder looked through (a README, a licence, a CSV): not images by their names. */
const DOC_FILE = /\.(txt|md|rst|csv|tsv|json|ya?ml|xml|html?|pdf|py|ipynb|sh|zip|tar|gz|7z)$|^(license|licence|readme|copying|notice)(\.|$)/i;
const onlyDocs = (files: string[]): boolean => files.every((f) => DOC_FILE.test(f));

/** Options of a folder scan. */
export interface FolderScanOptions extends WalkOptions {
  /** Label pattern (layout.ts): when given, a file whose name matches takes its class from it, class folder or not. */
  labelPattern?: LabelPattern | null;
}

/** A class folder that itself holds folders with files (worth a warning: maybe those are the classes). */
export interface NestedClassFolder {
  split: Split | null;
  className: string;
  /** Absolute path of the class folder. */
  path: string;
  /** Its sub-folders that hold files, natural order. */
  subfolders: string[];
}

/** What a scan found: the import source plus the layout facts the preview reports. */
export interface FolderScan extends ImportSource {
  /** The folder whose sub-folders are the splits or classes: the chosen folder, or the single folder below it. */
  base: string;
  /** Split folders found under `base`, in natural order (several may map to one split). */
  splitFolders: { split: Split; folder: string }[];
  /** Class folders per split folder (for split folders with no classes, and classes missing from a split). */
  classesBySplitFolder: { split: Split; folder: string; classes: string[]; files: number }[];
  /** Folders next to the split folders that were ignored. */
  ignoredFolders: string[];
  /** Folders named like a split that were taken as classes (they sat among more class folders). */
  splitNamedClasses: string[];
  nested: NestedClassFolder[];
  /** Files whose name the label pattern did not match (count), when a pattern was given. */
  unmatched: number;
}

async function tryList(dir: string, skipped: SkippedFile[], opts: WalkOptions): Promise<DirListing | null> {
  try {
    const l = await listDir(dir, opts);
    for (const s of l.skipped) skipped.push(s);
    return l;
  } catch (err) {
    skipped.push({ path: dir, reason: unreadableReason(err) });
    return null;
  }
}

/** Split folders among `dirs` when they make a split layout: at least as many as the other folders. */
function splitDirsOf(dirs: string[]): string[] {
  const s = dirs.filter((d) => splitOfName(d) !== null);
  return s.length > 0 && s.length >= dirs.length - s.length ? s : [];
}

/**
 * The class-first layout `<class>/<split>/…` (`cats/train`, `cats/test`, `dogs/train`, …):
 * every folder of `top` holds only split folders and no files. Their listings, or null.
 */
async function classFirstLayout(root: string, top: DirListing, opts: WalkOptions): Promise<Map<string, DirListing> | null> {
  if (top.dirs.length === 0) return null;
  const out = new Map<string, DirListing>();
  for (const c of top.dirs) {
    const l = await listDir(join(root, c), opts).catch(() => null);
    if (!l || l.files.length > 0 || l.dirs.length === 0 || !l.dirs.every((d) => splitOfName(d) !== null)) return null;
    out.set(c, l);
  }
  return out;
}

/**
 * Scan `root` into import entries (see the file comment for the layouts).
 * @throws Error naming `root` when it cannot be listed at all.
 */
export async function scanFolder(root: string, opts: FolderScanOptions = {}): Promise<FolderScan> {
  const entries: ImportEntry[] = [];
  const skipped: SkippedFile[] = [];
  const classNames = new Set<string>();
  const nested: NestedClassFolder[] = [];
  const pattern = opts.labelPattern ?? null;
  const isCancelled = opts.isCancelled ?? (() => false);
  let unmatched = 0;

  let base = root;
  let top = await listDir(root, opts);
  for (let depth = 0; depth < MAX_DESCENT && splitDirsOf(top.dirs).length === 0 && top.dirs.length === 1 && onlyDocs(top.files); depth++) {
    const below = join(base, top.dirs[0]);
    const l = await listDir(below, opts).catch(() => null);
    if (!l) break;
    if (splitDirsOf(l.dirs).length > 0) {
      base = below;
      top = l;
      break;
    }
    if (!(l.dirs.length === 1 && onlyDocs(l.files))) break;
    base = below;
    top = l;
  }
  if (splitDirsOf(top.dirs).length === 0) {
    // No split folders found: scan the chosen folder itself.
    base = root;
    top = await listDir(root, opts);
  }
  for (const s of top.skipped) skipped.push(s);
  const splitDirs = splitDirsOf(top.dirs);
  let hasSplits = splitDirs.length > 0;

  const add = (file: string, folderClass: string | null, split: Split | null, nameBase: string): void => {
    let className = folderClass;
    if (pattern) {
      const label = pattern.labelOf(basename(file));
      if (label !== null) className = label;
      else unmatched++;
    }
    // The API's rule for class names (classes.add) holds for folder names too.
    const problem = className === null ? null : classNameProblem(className);
    if (problem) {
      skipped.push({ path: file, reason: `class folder name ${JSON.stringify(className)} ${problem}` });
      return;
    }
    if (className !== null) classNames.add(className);
    const name = relative(nameBase, file).split('\\').join('/');
    entries.push({ path: file, name, className, split, load: (opts) => normalizeFile(file, opts) });
  };
  /** Class folders (and loose files) of `dir`; returns the class folder names. */
  const addClassFolders = async (dir: string, split: Split | null, listing: DirListing): Promise<string[]> => {
    for (const f of listing.files) add(join(dir, f), null, split, dir);
    for (const c of listing.dirs) {
      if (isCancelled()) break;
      const cdir = join(dir, c);
      const files = await walkFiles(cdir, skipped, opts);
      const subs = new Set<string>();
      for (const f of files) {
        const slash = f.indexOf('/');
        if (slash > 0) subs.add(f.slice(0, slash));
        add(join(cdir, f), c, split, cdir);
      }
      if (!pattern && !classNameProblem(c)) classNames.add(c);
      if (subs.size > 0) nested.push({ split, className: c, path: cdir, subfolders: [...subs].sort(naturalCompare) });
    }
    return listing.dirs;
  };

  const splitFolders: FolderScan['splitFolders'] = [];
  const classesBySplitFolder: FolderScan['classesBySplitFolder'] = [];
  const ignoredFolders: string[] = [];
  if (hasSplits) {
    for (const f of top.files) add(join(base, f), null, null, base);
    for (const d of top.dirs) {
      if (isCancelled()) break;
      const split = splitOfName(d);
      if (split === null || !splitDirs.includes(d)) {
        ignoredFolders.push(d);
        skipped.push({ path: join(base, d), reason: `folder ignored: not a split folder (next to the split folders ${splitDirs.join(', ')}; split folders are named like train, val, test)` });
        continue;
      }
      splitFolders.push({ split, folder: d });
      let dir = join(base, d);
      let listing = await tryList(dir, skipped, opts);
      // `training_set/training_set/…`: a split folder holding only a folder of the same split.
      for (let i = 0; listing && i < MAX_DESCENT && listing.files.length === 0 && listing.dirs.length === 1 && splitOfName(listing.dirs[0]) === split; i++) {
        dir = join(dir, listing.dirs[0]);
        listing = await tryList(dir, skipped, opts);
      }
      if (!listing) continue;
      const before = entries.length;
      const classes = await addClassFolders(dir, split, listing);
      classesBySplitFolder.push({ split, folder: relative(base, dir).split('\\').join('/'), classes, files: entries.length - before });
    }
  } else {
    const classFirst = await classFirstLayout(root, top, opts);
    if (classFirst) {
      // `<class>/<split>/…`: classes first, each split inside.
      hasSplits = true;
      for (const f of top.files) add(join(root, f), null, null, root);
      for (const [c, listing] of classFirst) {
        if (!pattern && !classNameProblem(c)) classNames.add(c);
        for (const d of listing.dirs) {
          if (isCancelled()) break;
          const split = splitOfName(d)!;
          const sdir = join(root, c, d);
          splitFolders.push({ split, folder: `${c}/${d}` });
          for (const f of await walkFiles(sdir, skipped, opts)) add(join(sdir, f), c, split, sdir);
        }
      }
    } else await addClassFolders(root, null, top);
  }
  const splitNamedClasses = hasSplits ? [] : top.dirs.filter((d) => splitOfName(d) !== null);
  return {
    format: 'folder',
    classNames: [...classNames].sort(naturalCompare),
    hasSplits,
    entries,
    skipped,
    base,
    splitFolders,
    classesBySplitFolder,
    ignoredFolders,
    splitNamedClasses,
    nested,
    unmatched,
  };
}

/**
 * A folder importer with options: `labelPattern` (layout.ts) names classes from file names.
 * @throws ApiError invalid_params (field `labelPattern`) when the pattern does not compile.
 */
export function folderImporterWith(options: { labelPattern?: string | null }): Importer {
  const labelPattern = options.labelPattern ? compileLabelPattern(options.labelPattern) : null;
  return {
    id: 'folder',
    description: 'a folder of class folders, or of train/val/test folders holding class folders',
    accepts: async (path: string) => (await stat(path).catch(() => null))?.isDirectory() ?? false,
    open: async (root: string, isCancelled: () => boolean): Promise<ImportSource> => {
      const { format, classNames, hasSplits, entries, skipped } = await scanFolder(root, { isCancelled, labelPattern });
      return { format, classNames, hasSplits, entries, skipped };
    },
  };
}

export const folderImporter: Importer = folderImporterWith({});
