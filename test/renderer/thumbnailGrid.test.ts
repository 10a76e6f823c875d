// @vitest-environment happy-dom
/** The thumbnail grid at 70,000 items: a bounded number of rows in the DOM, pages fetched on demand. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import ThumbnailGrid from '../../src/renderer/components/ThumbnailGrid.vue';
import { setApi } from '../../src/renderer/api';
import type { ClassInfo, Item } from '../../src/shared/api';
import { FakeApi } from './fakeApi';

const TOTAL = 70_000;
const classes: ClassInfo[] = [
  { id: 11, index: 0, name: 'T-shirt', color: '#ff0000', counts: { train: 1, val: 0, test: 0, total: 1 } },
  { id: 12, index: 1, name: 'Trouser', color: null, counts: { train: 1, val: 0, test: 0, total: 1 } },
];
let api: FakeApi;

// happy-dom does no layout: give the grid's scroll box the size a browser would.
const proto = window.HTMLElement.prototype;
const sized = (el: HTMLElement, dim: 'clientWidth' | 'clientHeight', v: number, orig: PropertyDescriptor | undefined) =>
  el.getAttribute?.('data-testid') === 'thumb-grid' ? v : (orig?.get?.call(el) ?? 0);
for (const [dim, v] of [['clientWidth', 800], ['clientHeight', 480]] as const) {
  const orig = Object.getOwnPropertyDescriptor(window.Element.prototype, dim) ?? Object.getOwnPropertyDescriptor(proto, dim);
  Object.defineProperty(proto, dim, { configurable: true, get(this: HTMLElement) { return sized(this, dim, v, orig); } });
}

beforeEach(() => {
  setActivePinia(createPinia());
  api = new FakeApi().handle('datasets.items', ({ offset, limit, split }) => {
    const total = split === 'test' ? 10_000 : TOTAL;
    const items: Item[] = [];
    for (let i = offset; i < Math.min(total, offset + limit); i++) items.push({ id: i + 1, hash: `h${i}`, name: `img${i}.png`, classId: i % 2 ? 12 : 11, split: 'train', width: 28, height: 28 });
    return { total, items };
  });
  setApi(api);
});
afterEach(() => setApi(null));

describe('ThumbnailGrid', () => {
  it('renders only visible rows plus overscan and fetches only the pages it shows', async () => {
    const w = mount(ThumbnailGrid, { props: { datasetId: 3, classes, height: 480, tileSize: 72 }, attachTo: document.body });
    await flushPromises();
    await flushPromises();
    expect(w.get('[data-testid="grid-total"]').text()).toContain('70,000');
    const tiles = w.findAll('[data-testid="grid-tile"]');
    const rows = w.findAll('[data-testid="grid-row"]');
    expect(tiles.length).toBeGreaterThan(0);
    // 480 px / 76 px per row ≈ 7 visible rows, plus 3 overscan; never thousands.
    expect(rows.length).toBeLessThanOrEqual(12);
    expect(tiles.length).toBeLessThan(200);
    const itemCalls = api.calls.filter((c) => c.name === 'datasets.items');
    expect(itemCalls.length).toBeLessThanOrEqual(2);
    expect(itemCalls.every((c) => (c.params as { limit: number }).limit <= 256)).toBe(true);
    const first = tiles[0];
    expect(first.attributes('data-class-name')).toBe('T-shirt');
    expect(first.classes()).toContain('pixelated');
    expect(first.get('img').attributes('src')).toBe('/image/thumb/h0');
    expect(first.get('.label').text()).toBe('T-shirt');
    w.unmount();
  });

  it('refetches from the start when the split filter changes', async () => {
    const w = mount(ThumbnailGrid, { props: { datasetId: 3, classes, height: 480 }, attachTo: document.body });
    await flushPromises();
    await w.setProps({ split: 'test' });
    await flushPromises();
    await flushPromises();
    expect(w.get('[data-testid="grid-total"]').text()).toContain('10,000');
    const last = api.calls[api.calls.length - 1].params as { split?: string; offset: number };
    expect(last.split).toBe('test');
    w.unmount();
  });
});
