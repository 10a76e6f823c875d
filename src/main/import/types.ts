/**
 * The one interface every dataset importer implements (one file per format, registered
 * in ./index.ts, in the style of Netron's model readers). An importer turns a path into
 * an ImportSource: the class names, whether the source came with splits, and one entry
 * per image; the import job (./job.ts) decodes, stores and records the entries.
 */
import type { Split, SkippedFile } from '../../shared/api';
import type { NormalizedImage, NormalizeOptions } from '../images/image';

/** One image of a source. */
export interface ImportEntry {
  /** Where it came from, for skip reports: a file path, or `<file>#<index>` inside a container file. */
  path: string;
  /** Name shown for the item (a file name relative to its class folder, or `<file>#<index>`). */
  name: string;
  /** Class name as the source gives it, or null for unlabelled images. */
  className: string | null;
  /** Split as the source gives it, or null when the source has no splits. */
  split: Split | null;
  /**
   * Decode into the normalized stored form (`opts.deferPreview`: a kept JPEG's thumbnail and
   * dHash may be left for later, images/image.ts; readers of raw pixels may ignore it).
   * @throws SkipError when the image is unusable (the reason is reported, the import goes on).
   */
  load(opts?: NormalizeOptions): Promise<NormalizedImage>;
}

/** A scanned source, ready to import. */
export interface ImportSource {
  /** Importer id, e.g. 'folder' or 'idx'. */
  format: string;
  /** Class names in the order the source defines them (their index order for a new dataset). */
  classNames: string[];
  /** True when the source came with split folders / split files. */
  hasSplits: boolean;
  entries: ImportEntry[];
  /** Files rejected while scanning (not images by name, unexpected folders). */
  skipped: SkippedFile[];
}

export interface Importer {
  /** Short id: 'folder', 'idx'. */
  readonly id: string;
  /** What the importer reads, for error messages and docs. */
  readonly description: string;
  /** Cheap check (names and headers only) whether this importer reads `path`. Never throws. */
  accepts(path: string): Promise<boolean>;
  /**
   * Scan `path`. `isCancelled` is polled during long scans.
   * @throws Error naming the path when the source is unreadable or malformed.
   */
  open(path: string, isCancelled: () => boolean): Promise<ImportSource>;
}
