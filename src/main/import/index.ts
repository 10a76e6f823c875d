/**
 * The list of importers, most specific first. Adding a format = one file implementing
 * Importer (./types.ts) plus one line here.
 */
import { folderImporter } from './folder';
import { idxImporter } from './idx';
import type { Importer } from './types';

export const IMPORTERS: readonly Importer[] = [idxImporter, folderImporter];

/** The first importer that accepts `path`, or null. */
export async function findImporter(path: string): Promise<Importer | null> {
  for (const imp of IMPORTERS) if (await imp.accepts(path)) return imp;
  return null;
}

export type { Importer, ImportEntry, ImportSource } from './types';
