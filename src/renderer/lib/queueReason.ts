/** Why a queued run waits, in words, from the runs list and the queue's concurrency. */
import type { RunSummary } from '../../shared/api';

/** A queued run's state in words: `queued` false while its engine is being started (a slot was free), true while it waits for one. */
export interface QueueReason {
  text: string;
  queued: boolean;
}

/**
 * For run `runId`: "Starting the engine…" when it has a slot (the queue is FIFO by createdAt,
 * then id, and the runs training plus the queued runs ahead of it are fewer than `concurrency`:
 * the queue launched it, its engine has not said `ready` yet); else "Queued: 1 run ahead — run #1
 * "demo" is training; 1 run at a time". Null when the run is not in `runs` or not queued.
 * `concurrency` null = not known: the clause is left out and one slot assumed (the least the queue has).
 */
export function queueReason(runs: readonly Pick<RunSummary, 'id' | 'name' | 'status' | 'createdAt'>[], runId: number, concurrency: number | null): QueueReason | null {
  const me = runs.find((r) => r.id === runId);
  if (!me || me.status !== 'queued') return null;
  const before = (r: Pick<RunSummary, 'id' | 'createdAt'>) => r.createdAt < me.createdAt || (r.createdAt === me.createdAt && r.id < me.id);
  const ahead = runs.filter((r) => r.status === 'queued' && r.id !== runId && before(r));
  const running = runs.filter((r) => r.status === 'running');
  if (running.length + ahead.length < (concurrency ?? 1)) return { text: 'Starting the engine…', queued: false };
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  const parts: string[] = [];
  if (running.length) {
    const shown = running.slice(0, 3).map((r) => `run #${r.id} "${r.name}"`).join(', ');
    parts.push(`${shown}${running.length > 3 ? ` and ${running.length - 3} more` : ''} ${running.length === 1 ? 'is' : 'are'} training`);
  }
  if (concurrency !== null) parts.push(`${plural(concurrency, 'run')} at a time`);
  const head = ahead.length ? `Queued: ${plural(ahead.length, 'run')} ahead` : 'Queued: next in line';
  return { text: parts.length ? `${head} — ${parts.join('; ')}` : head, queued: true };
}
