/**
 * Sweeps and ablations (issue 9): a SweepSpec (src/shared/sweep.ts) expanded into runs that
 * go through the run service's one path (RunService.start: validation, the queue, engines),
 * each run naming its sweep and variant (`runs.sweep_id`, `runs.sweep_variant`, migration
 * 007). The queue, its concurrency and its survival across a restart are the run service's
 * (./runs/index.ts, ./runs/recovery.ts); this service creates, lists, reads (with the
 * ablation table, src/shared/sweep-table.ts) and cancels sweeps.
 */
import { availableParallelism } from 'node:os';
import { ApiError } from '../../shared/errors';
import { PRESET_LABELS } from '../../shared/spec';
import { expandSweep, type SweepVariant } from '../../shared/sweep';
import type { QueueInfo, SweepDetail, SweepSummary } from '../../shared/sweep-api';
import { ablationTable, type SweepRunResult } from '../../shared/sweep-table';
import { now, type Db } from '../db/db';
import type { RunService } from './runs';
import { engineThreads } from './runs/threads';

/** The most characters of a run name (as `runs.start` allows). */
const RUN_NAME_MAX = 200;

interface SweepRow {
  id: number;
  name: string;
  spec: string;
  variants: string;
  created_at: number;
  cancelled_at: number | null;
}

function prepareStatements(db: Db) {
  return {
    insert: db.prepare(`INSERT INTO sweeps (name, spec, variants, created_at) VALUES (?, ?, ?, ?)`),
    remove: db.prepare(`DELETE FROM sweeps WHERE id = ?`),
    tagRun: db.prepare(`UPDATE runs SET sweep_id = ?, sweep_variant = ? WHERE id = ?`),
    get: db.prepare(`SELECT * FROM sweeps WHERE id = ?`),
    list: db.prepare(`SELECT * FROM sweeps ORDER BY id DESC`),
    datasetName: db.prepare(`SELECT name FROM datasets WHERE id = ?`).pluck(),
    cancelled: db.prepare(`UPDATE sweeps SET cancelled_at = COALESCE(cancelled_at, ?) WHERE id = ?`),
    runs: db.prepare(`SELECT id, sweep_variant, seed, status, best_val_accuracy, test_accuracy, error FROM runs WHERE sweep_id = ? ORDER BY id`),
    counts: db.prepare(`SELECT sweep_id, status, COUNT(*) AS n FROM runs WHERE sweep_id IS NOT NULL GROUP BY sweep_id, status`),
  };
}

type Counts = SweepSummary['counts'];
const noCounts = (): Counts => ({ queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0, interrupted: 0 });

export class SweepService {
  private readonly stmt: ReturnType<typeof prepareStatements>;

  constructor(
    db: Db,
    private readonly runs: RunService,
  ) {
    this.stmt = prepareStatements(db);
  }

  /**
   * Create a sweep and queue its runs (variant by variant, each with its seeds).
   * @returns the sweep's id and its runs' ids in variant order.
   * @throws ApiError invalid_params naming the field for an invalid sweep (`sweep.…`) or a
   *   variant whose spec is invalid (nothing is stored); what RunService.start refuses for
   *   the first run (e.g. `datasetId`: fewer than two labeled classes; nothing is stored).
   *   Should a later run be refused, the runs queued so far are cancelled, the sweep is
   *   marked cancelled, and the error says at which run it stopped.
   */
  async create(params: { spec: unknown; name?: string }): Promise<{ sweepId: number; runIds: number[] }> {
    const { sweep, variants, runs } = expandSweep(params.spec);
    const name = params.name?.trim() || defaultName(sweep.base.model.preset, sweep.grid.length, variants.length, sweep.seeds);
    const sweepId = Number(this.stmt.insert.run(name, JSON.stringify(sweep), JSON.stringify(variants), now()).lastInsertRowid);
    const runIds: number[] = [];
    try {
      for (const plan of runs) {
        const label = `${name} · ${variants[plan.variant].label} · seed ${plan.seed}`;
        const { runId } = await this.runs.start({ spec: plan.spec, name: label.length > RUN_NAME_MAX ? `${label.slice(0, RUN_NAME_MAX - 1)}…` : label });
        this.stmt.tagRun.run(sweepId, plan.variant, runId);
        runIds.push(runId);
      }
    } catch (err) {
      if (runIds.length === 0) {
        this.stmt.remove.run(sweepId);
        throw err;
      }
      this.cancel(sweepId);
      const e = err as ApiError;
      throw new ApiError(e.code ?? 'internal', `sweep ${sweepId} stopped at run ${runIds.length + 1} of ${runs.length} (its ${runIds.length} queued runs cancelled): ${e.message}`, e.field);
    }
    return { sweepId, runIds };
  }

