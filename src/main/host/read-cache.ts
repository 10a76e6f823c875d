/**
 * A cache of read results for the headless host, where many browser tabs ask the same
 * questions (dataset counts, item pages, run lists) while a run trains. A cached result is
 * served only while the database is exactly as it was when the result was computed:
 *  - `total_changes()` of the app's connection counts every row this process inserted,
 *    updated or deleted (any write through any service invalidates every entry);
 *  - `PRAGMA data_version` changes when another connection (a CLI in another process, a
 *    worker's own connection) commits.
 * Entries also expire after `maxAgeMs` (run durations are computed up to "now") and the
 * cache holds at most `maxEntries`, dropping the oldest first.
 */
import type { RequestName } from '../../shared/api';
import type { Db } from '../db/db';
import type { ApiHandler } from '../services/api-router';

/** Reads whose results depend on nothing but the database (and, for runs, the clock). */
export const CACHED_READS: ReadonlySet<RequestName> = new Set<RequestName>([
  'datasets.list',
  'datasets.get',
  'datasets.items',
  'items.ids',
  'runs.list',
  'runs.get',
  'versions.list',
  'labels.history',
]);

export interface ReadCacheOptions {
  /** Longest an entry is served, ms (default 1000). */
  maxAgeMs?: number;
  /** Most entries kept (default 500). */
  maxEntries?: number;
}

export interface ReadCache {
  readonly handle: ApiHandler;
  /** Requests answered from the cache, and computed, so far. */
  stats(): { hits: number; misses: number; entries: number };
}

/**
 * Wrap `handle` so that the CACHED_READS are answered from memory while `db` is unchanged.
 * Results are shared between callers: they must be treated as read-only (the host only
 * serializes them). Errors are never cached.
 */
export function cacheReads(handle: ApiHandler, db: Db, opts: ReadCacheOptions = {}): ReadCache {
  const maxAgeMs = opts.maxAgeMs ?? 1000;
  const maxEntries = opts.maxEntries ?? 500;
  const totalChanges = db.prepare('SELECT total_changes()').pluck();
  const version = (): string => `${totalChanges.get() as number}:${db.pragma('data_version', { simple: true }) as number}`;
  const entries = new Map<string, { version: string; at: number; value: unknown }>();
  let hits = 0;
  let misses = 0;

  const cached: ApiHandler = async (method, params) => {
    if (!CACHED_READS.has(method as RequestName)) return handle(method, params);
    let key: string;
    try {
      key = `${method} ${JSON.stringify(params ?? {})}`;
    } catch {
      return handle(method, params); // not serializable: let the handler refuse it
    }
    const before = version();
    const hit = entries.get(key);
    const now = performance.now();
    if (hit && hit.version === before && now - hit.at <= maxAgeMs) {
      hits++;
      return hit.value;
    }
    misses++;
    const value = await handle(method, params);
    // Stored only when nothing was written while it was computed.
    if (version() === before) {
      entries.delete(key);
      entries.set(key, { version: before, at: now, value });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    }
    return value;
  };
  return { handle: cached, stats: () => ({ hits, misses, entries: entries.size }) };
}
