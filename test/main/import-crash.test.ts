/**
 * An import whose process died (crash, SIGKILL, power loss) is marked interrupted by the
 * next sweep of any process, and the dataset it was creating goes with it when it holds
 * nothing: no empty dataset the user did not ask for. A dataset that existed before the
 * job (an earlier import, or runs) is kept.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { DatasetService } from '../../src/main/services/datasets';
import { tempDataDir, type TempDataDir } from '../helpers';

let dir: TempDataDir | null = null;
afterEach(() => {
  dir?.cleanup();
  dir = null;
});

/** The pid of a process that has exited (so it is certainly not alive). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('an import interrupted by the death of its process', () => {
  it('is marked failed (interrupted); the new dataset it was creating is removed, an older dataset re-imported into is kept', async () => {
    dir = tempDataDir();
    const db = dir.openDb();
    const t = Date.now() / 1000 - 60;
    db.prepare('INSERT INTO processes (id, pid, host, proc_start, started_at, heartbeat_at, heartbeat_ms) VALUES (?, ?, ?, NULL, ?, ?, 2000)').run('dead0000dead0000', deadPid(), hostname(), t, t);
    const addDataset = (name: string): number => Number(db.prepare("INSERT INTO datasets (name, created_at, split_config) VALUES (?, ?, '{}')").run(name, t).lastInsertRowid);
    const addJob = (datasetId: number, status: string, owner: string | null): number =>
      Number(db.prepare('INSERT INTO import_jobs (dataset_id, source_path, status, started_at, owner_id) VALUES (?, ?, ?, ?, ?)').run(datasetId, '/src', status, t, owner).lastInsertRowid);
    const fresh = addDataset('being created');
    db.prepare("INSERT INTO classes (dataset_id, idx, name) VALUES (?, 0, 'cat')").run(fresh);
    const freshJob = addJob(fresh, 'running', 'dead0000dead0000');
    const older = addDataset('imported before');
    addJob(older, 'done', null);
    const olderJob = addJob(older, 'running', 'dead0000dead0000');

    const svc = new DatasetService({ db, paths: dir.paths }); // its start-up sweep finds the dead owner
    try {
      expect(svc.getImport(freshJob)).toMatchObject({ status: 'failed', error: 'interrupted' });
      expect(svc.getImport(olderJob)).toMatchObject({ status: 'failed', error: 'interrupted' });
      const names = svc.list().map((d) => d.name);
      expect(names).not.toContain('being created');
      expect(names).toContain('imported before');
      expect(db.prepare('SELECT COUNT(*) FROM classes WHERE dataset_id = ?').pluck().get(fresh)).toBe(0);
    } finally {
      svc.dispose();
      await svc.idle();
    }
  });
});
