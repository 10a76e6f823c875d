/**
 * `layerwise compare RUN RUN... [--json]`: the differences-only config table of the runs
 * (one row per spec path where they disagree; src/shared/compare.ts) and their summary
 * figures (best val accuracy, test accuracy, epochs, time, samples/s), the smallest and
 * largest of each column marked `▼` / `▲`. A run id that is not there (deleted) is named and
 * the others compared. `--json` prints the same as one JSON object (`missing`: those ids).
 */
import type { Command, Option } from 'commander';
import type { Result } from '../../shared/api';
import { configTable, formatSpecValue, SUMMARY_COLUMNS, summaryExtremes } from '../../shared/compare';
import { ApiError } from '../../shared/errors';
import type { App } from '../services/app';
import { table } from './cli-args';

type WithApp = (dataDir: string | undefined, fn: (app: App) => Promise<number>) => Promise<void>;

function cell(unit: (typeof SUMMARY_COLUMNS)[number]['unit'], v: number | null): string {
  if (v === null) return '—';
  if (unit === 'fraction') return `${(v * 100).toFixed(2)}%`;
  if (unit === 'seconds') return `${v.toFixed(1)}s`;
  if (unit === 'rate') return v.toFixed(0);
  return String(v);
}

/** Parse a run id argument. @throws ApiError invalid_params (field runIds) when it is not a positive integer. */
function runId(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new ApiError('invalid_params', `runIds: "${s}" is not a run id`, 'runIds');
  return n;
}

/** Add `compare` to the program; it opens the data directory through `withApp`. */
export function registerCompareCommand(program: Command, io: { out(line: string): void }, withApp: WithApp, dataDirOption: () => Option): void {
  program
    .command('compare')
    .description('compare runs: the spec fields where they differ, and their summary figures')
    .argument('<runs...>', 'two or more run ids')
    .option('--json', 'print one JSON object instead of tables', false)
    .addOption(dataDirOption())
    .action(async (refs: string[], o: { json: boolean; dataDir?: string }) =>
      withApp(o.dataDir, async (app) => {
        const runIds = refs.map(runId);
        const res = (await app.handle('runs.compare', { runIds, names: [] })) as Result<'runs.compare'>;
        const gone = res.missing.length === 1 ? `run ${res.missing[0]} is` : `runs ${res.missing.join(', ')} are`;
        if (res.runs.length === 0) throw new ApiError('not_found', `runIds: ${gone} not there`, 'runIds');
        if (res.missing.length && !o.json) io.out(`${gone} not there (deleted?); comparing the others`);
        const diff = configTable(res.runs.map((r) => r.spec), { differencesOnly: true });
        const summary = res.runs.map((r) => ({ id: r.id, name: r.name, status: r.status, tags: r.tags ?? [], ...Object.fromEntries(SUMMARY_COLUMNS.map((c) => [c.key, r[c.key]])) }));
        const ext = summaryExtremes(res.runs);
        if (o.json) {
          io.out(JSON.stringify({ runs: summary, missing: res.missing, differences: diff.map((d) => ({ path: d.path, values: d.values.map((v) => v ?? null) })), extremes: ext }, null, 2));
          return 0;
        }
        const heads = res.runs.map((r) => `#${r.id}`);
        if (diff.length === 0) io.out('the specs are the same');
        else for (const l of table(['spec path', ...heads], diff.map((d) => [d.path, ...d.values.map((v) => formatSpecValue(v, d.path))]))) io.out(l);
        io.out('');
        const rows = res.runs.map((r, i) => [
          `#${r.id}`,
          r.name,
          r.status,
          ...SUMMARY_COLUMNS.map((c) => {
            const e = ext[c.key];
            const mark = e && e.min !== e.max ? (e.max === i ? ' ▲' : e.min === i ? ' ▼' : '') : '';
            return `${cell(c.unit, r[c.key])}${mark}`;
          }),
        ]);
        for (const l of table(['run', 'name', 'status', ...SUMMARY_COLUMNS.map((c) => c.label)], rows)) io.out(l);
        return 0;
      }),
    );
}
