/**
 * The labeling view's filter lives in the route query (so a reload, a bookmark or a click
 * in a confusion matrix lands on the same set): parse it to an ItemFilter and back.
 */
import type { ItemFilter, Split } from '../../shared/api';

export type LabelQuery = Record<string, string>;

const SPLITS = new Set(['train', 'val', 'test']);

function id(v: unknown): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (typeof s !== 'string' || !/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n > 0 ? n : undefined;
}

function flag(v: unknown): boolean | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === '1' || s === 'true') return true;
  if (s === '0' || s === 'false') return false;
  return undefined;
}

/** Route query → ItemFilter (unknown or malformed values are ignored). */
export function filterFromQuery(q: Record<string, unknown>): ItemFilter {
  const f: ItemFilter = {};
  const split = Array.isArray(q.split) ? q.split[0] : q.split;
  if (typeof split === 'string' && SPLITS.has(split)) f.split = split as Split;
  const classId = id(q.classId);
  if (classId) f.classId = classId;
  if (flag(q.unlabeled)) f.unlabeled = true;
  const excluded = flag(q.excluded);
  if (excluded !== undefined) f.excluded = excluded;
  const since = id(q.since);
  if (since) f.changedSinceVersionId = since;
  const runId = id(q.runId);
  if (runId) {
    f.runId = runId;
    const p = id(q.predictedClassId);
    const t = id(q.trueClassId);
    if (p) f.predictedClassId = p;
    if (t) f.trueClassId = t;
    if (flag(q.misclassified)) f.misclassified = true;
  }
  return f;
}

/** ItemFilter → route query (only what is set). */
export function queryFromFilter(f: ItemFilter): LabelQuery {
  const q: LabelQuery = {};
  if (f.split) q.split = f.split;
  if (f.classId) q.classId = String(f.classId);
  if (f.unlabeled) q.unlabeled = '1';
  if (f.excluded !== undefined) q.excluded = f.excluded ? '1' : '0';
  if (f.changedSinceVersionId) q.since = String(f.changedSinceVersionId);
  if (f.runId) {
    q.runId = String(f.runId);
    if (f.predictedClassId) q.predictedClassId = String(f.predictedClassId);
    if (f.trueClassId) q.trueClassId = String(f.trueClassId);
    if (f.misclassified) q.misclassified = '1';
  }
  return q;
}

/** A stable key for a filter (to notice a change). */
export function filterKey(f: ItemFilter): string {
  return JSON.stringify(queryFromFilter(f));
}

/**
 * Whether labeling an item can take it out of this filter (then the cursor stays, the next
 * item moves up). A confusion cell's true class is the label the run saw, so fixing a label
 * there keeps the image in view.
 */
export function filterDependsOnLabel(f: ItemFilter): boolean {
  return !!(f.unlabeled || f.classId);
}

/** Keys for assigning classes, by class order: 1–9, then 0 for the tenth. */
export function classKey(position: number): string | null {
  if (position < 9) return String(position + 1);
  if (position === 9) return '0';
  return null;
}

/** Position in class order for a digit key, or -1. */
export function positionForKey(key: string): number {
  if (!/^[0-9]$/.test(key)) return -1;
  return key === '0' ? 9 : Number(key) - 1;
}
