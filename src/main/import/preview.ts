/**
 * The import preview: what importing a path would store, computed by the importer's own
 * scan (folder.ts `scanFolder`, or the IDX reader) and stored nowhere — no database, no
 * blob. It reports splits × classes with counts, file types by extension and by content
 * (first bytes), a few samples per class as small thumbnails, and warnings about layouts
 * that would make a wrong dataset (class folders holding sub-folders, a class of one
 * image, one class holding > 90 % of the images, split folders without classes or with
 * different classes, no classes at all). Shape: ImportPreview in src/shared/import-preview.ts.
 */
import { open } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import sharp from 'sharp';
import type { Split } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import { LABEL_WAYS, type ImportPreview, type PreviewSample, type PreviewWarning, type SplitCounts } from '../../shared/import-preview';
import { sniffFormat } from '../images/image';
import { scanFolder, type FolderScan } from './folder';
import { compileLabelPattern, SUGGESTED_TEMPLATES } from './layout';
import type { ImportEntry, Importer, ImportSource } from './types';
import { naturalCompare } from './walk';

/** Entries whose first bytes are read for the format table (spread evenly over the source). */
export const SNIFF_LIMIT = 2000;
/** Classes that get sample thumbnails (the rest get sample paths only). */
export const THUMB_CLASSES = 24;
/** A class holding more than this share of the labelled images is reported. */
export const DOMINANT_SHARE = 0.9;
/** Side of the preview thumbnails, pixels. */
export const PREVIEW_THUMB = 64;
const SKIPPED_LISTED = 100;

export interface PreviewOptions {
  labelPattern?: string | null;
  /** Samples per class (default 4). */
  samplesPerClass?: number;
  /** Make sample thumbnails (default true). */
  thumbnails?: boolean;
  isCancelled?: () => boolean;
}

const emptyCounts = (): SplitCounts => ({ train: 0, val: 0, test: 0, none: 0, total: 0 });
const count = (c: SplitCounts, split: Split | null): void => {
  c[split ?? 'none']++;
  c.total++;
};
const pct = (x: number): string => `${(x * 100).toFixed(x > 0.99 && x < 1 ? 1 : 0)} %`;

async function sniffFile(path: string): Promise<string> {
  try {
    const fh = await open(path, 'r');
    try {
      const b = Buffer.alloc(64);
      const { bytesRead } = await fh.read(b, 0, 64, 0);
      if (bytesRead === 0) return 'empty';
      return sniffFormat(b.subarray(0, bytesRead)) ?? 'not an image';
    } finally {
      await fh.close();
    }
  } catch {
    return 'unreadable';
  }
}

/** A sample: the entry decoded (its own loader, so exactly as the import would) and shrunk to a PNG data URL. */
async function sample(entry: ImportEntry, withThumb: boolean): Promise<PreviewSample> {
  if (!withThumb) return { path: entry.path, name: entry.name, thumbUrl: null, problem: null };
  try {
    const img = await entry.load();
    const src = img.thumb ?? img.bytes;
    const png = await sharp(src).resize(PREVIEW_THUMB, PREVIEW_THUMB, { fit: 'inside', withoutEnlargement: true }).png().toBuffer();
    return { path: entry.path, name: entry.name, thumbUrl: `data:image/png;base64,${png.toString('base64')}`, problem: null };
  } catch (err) {
    return { path: entry.path, name: entry.name, thumbUrl: null, problem: (err as Error).message };
  }
}

/** `n` indices spread evenly over 0 … len−1. */
function spread(len: number, n: number): number[] {
  if (len <= n) return Array.from({ length: len }, (_, i) => i);
  return Array.from({ length: n }, (_, i) => Math.floor((i * len) / n));
}

/** The first template that labels ≥ 90 % of the unlabelled files with 2 or more classes, each of ≥ 2 files. */
function suggestPattern(unlabeled: ImportEntry[]): ImportPreview['suggestedLabelPattern'] {
  if (unlabeled.length < 4) return null;
  const names = spread(unlabeled.length, 2000).map((i) => basename(unlabeled[i].path));
  for (const t of SUGGESTED_TEMPLATES) {
    const p = compileLabelPattern(t);
    const byClass = new Map<string, number>();
    let matched = 0;
    for (const n of names) {
      const l = p.labelOf(n);
      if (l === null) continue;
      matched++;
      byClass.set(l, (byClass.get(l) ?? 0) + 1);
    }
    if (matched < 0.9 * names.length || byClass.size < 2 || byClass.size > names.length / 2) continue;
    const all = unlabeled.reduce((s, e) => s + (p.labelOf(basename(e.path)) !== null ? 1 : 0), 0);
    return { pattern: t, classes: [...byClass.keys()].sort(naturalCompare), matched: all };
  }
  return null;
}

