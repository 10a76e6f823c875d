/**
 * Disk full, recognised the same way everywhere: Node's ENOSPC / EDQUOT (no space, quota
 * exceeded) and SQLite's SQLITE_FULL. A job that meets one fails with the reason
 * "disk full while writing <file>" instead of the raw error.
 */

/** True when `err` means the disk (or the quota) is full. */
export function isDiskFull(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') return true;
  if (err.message.startsWith('disk full while writing ')) return true;
  return /\bENOSPC\b|SQLITE_FULL|database or disk is full|no space left on device/i.test(err.message);
}

/**
 * `err` itself, or — when it is a disk-full error — an Error "disk full while writing
 * <file>" (the error's own path when it names one, else `file`), with `err` as its cause.
 */
export function diskFullError(err: unknown, file: string): unknown {
  if (!isDiskFull(err) || (err as Error).message.startsWith('disk full while writing ')) return err;
  const path = (err as NodeJS.ErrnoException).path ?? file;
  return new Error(`disk full while writing ${path} (${(err as Error).message})`, { cause: err });
}

/** The text to record for a failure: the disk-full reason naming `file` when it is one, else the error's message. */
export function failureReason(err: unknown, file: string): string {
  const e = diskFullError(err, file);
  return e instanceof Error ? e.message : String(e);
}

/**
 * A failure reported as text (an engine's `failed` message): "disk full while writing
 * <file> (<text>)" when it is a disk-full error, with the path quoted in the text (Node
 * writes `ENOSPC: …, open '/path'`) or else `file`; otherwise the text unchanged.
 */
export function diskFullText(text: string, file: string): string {
  if (!isDiskFull(new Error(text)) || text.startsWith('disk full while writing ')) return text;
  const quoted = /'(\/[^']+)'/.exec(text)?.[1];
  return `disk full while writing ${quoted ?? file} (${text})`;
}
