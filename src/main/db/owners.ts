/**
 * Process ownership in the database: every process that opens the data directory (host,
 * CLI, Electron) registers one row in `processes` (random instance id, pid, host name, the
 * OS's start time of the pid, heartbeat) and refreshes its heartbeat every `heartbeatMs`.
 * Import jobs, runs and pending blob references name their owner; another process decides
 * that an owner is gone — and only then marks its work interrupted — by `isGone`:
 *   - no row (the owner closed cleanly, or the work predates owners): gone;
 *   - the same host: gone when the pid is not alive, or is alive with another start time
 *     (the pid was reused); a live pid is never declared gone, however late its heartbeat;
 *   - another host (a shared network folder): gone when its heartbeat is older than
 *     STALE_BEATS intervals.
 * One Owner per database connection (`ownerOf`), shared by the services on it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Db } from './db';
import { now } from './db';

/** Milliseconds between two heartbeats (and between two recovery sweeps of each service). */
export const HEARTBEAT_MS = 2000;
/** A heartbeat older than this many intervals is stale. */
export const STALE_BEATS = 3;

const owners = new WeakMap<Db, Owner>();
/** Ids of the owners of this process that are open. */
const liveIds = new Set<string>();

/** A `processes` row. */
export interface ProcessRow {
  id: string;
  pid: number;
  host: string;
  proc_start: string | null;
  started_at: number;
  heartbeat_at: number;
  heartbeat_ms: number;
}

/**
 * The start time of process `pid` as the OS records it (Linux: field 22 of
 * /proc/<pid>/stat, clock ticks since boot), or null where that cannot be read
 * (no /proc, or no such process).
 */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[22 - 3] ?? null;
  } catch {
    return null;
  }
}

/** True when a process `pid` exists on this host (EPERM: it exists, owned by another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the process of `row` is gone, judged from this host at `time` (Unix seconds).
 * `undefined` (no row) is gone. See the file header for the rules.
 */
export function isGone(row: ProcessRow | undefined, time = now()): boolean {
  if (!row) return true;
  // An owner of this very process that was closed without deleting its row (database closed first).
  if (row.pid === process.pid && row.host === hostname()) return !liveIds.has(row.id);
  if (row.host === hostname()) {
    if (!pidAlive(row.pid)) return true;
    const start = row.proc_start === null ? null : processStartTime(row.pid);
    return start !== null && start !== row.proc_start;
  }
  return time - row.heartbeat_at > (STALE_BEATS * row.heartbeat_ms) / 1000;
}

/** Whether the heartbeat of `row` is older than STALE_BEATS intervals (the owner may be alive but stuck). */
export function isStale(row: ProcessRow | undefined, time = now()): boolean {
  return !row || time - row.heartbeat_at > (STALE_BEATS * row.heartbeat_ms) / 1000;
}

/** This process's row in `processes`, and its heartbeat. */
export class Owner {
  /** Random instance id (hex), the key of this process's row. */
  readonly id = randomBytes(8).toString('hex');
  private readonly beatStmt;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Holders (services) that called ownerOf and have not released it yet. */
  refs = 0;

  constructor(
    private readonly db: Db,
    readonly heartbeatMs = HEARTBEAT_MS,
  ) {
    this.beatStmt = db.prepare('UPDATE processes SET heartbeat_at = ? WHERE id = ?');
    this.register();
    this.timer = setInterval(() => this.beat(), heartbeatMs);
    this.timer.unref();
    liveIds.add(this.id);
  }

  /** Insert this process's row (also when it was removed, e.g. reaped while this process was suspended). Never throws: a full disk is retried on the next beat. */
  private register(): boolean {
    const t = now();
    try {
      this.db
        .prepare('INSERT OR IGNORE INTO processes (id, pid, host, proc_start, started_at, heartbeat_at, heartbeat_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(this.id, process.pid, hostname(), processStartTime(process.pid), t, t, this.heartbeatMs);
      return true;
    } catch (err) {
      console.error('[layerwise] registering this process failed (retried with the heartbeat):', (err as Error).message);
      return false;
    }
  }

  /** Refresh the heartbeat now. Never throws (a full disk or a closed database is retried on the next beat). */
  beat(): void {
    if (this.closed || !this.db.open) return;
    try {
      if (this.beatStmt.run(now(), this.id).changes === 0) this.register();
    } catch (err) {
      console.error('[layerwise] heartbeat failed:', (err as Error).message);
    }
  }

  /** The owner rows of every process registered, by id. */
  processes(): Map<string, ProcessRow> {
    const rows = this.db.prepare('SELECT * FROM processes').all() as ProcessRow[];
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** True when `ownerId` (null: none recorded) is gone (see isGone); this process is never gone. */
  ownerGone(ownerId: string | null, rows = this.processes()): boolean {
    if (ownerId === this.id) return false;
    return ownerId === null || isGone(rows.get(ownerId));
  }

  /** True when `ownerId` is gone or its heartbeat is stale (may be stuck): another process may then finish its work. */
  ownerUnresponsive(ownerId: string | null, rows = this.processes()): boolean {
    if (ownerId === this.id) return false;
    return this.ownerGone(ownerId, rows) || isStale(rows.get(ownerId ?? ''));
  }

  /** Delete the rows of processes that are gone (their pending blob references go with them, by cascade). Returns how many. */
  reapGone(): number {
    const gone = [...this.processes().values()].filter((r) => r.id !== this.id && isGone(r)).map((r) => r.id);
    const del = this.db.prepare('DELETE FROM processes WHERE id = ?');
    this.db.transaction(() => {
      for (const id of gone) del.run(id);
    })();
    return gone.length;
  }

  /** One holder is done with this owner; the last one closes it. */
  release(): void {
    if (--this.refs <= 0) this.close();
  }

  /** Stop the heartbeat and delete this process's row (what it owned then counts as orphaned). Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    liveIds.delete(this.id);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    owners.delete(this.db);
    try {
      if (this.db.open) this.db.prepare('DELETE FROM processes WHERE id = ?').run(this.id);
    } catch (err) {
      console.error('[layerwise] removing the process row failed:', (err as Error).message);
    }
  }
}


/**
 * The Owner of this process on `db`, registered on first use (with `heartbeatMs` then;
 * later calls return the same one); each call is one holder, to be matched by release().
 * Once closed, the next call registers anew.
 */
export function ownerOf(db: Db, heartbeatMs?: number): Owner {
  let o = owners.get(db);
  if (!o) owners.set(db, (o = new Owner(db, heartbeatMs)));
  o.refs++;
  return o;
}
