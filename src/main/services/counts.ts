/**
 * The one counting rule for a dataset's images, used by the dataset summary and detail
 * (and so by every page and the CLI):
 * - `itemCount`: every image of the dataset, excluded ones too;
 * - `excludedCount`: the excluded images (kept, shown, never trained on), counted apart;
 * - `counts[split]`: the images of a split that are not excluded, labeled or not;
 * - a class's counts (ClassInfo.counts): its labeled images that are not excluded;
 * - a dataset version's itemCount: the labeled, non-excluded images with a split that
 *   it froze (pack.ts), i.e. the class counts' train + val + test at that moment.
 * So counts.train + val + test + (not excluded, without a split) + excludedCount = itemCount,
 * and the labeling grid with "hide excluded" and a split filter shows counts[split].
 */
import type { Split } from '../../shared/api';
import type { Db } from '../db/db';

/** A dataset's image counts by the rule above. */
export function datasetCounts(db: Db, datasetId: number): { itemCount: number; excludedCount: number; counts: Record<Split, number> } {
  const counts = { train: 0, val: 0, test: 0 };
  let itemCount = 0;
  let excludedCount = 0;
  for (const r of db.prepare('SELECT split, excluded, COUNT(*) AS n FROM items WHERE dataset_id = ? GROUP BY split, excluded').all(datasetId) as { split: Split | null; excluded: number; n: number }[]) {
    itemCount += r.n;
    if (r.excluded) excludedCount += r.n;
    else if (r.split) counts[r.split] += r.n;
  }
  return { itemCount, excludedCount, counts };
}
