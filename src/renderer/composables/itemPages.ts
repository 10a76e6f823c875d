/**
 * On-demand pages of a dataset's items for a virtual grid: only the pages covering the
 * requested index range are fetched (a few at a time), and a filter change starts over.
 */
import { ref, shallowRef, type Ref } from 'vue';
import type { Item, Params, Result, Split } from '../../shared/api';
import { errorText } from '../api/errors';

export interface ItemFilter {
  split?: Split;
  classId?: number;
}

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

  function itemAt(index: number): Item | undefined {
    void version.value;
    return pages.value.get(Math.floor(index / pageSize))?.[index % pageSize];
  }

  function pump(): void {
    while (inFlight.size < maxConcurrent && queue.length) {
      const page = queue.shift() as number;
      if (pages.value.has(page) || inFlight.has(page)) continue;
      load(page);
    }
  }

  function load(page: number): void {
    const gen = generation;
    inFlight.add(page);
    requests.value++;
    const params: Params<'datasets.items'> = { datasetId, offset: page * pageSize, limit: pageSize };
    if (filter.split) params.split = filter.split;
    if (filter.classId !== undefined) params.classId = filter.classId;
    fetchItems(params)
      .then((r) => {
        if (gen !== generation) return;
        pages.value.set(page, r.items);
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
    load(0);
  }

  return { total, error, version, itemAt, ensure, reset, requests };
}