/**
 * Preview importing `path` with `importer` (findImporter's choice). Reads the files'
 * names, their first bytes (at most SNIFF_LIMIT of them) and the samples; writes nothing.
 * @throws ApiError invalid_params `labelPattern` (invalid pattern, or a pattern for IDX files); the importer's errors.
 */
export async function previewImport(importer: Importer, path: string, opts: PreviewOptions = {}): Promise<ImportPreview> {
  const labelPattern = opts.labelPattern ? compileLabelPattern(opts.labelPattern) : null;
  const isCancelled = opts.isCancelled ?? (() => false);
  let source: ImportSource;
  let scan: FolderScan | null = null;
  if (importer.id === 'folder') source = scan = await scanFolder(path, { labelPattern, isCancelled });
  else {
    if (labelPattern) throw new ApiError('invalid_params', `labelPattern: applies to folders of image files; ${path} is read as ${importer.id} files, whose labels come with them`, 'labelPattern');
    source = await importer.open(path, isCancelled);
  }
  const perClass = opts.samplesPerClass ?? 4;
  const thumbs = opts.thumbnails ?? true;

  // Counts per class and split; entries per class for the samples.
  const byClass = new Map<string, { counts: SplitCounts; entries: ImportEntry[] }>();
  for (const name of source.classNames) byClass.set(name, { counts: emptyCounts(), entries: [] });
  const unlabeledCounts = emptyCounts();
  const unlabeled: ImportEntry[] = [];
  const extCounts = new Map<string, number>();
  for (const e of source.entries) {
    if (e.className === null) {
      count(unlabeledCounts, e.split);
      unlabeled.push(e);
    } else {
      let c = byClass.get(e.className);
      if (!c) byClass.set(e.className, (c = { counts: emptyCounts(), entries: [] }));
      count(c.counts, e.split);
      c.entries.push(e);
    }
    const ext = importer.id === 'folder' ? extname(e.path).toLowerCase() : importer.id;
    extCounts.set(ext, (extCounts.get(ext) ?? 0) + 1);
  }

  // Formats by content over an even spread of the entries (folder sources; IDX entries are raw pixels).
  const formats = new Map<string, number>();
  let sniffed = 0;
  if (importer.id === 'folder') {
    const idx = spread(source.entries.length, SNIFF_LIMIT);
    for (let i = 0; i < idx.length; i += 32) {
      const got = await Promise.all(idx.slice(i, i + 32).map((j) => sniffFile(source.entries[j].path)));
      for (const f of got) formats.set(f, (formats.get(f) ?? 0) + 1);
      sniffed += got.length;
    }
  } else if (source.entries.length > 0) {
    formats.set(`${importer.id} (8-bit grey pixels)`, source.entries.length);
    sniffed = source.entries.length;
  }

  const classNames = [...byClass.keys()];
  const classes: ImportPreview['classes'] = [];
  for (let ci = 0; ci < classNames.length; ci++) {
    const { counts, entries } = byClass.get(classNames[ci])!;
    const samples = await Promise.all(spread(entries.length, perClass).map((i) => sample(entries[i], thumbs && ci < THUMB_CLASSES)));
    classes.push({ name: classNames[ci], counts, samples });
  }
  const unlabeledSamples = await Promise.all(spread(unlabeled.length, perClass).map((i) => sample(unlabeled[i], thumbs)));

  const warnings = scan ? folderWarnings(scan) : [];
  const labeledTotal = classes.reduce((s, c) => s + c.counts.total, 0);
  if (classes.length === 0) {
    warnings.push({ code: 'no_classes', message: `No classes found: ${unlabeledCounts.total.toLocaleString('en-US')} images would be imported unlabelled. To get labels: ${LABEL_WAYS.map((w, i) => `(${i + 1}) ${w}`).join('; ')}.` });
  } else if (classes.length === 1) {
    warnings.push({ code: 'one_class', className: classes[0].name, message: `Only one class ('${classes[0].name}'): training needs at least two.` });
  } else {
    for (const c of classes) if (c.counts.total === 1) warnings.push({ code: 'single_image_class', className: c.name, message: `Class '${c.name}' has only 1 image.` });
    const top = classes.reduce((a, b) => (b.counts.total > a.counts.total ? b : a));
    if (top.counts.total > DOMINANT_SHARE * labeledTotal) {
      warnings.push({ code: 'dominant_class', className: top.name, message: `Class '${top.name}' holds ${pct(top.counts.total / labeledTotal)} of the labelled images (${top.counts.total.toLocaleString('en-US')} of ${labeledTotal.toLocaleString('en-US')}): a model can reach that accuracy by always answering '${top.name}'.` });
    }
  }
  if (labelPattern && scan && scan.unmatched > 0) {
    warnings.push({ code: 'pattern_unmatched', message: `${scan.unmatched.toLocaleString('en-US')} file name${scan.unmatched === 1 ? '' : 's'} do not match the label pattern ${labelPattern.source}: they keep their class folder's class, or none.` });
  }
  if (source.skipped.length > 0) warnings.push({ code: 'skipped', message: `${source.skipped.length.toLocaleString('en-US')} folder${source.skipped.length === 1 ? '' : 's'} or file${source.skipped.length === 1 ? '' : 's'} skipped while scanning (listed below).` });

  return {
    path,
    format: source.format,
    base: scan?.base ?? path,
    splitFolders: scan?.splitFolders ?? [],
    labelSource: importer.id !== 'folder' ? (classes.length ? 'idx' : 'none') : labelPattern ? 'pattern' : classes.length ? 'folders' : 'none',
    labelPattern: labelPattern?.source ?? null,
    classes,
    unlabeled: { counts: unlabeledCounts, samples: unlabeledSamples },
    files: source.entries.length,
    extensions: [...extCounts].map(([ext, n]) => ({ ext, count: n })).sort((a, b) => b.count - a.count || naturalCompare(a.ext, b.ext)),
    formats: [...formats].map(([format, n]) => ({ format, count: n })).sort((a, b) => b.count - a.count || naturalCompare(a.format, b.format)),
    sniffed,
    skipped: source.skipped.slice(0, SKIPPED_LISTED),
    skippedCount: source.skipped.length,
    warnings,
    suggestedLabelPattern: scan && !labelPattern && classes.length === 0 ? suggestPattern(unlabeled) : null,
  };
}

