/** Display formatting shared by the views. */

/** mm:ss, or h:mm:ss from one hour on. */
export function formatClock(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${String(m).padStart(2, '0')}:${ss}`;
}

/**
 * A time remaining in words, e.g. "8 min 41 s left", "1 h 05 min left", "12 s left"
 * (seconds; '—' when unknown). Not a clock time: an ETA shown as "13:06" reads like one.
 */
export function formatRemaining(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min left`;
  if (m > 0) return `${m} min ${s % 60} s left`;
  return `${s} s left`;
}

/** A fraction in [0, 1] as a percentage with `digits` decimals. */
export function formatPercent(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return `${(v * 100).toFixed(digits)}%`;
}

export function formatNumber(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatLoss(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v.toFixed(4);
}

/** Times from the API are Unix seconds; accept milliseconds too. */
export function toMs(t: number): number {
  return t < 1e11 ? t * 1000 : t;
}

export function formatDate(t: number | null | undefined): string {
  if (t === null || t === undefined) return '—';
  const d = new Date(toMs(t));
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function formatShape(shape: readonly number[]): string {
  return `(${shape.join(', ')})`;
}
