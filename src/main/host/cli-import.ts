/**
 * Text of `layerwise import`: the preview that `--dry-run` prints (what an import would
 * store, from `datasets.previewImport`), and the lines after an import's counts (the
 * job's notice, e.g. no classes found and the three ways to get labels).
 */
import type { ImportJob, ImportPreview } from '../../shared/api';

const n = (x: number): string => x.toLocaleString('en-US');

/** A plain table with padded columns (numbers right-aligned after the first column). */
function grid(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/**
 * The dry-run report: layout (base folder, split folders, where labels come from), a
 * table of classes × splits, file types by extension and by content, a sample file per
 * class, warnings, skipped entries (first 10) and the pattern the preview suggests.
 */
export function previewLines(p: ImportPreview): string[] {
  const out: string[] = [];
  const total = p.classes.reduce((s, c) => s + c.counts.total, 0) + p.unlabeled.counts.total;
  out.push(`dry run: nothing stored. ${p.path} (${p.format}) would import ${n(total)} files into ${n(p.classes.length)} class${p.classes.length === 1 ? '' : 'es'}`);
  if (p.base !== p.path) out.push(`layout found in ${p.base}`);
  if (p.splitFolders.length) out.push(`split folders: ${p.splitFolders.map((s) => `${s.folder} → ${s.split}`).join(', ')}`);
  else out.push('split folders: none (the dataset rule splits the images: 80/10/10, seeded, stratified)');
  out.push(`labels from: ${p.labelSource === 'pattern' ? `file names (${p.labelPattern})` : p.labelSource === 'folders' ? 'class folders' : p.labelSource === 'idx' ? 'the label files' : 'nowhere (no classes found)'}`);
  const splits = (['train', 'val', 'test', 'none'] as const).filter((s) => p.classes.some((c) => c.counts[s] > 0) || p.unlabeled.counts[s] > 0);
  const rows = p.classes.map((c) => [c.name, ...splits.map((s) => n(c.counts[s])), n(c.counts.total)]);
  if (p.unlabeled.counts.total > 0) rows.push(['(unlabelled)', ...splits.map((s) => n(p.unlabeled.counts[s])), n(p.unlabeled.counts.total)]);
  const shown = rows.length > 60 ? [...rows.slice(0, 60), [`… ${n(rows.length - 60)} more classes`, ...splits.map(() => ''), '']] : rows;
  out.push(...grid(['class', ...splits.map((s) => (s === 'none' ? 'no split' : s)), 'total'], shown));
  out.push(`file types: ${p.extensions.map((e) => `${e.ext || '(no extension)'} ${n(e.count)}`).join(', ') || 'none'}`);
  if (p.sniffed > 0) out.push(`by content (${n(p.sniffed)} of ${n(p.files)} read): ${p.formats.map((f) => `${f.format} ${n(f.count)}`).join(', ')}`);
  for (const c of p.classes.slice(0, 20)) if (c.samples.length) out.push(`  sample ${c.name}: ${c.samples.map((s) => s.path).slice(0, 2).join(', ')}`);
  for (const w of p.warnings) out.push(`warning: ${w.message}`);
  for (const s of p.skipped.slice(0, 10)) out.push(`  skipped ${s.path}: ${s.reason}`);
  if (p.skippedCount > 10) out.push(`  … and ${n(p.skippedCount - 10)} more skipped`);
  if (p.suggestedLabelPattern) {
    const sp = p.suggestedLabelPattern;
    out.push(`suggestion: --label-pattern '${sp.pattern}' labels ${n(sp.matched)} files with ${n(sp.classes.length)} classes (${sp.classes.slice(0, 8).join(', ')}${sp.classes.length > 8 ? ', …' : ''})`);
  }
  return out;
}

/** Lines after an import's counts: its notice (no classes found → the three ways to get labels), when it has one. */
export function importNoticeLines(job: ImportJob): string[] {
  return job.notice ? [`note: ${job.notice}`] : [];
}