/** Layout warnings of a folder scan (class sub-folders, split folders without or with different classes, ignored folders). */
function folderWarnings(scan: FolderScan): PreviewWarning[] {
  const w: PreviewWarning[] = [];
  const seen = new Set<string>();
  for (const n of scan.nested) {
    if (seen.has(n.className)) continue;
    seen.add(n.className);
    const list = n.subfolders.length > 6 ? `${n.subfolders.slice(0, 6).join(', ')} and ${n.subfolders.length - 6} more` : n.subfolders.join(', ');
    w.push({
      code: 'nested_class_folders',
      className: n.className,
      suggestedPath: n.path,
      message: `Class '${n.className}' has sub-folders ${list}: its images are imported as one class '${n.className}'. To import ${n.subfolders.length === 1 ? 'it as a class' : 'them as classes'}, choose ${n.path} as the folder.`,
    });
  }
  for (const s of scan.classesBySplitFolder) {
    if (s.classes.length === 0) {
      w.push({ code: 'empty_split', message: `Split folder '${s.folder}' (${s.split}) has no class folders${s.files ? `: its ${s.files.toLocaleString('en-US')} images would be unlabelled` : ' and no images'}.` });
    }
  }
  const withClasses = scan.classesBySplitFolder.filter((s) => s.classes.length > 0);
  if (withClasses.length > 1) {
    const all = [...new Set(withClasses.flatMap((s) => s.classes))].sort(naturalCompare);
    for (const s of withClasses) {
      const missing = all.filter((c) => !s.classes.includes(c));
      if (missing.length > 0) {
        const list = missing.length > 6 ? `${missing.slice(0, 6).join(', ')} and ${missing.length - 6} more` : missing.join(', ');
        w.push({ code: 'split_classes_differ', message: `Split folder '${s.folder}' (${s.split}) lacks the class${missing.length === 1 ? '' : 'es'} ${list} that other split folders have.` });
      }
    }
  }
  if (scan.ignoredFolders.length > 0) {
    w.push({ code: 'ignored_folders', message: `Folder${scan.ignoredFolders.length === 1 ? '' : 's'} ${scan.ignoredFolders.join(', ')} beside the split folders ${scan.splitFolders.map((s) => s.folder).join(', ')} ${scan.ignoredFolders.length === 1 ? 'is' : 'are'} not a split and will not be imported.` });
  }
  for (const c of scan.splitNamedClasses) {
    w.push({ code: 'split_named_class', className: c, message: `Folder '${c}' is named like a split but sits among more class folders, so it is imported as the class '${c}'. If it is a split, put the class folders inside train/ and ${c}/.` });
  }
  return w;
}
