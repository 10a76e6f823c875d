/**
 * The cursor and the selection of the labeling grid, by position in the filtered set
 * (cursor) and by item id (selection): click, Ctrl/⌘-click toggles, Shift-click and
 * Shift-arrows select a range from the anchor, Ctrl+A selects the whole filtered set.
 * Ranges and focus reach items not loaded yet through `allIds` (the filtered set's ids in
 * grid order), queued with the view's other commands.
 */
import { ref, watch, type Ref } from 'vue';
import type { Item } from '../../shared/api';

export interface GridSelectionSource {
  /** Items in the filtered set. */
  total: Ref<number>;
  /** The loaded item at a position, else undefined. */
  itemAt(index: number): Item | undefined;
  /** Position of a loaded item, or -1. */
  indexOf(itemId: number): number;
  /** Every id of the filtered set, in grid order (a server call). */
  allIds(): Promise<number[]>;
  /** Bring a position into view. */
  scrollToIndex(index: number): void;
  /** Run a command after the ones queued before it (see useCommandQueue). */
  enqueue(fn: () => Promise<void>): Promise<void>;
}

export interface GridSelection {
  /** Position of the cursor in the filtered set. */
  current: Ref<number>;
  /** Selected item ids. */
  selected: Ref<Set<number>>;
  /** Move the cursor (clamped to the set) and scroll to it. */
  setCurrent(index: number): void;
  setSelected(next: Set<number>): void;
  /** Cursor to the start, anchor too, selection dropped (a new filter). */
  reset(): void;
  /** What an action applies to: the selection, else the current item. */
  targets(): number[];
  /** Toggle the item at `index` (default: the cursor) in the selection; it becomes the anchor. */
  toggle(index?: number): void;
  /** Add every item between the anchor and `index` to the selection. */
  selectRange(index: number): Promise<void>;
  /** Select the whole filtered set; resolves with how many. */
  selectAll(): Promise<number>;
  /** Arrow keys: the cursor to `index`; with `extend`, the range from the anchor is selected. */
  moveCursor(index: number, extend: boolean): void;
  /** A click on the tile at `index`, with Shift / Ctrl / ⌘ as in a file manager. */
  click(index: number, e: Pick<MouseEvent, 'shiftKey' | 'ctrlKey' | 'metaKey'>): void;
  /**
   * Put the cursor on the first of `itemIds` in the filtered set and select them when several
   * (only those in the set); any other selection is dropped. False when none is in the set.
   */
  focusItems(itemIds: number[]): Promise<boolean>;
}

export function useGridSelection(src: GridSelectionSource): GridSelection {
  const current = ref(0);
  const selected = ref<Set<number>>(new Set());
  let anchor = 0;

  // The set shrank under the cursor (a queue emptied): stay on its last item.
  watch(src.total, (t) => {
    if (t > 0 && current.value > t - 1) current.value = t - 1;
  });

  function setCurrent(i: number): void {
    if (src.total.value <= 0) return;
    current.value = Math.max(0, Math.min(src.total.value - 1, i));
    src.scrollToIndex(current.value);
  }

  function setSelected(next: Set<number>): void {
    selected.value = next;
  }

  function reset(): void {
    current.value = 0;
    anchor = 0;
    selected.value = new Set();
  }

  function targets(): number[] {
    if (selected.value.size) return [...selected.value];
    const it = src.total.value > 0 ? src.itemAt(current.value) : undefined;
    return it ? [it.id] : [];
  }

  function toggle(i = current.value): void {
    const it = src.itemAt(i);
    if (!it) return;
    const next = new Set(selected.value);
    if (next.has(it.id)) next.delete(it.id);
    else next.add(it.id);
    setSelected(next);
    anchor = i;
  }

  function selectRange(i: number): Promise<void> {
    const from = Math.min(anchor, i);
    const to = Math.max(anchor, i);
    const ids: number[] = [];
    let missing = false;
    for (let k = from; k <= to; k++) {
      const it = src.itemAt(k);
      if (it) ids.push(it.id);
      else missing = true;
    }
    if (!missing) {
      setSelected(new Set([...selected.value, ...ids]));
      return Promise.resolve();
    }
    return src.enqueue(async () => {
      const all = await src.allIds();
      setSelected(new Set([...selected.value, ...all.slice(from, to + 1)]));
    });
  }

  async function selectAll(): Promise<number> {
    const ids = await src.allIds();
    setSelected(new Set(ids));
    return ids.length;
  }

  function moveCursor(next: number, extend: boolean): void {
    setCurrent(next);
    if (extend) void selectRange(next);
    else anchor = next;
  }

  function click(index: number, e: Pick<MouseEvent, 'shiftKey' | 'ctrlKey' | 'metaKey'>): void {
    if (e.shiftKey) {
      void selectRange(index);
      current.value = index;
      return;
    }
    if (e.ctrlKey || e.metaKey) {
      current.value = index;
      toggle(index);
      return;
    }
    current.value = index;
    anchor = index;
  }

  async function focusItems(itemIds: number[]): Promise<boolean> {
    setSelected(new Set());
    if (!itemIds.length) return false;
    let found = itemIds.map((id) => [id, src.indexOf(id)] as const).filter(([, i]) => i >= 0);
    if (found.length < itemIds.length) {
      // Not all loaded: their positions in the whole filtered set.
      const all = await src.allIds().catch(() => [] as number[]);
      const want = new Set(itemIds);
      found = [];
      all.forEach((id, i) => want.has(id) && found.push([id, i]));
    }
    if (!found.length) return false;
    const first = Math.min(...found.map(([, i]) => i));
    setCurrent(first);
    anchor = first;
    if (found.length > 1) setSelected(new Set(found.map(([id]) => id)));
    return true;
  }

  return { current, selected, setCurrent, setSelected, reset, targets, toggle, selectRange, selectAll, moveCursor, click, focusItems };
}
