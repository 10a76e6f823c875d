/**
 * A dataset's history in words, for the History panel: every undo group (./groups.ts;
 * undone ones too, also those a later action took off the redo stack) and every import
 * job, newest first, each with what it did ("12 images labeled “cat” (were unlabeled)",
 * "3 images moved to val", "5,000 images imported into 10 classes").
 *
 * An import's classes are those of its 'import' label events, which carry no job id: they
 * are the dataset's import events timed within the job's start and finish.
 */
import type { LabelGroup } from '../../../shared/api';
import type { LabelContext, LabelSource } from './context';
import type { GroupKind } from './groups';
import type { ExcludeMeta, MoveMeta } from './items';

const num = (n: number): string => n.toLocaleString('en-US');
const images = (n: number): string => `${num(n)} image${n === 1 ? '' : 's'}`;

interface Row {
  id: number;
  kind: GroupKind;
  time: number;
  source: LabelSource;
  undone: number;
  meta: string | null;
}

/**
 * The newest `limit` entries of the dataset's history, newest first.
 * Class names are the classes' current names (a class deleted by a group: the name it had).
 */
export function describeGroups(ctx: LabelContext, datasetId: number, limit: number): LabelGroup[] {
  const rows = ctx.db
    .prepare('SELECT id, kind, time, source, undone, meta FROM label_groups WHERE dataset_id = ? ORDER BY id DESC LIMIT ?')
    .all(datasetId, limit) as Row[];
  const names = new Map(
    (ctx.db.prepare('SELECT id, name, deleted_at FROM classes WHERE dataset_id = ?').all(datasetId) as { id: number; name: string; deleted_at: number | null }[])
      .filter((c) => c.deleted_at === null)
      .map((c) => [c.id, c.name]),
  );
  for (const m of ctx.db.prepare("SELECT meta FROM label_groups WHERE dataset_id = ? AND meta LIKE '%deletedClass%'").pluck().all(datasetId) as string[]) {
    const d = (JSON.parse(m) as { deletedClass?: { classId: number; name: string } }).deletedClass;
    if (d && !names.has(d.classId)) names.set(d.classId, d.name);
  }
  const name = (id: number | null): string => (id === null ? 'unlabeled' : `“${names.get(id) ?? `class ${id}`}”`);
  const cells = ctx.db.prepare('SELECT old_class_id AS o, new_class_id AS n, COUNT(*) AS c FROM label_events WHERE group_id = ? GROUP BY o, n');

  const out: LabelGroup[] = rows.map((r) => {
    const base = { id: r.id, importJobId: null, kind: r.kind, time: r.time, source: r.source, undone: r.undone === 1 };
    if (r.kind === 'exclude') {
      const m = JSON.parse(r.meta!) as ExcludeMeta;
      const n = m.items.length;
      const text = m.excluded ? `${images(n)} excluded from training${m.reason ? ` (“${m.reason}”)` : ''}` : `${images(n)} included in training again`;
      return { ...base, count: n, text };
    }
    if (r.kind === 'move') {
      const m = JSON.parse(r.meta!) as MoveMeta;
      const from = new Set(m.items.map((i) => i[1]));
      const only = from.size === 1 ? [...from][0] : undefined;
      return { ...base, count: m.items.length, text: `${images(m.items.length)} moved to ${m.split}${only !== undefined ? ` (from ${only ?? 'no split'})` : ''}` };
    }
    const c = cells.all(r.id) as { o: number | null; n: number | null; c: number }[];
    const n = c.reduce((s, x) => s + x.c, 0);
    const meta = r.meta ? (JSON.parse(r.meta) as { deletedClass?: { name: string } }) : {};
    if (r.kind === 'merge') return { ...base, count: n, text: `class “${meta.deletedClass?.name ?? '?'}” merged into ${name(c[0]?.n ?? null)} (${images(n)})` };
    if (r.kind === 'delete-class') return { ...base, count: n, text: `class “${meta.deletedClass?.name ?? '?'}” deleted (${images(n)} now unlabeled)` };
    const to = new Set(c.map((x) => x.n));
    const from = new Set(c.map((x) => x.o));
    const target = to.size === 1 ? [...to][0] : undefined;
    let text = target === undefined ? `${images(n)} relabeled` : target === null ? `${images(n)} made unlabeled` : `${images(n)} labeled ${name(target)}`;
    if (from.size === 1) text += ` (${n === 1 ? 'was' : 'were'} ${name([...from][0])})`;
    if (r.source === 'suggestion') text += ', a suggestion accepted';
    return { ...base, count: n, text };
  });

  // Imports: one line each, with the classes their label events went into.
  const jobs = ctx.db
    .prepare("SELECT id, status, imported, duplicates, started_at, finished_at FROM import_jobs WHERE dataset_id = ? AND status != 'running' ORDER BY id DESC LIMIT ?")
    .all(datasetId, limit) as { id: number; status: string; imported: number; duplicates: number; started_at: number; finished_at: number | null }[];
  const labeled = ctx.db.prepare(
    "SELECT COUNT(*) AS n, COUNT(DISTINCT e.new_class_id) AS k FROM label_events e JOIN items i ON i.id = e.item_id WHERE i.dataset_id = ? AND e.source = 'import' AND e.time >= ? AND e.time <= ?",
  );
  for (const j of jobs) {
    const { n, k } = labeled.get(datasetId, j.started_at, j.finished_at ?? Number.MAX_VALUE) as { n: number; k: number };
    const unlabeled = Math.max(0, j.imported - n);
    let text = k > 0 ? `${images(j.imported)} imported into ${num(k)} class${k === 1 ? '' : 'es'}` : `${images(j.imported)} imported`;
    if (unlabeled > 0) text += k > 0 ? `, ${num(unlabeled)} unlabeled` : ', unlabeled';
    if (j.duplicates > 0) text += ` (${num(j.duplicates)} duplicate${j.duplicates === 1 ? '' : 's'} skipped)`;
    if (j.status !== 'done') text += ` — import ${j.status}`;
    out.push({ id: 0, importJobId: j.id, kind: 'import', time: j.finished_at ?? j.started_at, source: 'import', undone: false, count: j.imported, text });
  }
  return out.sort((a, b) => b.time - a.time || b.id - a.id).slice(0, limit);
}
