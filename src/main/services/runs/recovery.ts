/**
 * Recovery: a run is owned by the process that queued it (`runs.owner_id`, a row of
 * `processes`, see src/main/db/owners.ts). Every heartbeat each RunService sweeps the
 * unfinished runs: a running one whose owner is gone is marked interrupted (so a
 * run never stays 'running' without a live owner); a queued one whose owner is gone stays
 * queued — the queue survives a restart — and is adopted (claimed in the database, then
 * queued here) by a service that takes over queues (the host and the desktop app, not a
 * passing CLI command); a cancel request another process wrote for one of its own runs is
 * carried out. Runs of a live process are never touched.
 */
import type { Owner } from '../../db/owners';
import type { RunStore, UnfinishedRun } from './store';

/** The error recorded for a run whose process stopped during it. */
export const INTERRUPTED = 'interrupted: the app stopped during the run';

/** What one sweep decided for the unfinished runs. */
export interface SweepPlan {
  /** Runs to mark interrupted: their owner is gone (or, owned here, nothing drives them). */
  interrupted: number[];
  /** Runs of this process that another process asked to cancel. */
  cancel: number[];
  /** Queued runs whose owner is gone, to claim and queue here (only with `adoptQueued`), in id order. */
  adopt: number[];
}

/**
 * Decide what to do with `unfinished` runs: `isActive(id)` tells whether this process
 * drives run `id` (queued, preparing or training); `adoptQueued`, whether this process
 * takes over the queued runs of gone owners (else they are left queued for one that does).
 */
export function planSweep(owner: Owner, unfinished: readonly UnfinishedRun[], isActive: (runId: number) => boolean, adoptQueued = false): SweepPlan {
  const plan: SweepPlan = { interrupted: [], cancel: [], adopt: [] };
  if (unfinished.length === 0) return plan;
  const procs = owner.processes();
  for (const r of unfinished) {
    if (r.owner_id === owner.id) {
      if (!isActive(r.id)) plan.interrupted.push(r.id);
      else if (r.cancel_requested) plan.cancel.push(r.id);
    } else if (owner.ownerGone(r.owner_id, procs)) {
      if (r.status !== 'queued') plan.interrupted.push(r.id);
      else if (adoptQueued) plan.adopt.push(r.id);
    }
  }
  plan.adopt.sort((a, b) => a - b);
  return plan;
}

/**
 * Cancel an unfinished run that this process does not drive: when its owner is another
 * live, responsive process, write a cancel request (the owner carries it out with its next
 * heartbeat) and return true; return false when the caller should mark it cancelled itself
 * (the owner is gone, stuck, or none).
 */
export function requestCancelFromOwner(store: RunStore, owner: Owner, runId: number): boolean {
  const ownerId = store.owner(runId) ?? null;
  if (ownerId === owner.id || owner.ownerUnresponsive(ownerId)) return false;
  store.requestCancel(runId);
  return true;
}
