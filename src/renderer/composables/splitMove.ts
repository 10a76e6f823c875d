/**
 * Moving images between splits from the labeling view, guarding the test split: a move
 * out of test asks first (the test set would no longer measure unseen data). Splits of
 * loaded items are checked here; for items not loaded, the server's refusal (ApiError
 * 'conflict' on the field `allowFromTest`, labels/items.ts) asks instead.
 */
import { ref, type Ref } from 'vue';
import type { Item, Split } from '../../shared/api';
import { toApiError } from '../api/errors';
import { formatNumber } from '../lib/format';

export interface SplitMoveSource {
  /** The item ids an action applies to (selection, else the current item). */
  targets(): number[];
  total: Ref<number>;
  itemAt(index: number): Item | undefined;
  enqueue(fn: () => Promise<void>): Promise<void>;
  /** Move `ids` to `split` on the server (with `allowFromTest` once confirmed). */
  move(ids: number[], split: Split, allowFromTest: boolean): Promise<void>;
}

export interface SplitMove {
  /** The move waiting for the user's confirmation, with the question to ask; null when none. */
  confirmMove: Ref<{ ids: number[]; split: Split; message: string } | null>;
  /** Move the targets to `split`, asking first when some of them are in test. */
  moveTo(split: Split): void;
  /** The user confirmed the pending move out of test. */
  confirmMoveFromTest(): void;
}

/** The question asked before moving `n` test images (null: an unknown number) to `split`. */
export function testMessage(n: number | null, split: Split): string {
  const what = n === null ? 'Some of these images are' : n === 1 ? '1 image is' : `${formatNumber(n)} images are`;
  return `${what} in the test split. Moving them to ${split} means the test set no longer measures unseen data. Move anyway?`;
}

export function useSplitMove(src: SplitMoveSource): SplitMove {
  const confirmMove = ref<{ ids: number[]; split: Split; message: string } | null>(null);

  /** How many of `ids` are loaded and in the test split. */
  function knownInTest(ids: number[]): number {
    const want = new Set(ids);
    let n = 0;
    for (let i = 0; i < src.total.value && want.size; i++) {
      const it = src.itemAt(i);
      if (it && want.has(it.id)) {
        want.delete(it.id);
        if (it.split === 'test') n++;
      }
    }
    return n;
  }

  function moveTo(split: Split): void {
    const ids = src.targets();
    if (!ids.length) return;
    const fromTest = split !== 'test' ? knownInTest(ids) : 0;
    if (fromTest > 0) {
      confirmMove.value = { ids, split, message: testMessage(fromTest, split) };
      return;
    }
    void src.enqueue(async () => {
      try {
        await src.move(ids, split, false);
      } catch (e) {
        // The server knows splits of items we have not loaded: a refusal about test asks the user.
        const err = toApiError(e);
        if (err.code === 'conflict' && err.field === 'allowFromTest' && split !== 'test') confirmMove.value = { ids, split, message: testMessage(null, split) };
        else throw e;
      }
    });
  }

  function confirmMoveFromTest(): void {
    const m = confirmMove.value;
    confirmMove.value = null;
    if (m) void src.enqueue(() => src.move(m.ids, m.split, true));
  }

  return { confirmMove, moveTo, confirmMoveFromTest };
}
