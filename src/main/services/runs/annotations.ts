/**
 * What a researcher writes on a run: its tags and its note (migration 006), and deleting a
 * run with everything it left (rows by ON DELETE CASCADE: metrics, checkpoints,
 * predictions, suggestions, tags; its `runs/<id>/` folder on disk).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../db/db';

export class RunAnnotations {
  private readonly stmt;

  constructor(private readonly db: Db) {
    this.stmt = {
      allTags: db.prepare(`SELECT run_id, tag FROM run_tags ORDER BY run_id, tag`),
      tagsOf: db.prepare(`SELECT tag FROM run_tags WHERE run_id = ? ORDER BY tag`).pluck(),
      clearTags: db.prepare(`DELETE FROM run_tags WHERE run_id = ?`),
      addTag: db.prepare(`INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?, ?)`),
      setNote: db.prepare(`UPDATE runs SET note = ? WHERE id = ?`),
      deleteRun: db.prepare(`DELETE FROM runs WHERE id = ?`),
    };
  }

  /** Every run's tags, sorted (runs without tags are absent). */
  allTags(): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const r of this.stmt.allTags.all() as { run_id: number; tag: string }[]) {
      const list = out.get(r.run_id);
      if (list) list.push(r.tag);
      else out.set(r.run_id, [r.tag]);
    }
    return out;
  }

  /** One run's tags, sorted. */
  tagsOf(runId: number): string[] {
    return this.stmt.tagsOf.all(runId) as string[];
  }

  /** Replace the run's tags by `tags` (duplicates kept once) and / or set its note, in one transaction. The caller checks the run exists. */
  update(runId: number, change: { tags?: readonly string[]; note?: string }): void {
    this.db.transaction(() => {
      if (change.tags) {
        this.stmt.clearTags.run(runId);
        for (const t of change.tags) this.stmt.addTag.run(runId, t);
      }
      if (change.note !== undefined) this.stmt.setNote.run(change.note, runId);
    })();
  }

  /**
   * Delete the run's row (its metrics, checkpoints, predictions, suggestions and tags go
   * with it) in one transaction, then its folder `runsDir/<id>/`. The caller refuses
   * unfinished runs. A folder that cannot be removed is left (its id is never reused).
   */
  delete(runId: number, runsDir: string): void {
    this.db.transaction(() => this.stmt.deleteRun.run(runId))();
    try {
      rmSync(join(runsDir, String(runId)), { recursive: true, force: true });
    } catch (err) {
      console.error(`[layerwise] run ${runId}: its folder could not be removed:`, (err as Error).message);
    }
  }
}
