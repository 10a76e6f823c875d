/**
 * Settings stored in the data directory (table `settings`, migration 009): one JSON value
 * per key, shared by every process on the directory (host, CLI, Electron), so a setting made
 * in one survives a restart and is seen by the next.
 */
import type { z } from 'zod';
import type { Db } from './db';
import { now } from './db';

/** Keys of the stored settings; one place, so two features never share a key by accident. */
export const SETTING = {
  /** The run queue's concurrency (runs training at once), an integer ≥ 1. */
  queueConcurrency: 'queue.concurrency',
  /** The run queue's executor, local or Slurm, with Slurm's settings (src/shared/executor.ts, issue 12). */
  executor: 'queue.executor',
} as const;
export type SettingKey = (typeof SETTING)[keyof typeof SETTING];

/**
 * The stored value of `key` parsed by `schema`, or undefined when it was never set or no
 * longer parses (a value written by another version is ignored, not thrown).
 */
export function readSetting<T>(db: Db, key: SettingKey, schema: z.ZodType<T>): T | undefined {
  const row = db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
  if (!row) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(row.value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Store `value` (JSON) under `key`, replacing what was there. */
export function writeSetting(db: Db, key: SettingKey, value: unknown): void {
  db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
    .run(key, JSON.stringify(value), now());
}
