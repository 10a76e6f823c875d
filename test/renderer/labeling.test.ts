// @vitest-environment happy-dom
/**
 * The labeling view's keyboard: 1–9 label the selection (or the current image), Space and
 * shift-click select, Ctrl+A selects the filtered set, Ctrl+Z / Shift+Ctrl+Z undo and redo
 * on the server, X excludes with a reason — each checked by the API call it makes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createMemoryHistory, type Router } from 'vue-router';
import App from '../../src/renderer/App.vue';
import { setApi } from '../../src/renderer/api';
import { createAppRouter } from '../../src/renderer/router';
import type { ClassInfo, DatasetDetail, Item } from '../../src/shared/api';
import { FakeApi } from './fakeApi';
import { fashion } from './fixtures';
import { sizeThumbGrid } from './layout';

sizeThumbGrid();

const classes: ClassInfo[] = [
  { id: 11, index: 0, name: 'T-shirt', color: '#ff0000', counts: { train: 10, val: 0, test: 0, total: 10 } },
  { id: 12, index: 1, name: 'Trouser', color: null, counts: { train: 10, val: 0, test: 0, total: 10 } },
  { id: 13, index: 2, name: 'Bag', color: null, counts: { train: 0, val: 0, test: 0, total: 1234 } },
];
const detail: DatasetDetail = { ...fashion, itemCount: 40, classCount: 3, classes, split: { mode: 'given', train: 80, val: 10, test: 10, valFromTrain: 10, seed: 1 }, imports: [] };
const N = 40;
const items: Item[] = Array.from({ length: N }, (_, i) => ({ id: i + 1, hash: `h${i}`, name: `img${i}.png`, classId: i < 20 ? (i % 2 ? 12 : 11) : null, split: 'train', width: 28, height: 28 }));

let api: FakeApi;
let wrapper: VueWrapper;
let router: Router;

async function mountAt(path: string): Promise<VueWrapper> {
  const pinia = createPinia();
  setActivePinia(pinia);
  router = createAppRouter(createMemoryHistory());
  await router.push(path);
  await router.isReady();
  wrapper = mount(App, { global: { plugins: [pinia, router] }, attachTo: document.body });
  await settle();
  return wrapper;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await flushPromises();
    await new Promise((r) => setTimeout(r, 0));
  }
}

function key(k: string, mods: Partial<KeyboardEventInit> = {}): void {
  document.body.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true, ...mods }));
}

const calls = (name: string) => api.calls.filter((c) => c.name === name).map((c) => c.params as Record<string, unknown>);
const tile = (w: VueWrapper, index: number) => w.get(`[data-testid="grid-tile"][data-index="${index}"]`);

beforeEach(() => {
  api = new FakeApi()
    .handle('datasets.list', () => [fashion])
    .handle('datasets.get', () => detail)
    .handle('runs.list', () => [])
    .handle('versions.list', () => [])
    .handle('labels.history', () => ({ events: [], canUndo: true, canRedo: true }))
    .handle('datasets.items', (p) => {
      const all = p.unlabeled ? items.filter((it) => it.classId === null) : items;
      return { total: all.length, items: all.slice(p.offset, p.offset + p.limit) };
    })
    .handle('items.ids', (p) => ({ ids: (p.unlabeled ? items.filter((it) => it.classId === null) : items).map((it) => it.id) }))
    .handle('labels.assign', (p) => ({ changed: p.itemIds.length, groupId: 5 }))
    .handle('labels.undo', () => ({ groupId: 5, changed: 1 }))
    .handle('labels.redo', () => ({ groupId: 5, changed: 1 }))
    .handle('items.exclude', (p) => ({ changed: p.itemIds.length }));
  setApi(api);
});
afterEach(() => {
  wrapper?.unmount();
  setApi(null);
});

describe('Labeling view keys', () => {
  it('shows the key legend and labels the current image with a digit, then moves on', async () => {
    const w = await mountAt('/datasets/3/label');
    const legend = w.findAll('[data-testid="legend-key"]');
    expect(legend.map((l) => [l.attributes('data-key'), l.attributes('data-class-name')])).toEqual([
      ['1', 'T-shirt'],
      ['2', 'Trouser'],
      ['3', 'Bag'],
    ]);
    expect(tile(w, 0).attributes('data-current')).toBe('true');
    key('2');
    await settle();
    expect(calls('labels.assign')).toEqual([{ datasetId: 3, itemIds: [1], classId: 12, source: 'user' }]);
    // The cursor moved to the next image; the next digit labels that one.
    expect(w.get('[data-testid="current-item"]').attributes('data-item-id')).toBe('2');
    key('1');
    await settle();
    expect(calls('labels.assign')[1]).toEqual({ datasetId: 3, itemIds: [2], classId: 11, source: 'user' });
    // A digit without a class does nothing.
    key('7');
    await settle();
    expect(calls('labels.assign')).toHaveLength(2);
  });

  it('labels consecutive images in "All" with the keys, skipping none, even when a relabelled tile moves; undo / redo return the cursor', async () => {
    // A stateful server: labels change, and the listing is ordered (class, id) like the old
    // grid order, so a relabelled image jumps to its class's section and the rest shift.
    const state = items.map((it) => ({ ...it, classId: null as number | null }));
    let group = 0;
    const groups = new Map<number, { ids: number[]; old: (number | null)[]; to: number | null; undone: boolean }>();
    const listing = () => [...state].sort((a, b) => (a.classId ?? -1) - (b.classId ?? -1) || a.id - b.id);
    api
      .handle('datasets.items', (p) => ({ total: state.length, items: listing().slice(p.offset, p.offset + p.limit).map((it) => ({ ...it })) }))
      .handle('items.ids', () => ({ ids: listing().map((it) => it.id) }))
      .handle('labels.assign', (p) => {
        const g = { ids: p.itemIds, old: p.itemIds.map((id) => state.find((it) => it.id === id)!.classId), to: p.classId, undone: false };
        for (const id of p.itemIds) state.find((it) => it.id === id)!.classId = p.classId;
        groups.set(++group, g);
        return { changed: p.itemIds.length, groupId: group };
      })
      .handle('labels.undo', () => {
        const id = Math.max(...[...groups].filter(([, g]) => !g.undone).map(([k]) => k));
        const g = groups.get(id)!;
        g.ids.forEach((itemId, k) => (state.find((it) => it.id === itemId)!.classId = g.old[k]));
        g.undone = true;
        return { groupId: id, changed: g.ids.length };
      })
      .handle('labels.redo', () => {
        const id = Math.min(...[...groups].filter(([, g]) => g.undone).map(([k]) => k));
        const g = groups.get(id)!;
        for (const itemId of g.ids) state.find((it) => it.id === itemId)!.classId = g.to;
        g.undone = false;
        return { groupId: id, changed: g.ids.length };
      })
      .handle('labels.history', () => ({
        events: [...groups].flatMap(([gid, g]) => g.ids.map((itemId, k) => ({ id: gid * 100 + k, groupId: gid, itemId, oldClassId: g.old[k], newClassId: g.to, time: 0, source: 'user' as const, undone: g.undone }))).reverse(),
        canUndo: true,
        canRedo: true,
      }));
    const w = await mountAt('/datasets/3/label');
    const current = () => Number(w.get('[data-testid="current-item"]').attributes('data-item-id'));
    expect(current()).toBe(1);
    for (const k of ['2', '1', '3', '2', '1']) {
      key(k);
      await settle();
    }
    // Every image from the first on was labelled once, in order: none skipped.
    expect(calls('labels.assign').map((a) => a.itemIds)).toEqual([[1], [2], [3], [4], [5]]);
    expect(state.slice(0, 6).map((it) => it.classId)).toEqual([12, 11, 13, 12, 11, null]);
    expect(current()).toBe(6);
    // Undo returns to the image it changed; labeling from there relabels that one.
    key('z', { ctrlKey: true });
    await settle();
    expect(state[4].classId).toBeNull();
    expect(current()).toBe(5);
    expect(w.get('[data-testid="label-status"]').text()).toBe('Undid a change of 1 image');
    key('z', { ctrlKey: true });
    await settle();
    expect(current()).toBe(4);
    key('Z', { ctrlKey: true, shiftKey: true });
    await settle();
    expect(state[3].classId).toBe(12);
    expect(current()).toBe(4);
    expect(w.get('[data-testid="selection-count"]').text()).toBe('No selection');
  });

  it('History: a group cut off by the 100-event read shows "100+ images", not "100 images"; complete groups show their size', async () => {
    const ev = (id: number, groupId: number, source: 'user' | 'import') => ({ id, groupId, itemId: id, oldClassId: null, newClassId: 11, time: 0, source, undone: false });
    // Newest first: a user group of 3, then the first 97 events of a 10,000-image import.
    api.handle('labels.history', () => ({ events: [...[1003, 1002, 1001].map((i) => ev(i, 9, 'user')), ...Array.from({ length: 97 }, (_, k) => ev(1000 - k, 1, 'import'))], canUndo: true, canRedo: false }));
    const w = await mountAt('/datasets/3/label');
    const rows = w.findAll('[data-testid="history-row"]');
    expect(rows.map((r) => r.get('[data-testid="history-count"]').text())).toEqual(['3 images', '97+ images']);
    expect(rows[0].text()).toContain('unlabeled');
  });

  it('Space toggles the selection and a digit labels the whole selection', async () => {
    const w = await mountAt('/datasets/3/label');
    key(' ');
    key('ArrowRight');
    key('ArrowRight');
    key(' ');
    await settle();
    expect(w.get('[data-testid="selection-count"]').text()).toBe('2 selected');
    expect(tile(w, 0).attributes('data-selected')).toBe('true');
    expect(tile(w, 1).attributes('data-selected')).toBe('false');
    expect(tile(w, 2).attributes('data-selected')).toBe('true');
    key(' ');
    key(' ');
    await settle();
    key('3');
    await settle();
    const [a] = calls('labels.assign');
    expect(a.classId).toBe(13);
    expect([...(a.itemIds as number[])].sort((x, y) => x - y)).toEqual([1, 3]);
    // Esc drops the selection.
    key('Escape');
    await settle();
    expect(w.get('[data-testid="selection-count"]').text()).toBe('No selection');
  });

  it('shift-click selects a range; ctrl-click toggles one', async () => {
    const w = await mountAt('/datasets/3/label');
    await tile(w, 2).trigger('click');
    await tile(w, 5).trigger('click', { shiftKey: true });
    await tile(w, 9).trigger('click', { ctrlKey: true });
    await settle();
    key('1');
    await settle();
    const [a] = calls('labels.assign');
    expect([...(a.itemIds as number[])].sort((x, y) => x - y)).toEqual([3, 4, 5, 6, 10]);
    expect(a.classId).toBe(11);
  });

  it('Ctrl+A selects the whole filtered set from the server (items.ids with the filter)', async () => {
    const w = await mountAt('/datasets/3/label?unlabeled=1');
    expect(w.get('[data-testid="grid-total"]').text()).toContain('20 items');
    key('a', { ctrlKey: true });
    await settle();
    expect(calls('items.ids')).toEqual([{ datasetId: 3, unlabeled: true }]);
    expect(w.get('[data-testid="selection-count"]').text()).toBe('20 selected');
    key('2');
    await settle();
    const [a] = calls('labels.assign');
    expect((a.itemIds as number[]).length).toBe(20);
    expect(a.classId).toBe(12);
  });

  it('Ctrl+Z undoes and Shift+Ctrl+Z (or Cmd) redoes on the server', async () => {
    await mountAt('/datasets/3/label');
    key('z', { ctrlKey: true });
    await settle();
    expect(calls('labels.undo')).toEqual([{ datasetId: 3 }]);
    key('Z', { ctrlKey: true, shiftKey: true });
    await settle();
    key('z', { metaKey: true, shiftKey: true });
    await settle();
    expect(calls('labels.redo')).toEqual([{ datasetId: 3 }, { datasetId: 3 }]);
    expect(calls('labels.assign')).toHaveLength(0);
  });

  it('X asks for a reason and excludes; keys typed in the prompt do not label', async () => {
    const w = await mountAt('/datasets/3/label');
    key('x');
    await settle();
    const input = w.get('[data-testid="exclude-dialog-input"]');
    await input.setValue('blurry 2');
    (input.element as HTMLInputElement).dispatchEvent(new KeyboardEvent('keydown', { key: '2', bubbles: true }));
    key('Enter');
    await settle();
    expect(calls('labels.assign')).toHaveLength(0);
    expect(calls('items.exclude')).toEqual([{ datasetId: 3, itemIds: [1], excluded: true, reason: 'blurry 2' }]);
    expect(w.find('[data-testid="exclude-dialog"]').exists()).toBe(false);
  });

  it('Enter opens the single-image view, arrows move in it, Esc closes it', async () => {
    const w = await mountAt('/datasets/3/label');
    key('Enter');
    await settle();
    expect(w.get('[data-testid="single-view"]').attributes('data-item-id')).toBe('1');
    expect(w.get('[data-testid="single-view-image"]').classes()).toContain('pixelated');
    key('ArrowRight');
    await settle();
    expect(w.get('[data-testid="single-view"]').attributes('data-item-id')).toBe('2');
    key('Escape');
    await settle();
    expect(w.find('[data-testid="single-view"]').exists()).toBe(false);
  });

  it('Ignores keys typed into a text field', async () => {
    const w = await mountAt('/datasets/3/label');
    const input = w.get('[data-testid="class-add-name"]');
    (input.element as HTMLInputElement).dispatchEvent(new KeyboardEvent('keydown', { key: '1', bubbles: true }));
    await settle();
    expect(calls('labels.assign')).toHaveLength(0);
  });

  it('the filters live in the route query', async () => {
    const w = await mountAt('/datasets/3/label');
    // One control each: the label select (all / unlabeled / a class) and the excluded select.
    expect(w.findAll('[data-testid="label-filters"] input[type="checkbox"]')).toHaveLength(0);
    await w.get('[data-testid="label-filter-class"]').setValue('unlabeled');
    await settle();
    expect(router.currentRoute.value.query).toEqual({ unlabeled: '1' });
    await w.get('[data-testid="label-filter-excluded"]').setValue('hide');
    await settle();
    expect(router.currentRoute.value.query).toEqual({ unlabeled: '1', excluded: '0' });
    const last = calls('datasets.items').at(-1)!;
    expect(last).toMatchObject({ datasetId: 3, unlabeled: true, excluded: false });
    await w.get('[data-testid="label-filter-class"]').setValue('12');
    await settle();
    expect(router.currentRoute.value.query).toEqual({ classId: '12', excluded: '0' });
    await w.get('[data-testid="label-filter-reset"]').trigger('click');
    await settle();
    expect(router.currentRoute.value.query).toEqual({});
  });
});