  /** Sweeps, newest first, with their progress. */
  list(): SweepSummary[] {
    const counts = new Map<number, Counts>();
    for (const c of this.stmt.counts.all() as { sweep_id: number; status: keyof Counts; n: number }[]) {
      const m = counts.get(c.sweep_id) ?? noCounts();
      m[c.status] = c.n;
      counts.set(c.sweep_id, m);
    }
    return (this.stmt.list.all() as SweepRow[]).map((r) => summary(r, counts.get(r.id) ?? noCounts(), (id) => this.datasetName(id)));
  }

  /** The name of dataset `id`, or null when it was deleted. */
  private datasetName(id: number): string | null {
    return (this.stmt.datasetName.get(id) as string | undefined) ?? null;
  }

  /** One sweep with its variants, runs and ablation table. @throws ApiError not_found (field sweepId). */
  get(sweepId: number): SweepDetail {
    const row = this.row(sweepId);
    const variants = JSON.parse(row.variants) as SweepVariant[];
    const results = this.results(sweepId);
    const counts = noCounts();
    for (const r of results) counts[r.status]++;
    return { ...summary(row, counts, (id) => this.datasetName(id)), spec: JSON.parse(row.spec) as Record<string, unknown>, variantList: variants, runList: results, table: ablationTable(variants, results) };
  }

  /**
   * Cancel a sweep: its queued runs at once, its running ones as RunService.cancel does.
   * @returns how many runs were asked to stop. @throws ApiError not_found.
   */
  cancel(sweepId: number): { cancelled: number } {
    this.row(sweepId);
    this.stmt.cancelled.run(now(), sweepId);
    let cancelled = 0;
    for (const r of this.results(sweepId)) {
      if (r.status !== 'queued' && r.status !== 'running') continue;
      if (this.runs.cancel(r.runId).ok) cancelled++;
    }
    return { cancelled };
  }

  /** The run queue: concurrency, cores, the threads each engine gets with the queue full, runs waiting and training. */
  queue(): QueueInfo {
    const cores = availableParallelism();
    const concurrency = this.runs.concurrency;
    const all = this.runs.list();
    return { concurrency, cores, threadsPerEngine: engineThreads(concurrency, cores), queued: all.filter((r) => r.status === 'queued').length, running: all.filter((r) => r.status === 'running').length };
  }

  /** Set the queue's concurrency (1–64). */
  setConcurrency(concurrency: number): QueueInfo {
    this.runs.setConcurrency(concurrency);
    return this.queue();
  }

  private row(sweepId: number): SweepRow {
    const row = this.stmt.get.get(sweepId) as SweepRow | undefined;
    if (!row) throw new ApiError('not_found', `sweepId: sweep ${sweepId} not found`, 'sweepId');
    return row;
  }

  private results(sweepId: number): SweepRunResult[] {
    const rows = this.stmt.runs.all(sweepId) as { id: number; sweep_variant: number; seed: number; status: SweepRunResult['status']; best_val_accuracy: number | null; test_accuracy: number | null; error: string | null }[];
    return rows.map((r) => ({ runId: r.id, variant: r.sweep_variant, seed: r.seed, status: r.status, bestValAccuracy: r.best_val_accuracy, testAccuracy: r.test_accuracy, error: r.error }));
  }
}

/**
 * A sweep's summary: `runs` is its planned size (variants × seeds), `deleted` the planned runs
 * no longer there (deleted by the user), so deleting a run does not shrink the sweep.
 */
function summary(r: SweepRow, counts: Counts, datasetName: (id: number) => string | null): SweepSummary {
  const spec = JSON.parse(r.spec) as { base: { datasetId: number }; seeds: number };
  const variants = (JSON.parse(r.variants) as unknown[]).length;
  const planned = variants * spec.seeds;
  const present = Object.values(counts).reduce((a, b) => a + b, 0);
  const datasetId = spec.base.datasetId;
  return { id: r.id, name: r.name, datasetId, datasetName: datasetName(datasetId), createdAt: r.created_at, cancelledAt: r.cancelled_at, variants, seeds: spec.seeds, runs: planned, deleted: Math.max(0, planned - present), counts };
}

function defaultName(preset: keyof typeof PRESET_LABELS, axes: number, variants: number, seeds: number): string {
  return `${PRESET_LABELS[preset]} sweep: ${axes} ${axes === 1 ? 'axis' : 'axes'}, ${variants} variant${variants === 1 ? '' : 's'} × ${seeds} seed${seeds === 1 ? '' : 's'}`;
}
