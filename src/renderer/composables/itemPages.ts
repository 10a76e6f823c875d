/**
 * On-demand pages of a dataset's items for a virtual grid: only the pages covering the
 * requested index range are fetched (a few at a time), and a filter change starts over.
 */
import { ref, shallowRef, type Ref } from 'vue';
import type { Item, ItemFilter, Params, Result } from '../../shared/api';
import { errorText } from '../api/errors';

export type { ItemFilter } from '../../shared/api';

export type FetchItems = (params: Params<'datasets.items'>) => Promise<Result<'datasets.items'>>;

export interface ItemPages {
  total: Ref<number | null>;
  error: Ref<string | null>;
  /** Bumped on every page arrival (read it to re-render). */
  version: Ref<number>;
  itemAt(index: number): Item | undefined;
  /** Make sure items [from, to) are loaded or loading. */
  ensure(from: number, to: number): void;
  reset(datasetId: number, filter: ItemFilter): void;
  /** Reload the pages in view without clearing them (after a label change); resolves when they arrived. */
  refresh(): Promise<void>;
  /** Index of a loaded item, or -1. */
  indexOf(itemId: number): number;
  /** Number of requests made since the last reset (for tests and diagnostics). */
  requests: Ref<number>;
}

export function useItemPages(fetchItems: FetchItems, pageSize = 256, maxConcurrent = 3): ItemPages {
  const total = ref<number | null>(null);
  const error = ref<string | null>(null);
  const version = ref(0);
  const requests = ref(0);
  const pages = shallowRef(new Map<number, Item[]>());
  const inFlight = new Set<number>();
  const queue: number[] = [];
  let generation = 0;
  let datasetId = 0;
  let filter: ItemFilter = {};
  let lastRange: [number, number] = [0, pageSize];

  function itemAt(index: number): Item | undefined {
    void version.value;
    return pages.value.get(Math.floor(index / pageSize))?.[index % pageSize];
  }

  function pump(): void {
    while (inFlight.size < maxConcurrent && queue.length) {
      const page = queue.shift() as number;
      if (pages.value.has(page) || inFlight.has(page)) continue;
      void load(page);
    }
  }

  function load(page: number): Promise<void> {
    const gen = generation;
    inFlight.add(page);
    requests.value++;
    const params: Params<'datasets.items'> = { datasetId, offset: page * pageSize, limit: pageSize };
    for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== null) (params as Record<string, unknown>)[k] = v;
    return fetchItems(params)
      .then((r) => {
        if (gen !== generation) return;
        const next = new Map(pages.value);
        next.set(page, r.items);
        pages.value = next;
        total.value = r.total;
        error.value = null;
        version.value++;
      })
      .catch((e) => {
        if (gen === generation) error.value = errorText(e);
      })
      .finally(() => {
        if (gen !== generation) return;
        inFlight.delete(page);
        pump();
      });
  }

  function ensure(from: number, to: number): void {
    if (to <= from) return;
    const first = Math.floor(Math.max(0, from) / pageSize);
    const last = Math.floor((to - 1) / pageSize);
    lastRange = [Math.max(0, from), to];
    // Newest need first: drop queued pages that scrolled away.
    queue.length = 0;
    for (let p = first; p <= last; p++) if (!pages.value.has(p) && !inFlight.has(p)) queue.push(p);
    pump();
  }

  function reset(id: number, f: ItemFilter): void {
    generation++;
    datasetId = id;
    filter = { ...f };
    pages.value = new Map();
    inFlight.clear();
    queue.length = 0;
    total.value = null;
    error.value = null;
    requests.value = 0;
    version.value++;
    void load(0);
  }

  function refresh(): Promise<void> {
    generation++;
    inFlight.clear();
    queue.length = 0;
    const first = Math.floor(lastRange[0] / pageSize);
    const last = Math.max(first, Math.floor((lastRange[1] - 1) / pageSize));
    // Keep the pages in view on screen (stale) until their fresh copies arrive; drop the rest.
    const keep = new Map<number, Item[]>();
    for (const [p, items] of pages.value) if (p >= first && p <= last) keep.set(p, items);
    pages.value = keep;
    const loads: Promise<void>[] = [];
    for (let p = first; p <= last; p++) loads.push(load(p));
    return Promise.all(loads).then(() => undefined);
  }

  function indexOf(itemId: number): number {
    for (const [p, items] of pages.value) {
      const i = items.findIndex((it) => it.id === itemId);
      if (i >= 0) return p * pageSize + i;
    }
    return -1;
  }

  return { total, error, version, itemAt, ensure, reset, refresh, indexOf, requests };
}
