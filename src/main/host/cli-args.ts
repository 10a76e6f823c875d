/**
 * Argument parsers and the plain text table of the `layerwise` CLI (./cli-program.ts,
 * ./cli-spec-commands.ts).
 */
import { InvalidArgumentError } from 'commander';

/** Commander parser of an integer in [min, max]. */
export const int = (min: number, max = Number.MAX_SAFE_INTEGER) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
  return n;
};
/** Commander parser of a finite number in [min, max]. */
export const num = (min: number, max: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
  return n;
};
/** "32x32x3" → [32, 32, 3]. */
export function parseInputSize(v: string): [number, number, 1 | 3] {
  const m = /^(\d+)x(\d+)x([13])$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError('expected HxWxC, e.g. 28x28x1 or 32x32x3');
  return [Number(m[1]), Number(m[2]), Number(m[3]) as 1 | 3];
}

/** A plain text table, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** A number with `digits` decimals; "—" for null, undefined or not finite. */
export function fmt(n: number | null | undefined, digits = 4): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(digits);
}
/** A fraction as a percentage with 2 decimals (0.9123 → "91.23%"); "—" for null / undefined. */
export function pct(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : `${(n * 100).toFixed(2)}%`;
}
/** Seconds in words as the CLI prints them: "12.3s", "4m05s", "2h03m"; "—" for null. */
export function duration(s: number | null): string {
  if (s === null) return '—';
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
