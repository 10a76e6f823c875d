// @vitest-environment happy-dom
/**
 * The labeling view's seams on their own: the command queue (one command at a time, a
 * failure reported and the next one still run), the grid selection (click, Ctrl-click,
 * Shift-click ranges reaching unloaded items through the server's id list, focus after
 * undo), moves out of the test split (asked first, whether the client or the server
 * knows the split), and window drag-and-drop (files only; listeners gone after unmount).
 */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { computed, defineComponent, h, nextTick, ref } from 'vue';
import { useCommandQueue } from '../../src/renderer/composables/commandQueue';
import { useFileDrop } from '../../src/renderer/composables/fileDrop';
import { useGridSelection } from '../../src/renderer/composables/gridSelection';
import { useSplitMove } from '../../src/renderer/composables/splitMove';
import { ApiError } from '../../src/shared/errors';
import type { Item } from '../../src/shared/api';

const item = (id: number): Item => ({ id, hash: `h${id}`, name: `${id}.png`, classId: null, split: 'train', width: 28, height: 28 });

describe('useCommandQueue', () => {
  it('runs commands in order, one at a time; a failure is reported and the next command still runs', async () => {
    const q = useCommandQueue();
    const log: string[] = [];
    let running = 0;
    const cmd = (name: string, fail = false) => async () => {
      running++;
      expect(running).toBe(1);
      await new Promise((r) => setTimeout(r, 5));
      log.push(name);
      running--;
      if (fail) throw new Error(`${name} failed`);
    };
    void q.enqueue(cmd('a'));
    const b = q.enqueue(cmd('b', true));
    expect(q.busy.value).toBe(0); // nothing started synchronously
    await b;
    expect(q.error.value).toBe('b failed');
    await q.enqueue(cmd('c'));
    expect(log).toEqual(['a', 'b', 'c']);
    expect(q.error.value).toBeNull();
    expect(q.busy.value).toBe(0);
  });
});

describe('useGridSelection', () => {
  function setup(loaded: number, total = 10) {
    const ids = Array.from({ length: total }, (_, i) => 100 + i);
    const totalRef = ref(total);
    const q = useCommandQueue();
    const allIdsCalls = { n: 0 };
    const scrolled: number[] = [];
    const sel = useGridSelection({
      total: computed(() => totalRef.value),
      itemAt: (i) => (i < loaded && i < totalRef.value ? item(ids[i]) : undefined),
      indexOf: (id) => (ids.indexOf(id) < loaded ? ids.indexOf(id) : -1),
      allIds: async () => {
        allIdsCalls.n++;
        return ids.slice(0, totalRef.value);
      },
      scrollToIndex: (i) => scrolled.push(i),
      enqueue: q.enqueue,
    });
    return { sel, ids, totalRef, allIdsCalls, scrolled };
  }
  const none = { shiftKey: false, ctrlKey: false, metaKey: false };

  it('click moves the cursor, Ctrl-click toggles, Shift-click adds the range from the anchor', async () => {
    const { sel, ids, allIdsCalls } = setup(10);
    expect(sel.targets()).toEqual([ids[0]]);
    sel.click(2, none);
    sel.click(4, { ...none, ctrlKey: true });
    expect([...sel.selected.value]).toEqual([ids[4]]);
    sel.click(6, { ...none, shiftKey: true });
    await Promise.resolve();
    expect([...sel.selected.value].sort()).toEqual([ids[4], ids[5], ids[6]]);
    expect(sel.current.value).toBe(6);
    expect(allIdsCalls.n).toBe(0); // all loaded: no server call
    expect(sel.targets().sort()).toEqual([ids[4], ids[5], ids[6]]);
    sel.reset();
    expect(sel.current.value).toBe(0);
    expect(sel.selected.value.size).toBe(0);
  });

  it('a range over items not loaded yet takes their ids from the server, in grid order', async () => {
    const { sel, ids, allIdsCalls } = setup(3);
    sel.moveCursor(1, false);
    await sel.selectRange(8);
    expect(allIdsCalls.n).toBe(1);
    expect([...sel.selected.value]).toEqual(ids.slice(1, 9));
    expect(await sel.selectAll()).toBe(10);
  });

  it('focusItems puts the cursor on the first changed image and selects them when several; the cursor stays inside a shrinking set', async () => {
    const { sel, ids, totalRef, scrolled } = setup(10);
    expect(await sel.focusItems([ids[7], ids[5]])).toBe(true);
    expect(sel.current.value).toBe(5);
    expect(scrolled.at(-1)).toBe(5);
    expect([...sel.selected.value].sort()).toEqual([ids[5], ids[7]]);
    expect(await sel.focusItems([999])).toBe(false);
    expect(sel.selected.value.size).toBe(0);
    sel.setCurrent(9);
    totalRef.value = 4;
    await nextTick();
    expect(sel.current.value).toBe(3);
  });
});

describe('useSplitMove', () => {
  function setup(loaded: Item[], targets: number[], serverTest: Set<number>) {
    const q = useCommandQueue();
    const moves: { ids: number[]; split: string; allowFromTest: boolean }[] = [];
    const m = useSplitMove({
      targets: () => targets,
      total: ref(10),
      itemAt: (i) => loaded[i],
      enqueue: q.enqueue,
      move: async (ids, split, allowFromTest) => {
        // What labels/items.ts does: refuse a move out of test without allowFromTest.
        const inTest = ids.filter((id) => serverTest.has(id)).length;
        if (split !== 'test' && inTest > 0 && !allowFromTest) throw new ApiError('conflict', `allowFromTest: ${inTest} items are in the test split`, 'allowFromTest');
        moves.push({ ids, split, allowFromTest });
      },
    });
    return { m, q, moves };
  }
  const inSplit = (id: number, split: 'train' | 'test'): Item => ({ ...item(id), split });

  it('loaded test images: asks before moving, with how many; confirming moves with allowFromTest', async () => {
    const { m, q, moves } = setup([inSplit(1, 'test'), inSplit(2, 'test'), inSplit(3, 'train')], [1, 2, 3], new Set([1, 2]));
    m.moveTo('train');
    expect(m.confirmMove.value?.message).toBe('2 images are in the test split. Moving them to train means the test set no longer measures unseen data. Move anyway?');
    await q.enqueue(async () => undefined);
    expect(moves).toEqual([]);
    m.confirmMoveFromTest();
    await q.enqueue(async () => undefined);
    expect(moves).toEqual([{ ids: [1, 2, 3], split: 'train', allowFromTest: true }]);
  });

  it('test images not loaded: the server refuses, and the user is asked instead of shown an error', async () => {
    const { m, q, moves } = setup([], [7, 8], new Set([8]));
    m.moveTo('val');
    await q.enqueue(async () => undefined);
    expect(q.error.value).toBeNull();
    expect(m.confirmMove.value?.message).toMatch(/^Some of these images are in the test split/);
    m.confirmMoveFromTest();
    await q.enqueue(async () => undefined);
    expect(moves).toEqual([{ ids: [7, 8], split: 'val', allowFromTest: true }]);
    // Into test there is nothing to ask.
    m.moveTo('test');
    await q.enqueue(async () => undefined);
    expect(moves.at(-1)).toEqual({ ids: [7, 8], split: 'test', allowFromTest: false });
  });
});

describe('useFileDrop', () => {
  function drag(type: string, types: string[], files: File[] = []): Event {
    const e = new Event(type, { bubbles: true, cancelable: true });
    Object.defineProperty(e, 'dataTransfer', { value: { types, files: Object.assign(files, { item: (i: number) => files[i] }) } });
    Object.defineProperty(e, 'relatedTarget', { value: null });
    return e;
  }

  it('files dragged over the window show the overlay and arrive on drop; other drags are left alone; unmount removes the listeners', async () => {
    const got: File[][] = [];
    let dragging: { value: boolean } | null = null;
    const Host = defineComponent({
      setup() {
        const d = useFileDrop((files) => got.push(Array.from(files)));
        dragging = d.dragging;
        return () => h('div', d.dragging.value ? 'dragging' : '');
      },
    });
    const w = mount(Host, { attachTo: document.body });
    const text = drag('dragover', ['text/plain']);
    window.dispatchEvent(text);
    expect(text.defaultPrevented).toBe(false);
    expect(dragging!.value).toBe(false);
    const over = drag('dragover', ['Files']);
    window.dispatchEvent(over);
    expect(over.defaultPrevented).toBe(true);
    expect(dragging!.value).toBe(true);
    window.dispatchEvent(drag('dragleave', ['Files']));
    expect(dragging!.value).toBe(false);
    const f = new File(['x'], 'a.png', { type: 'image/png' });
    window.dispatchEvent(drag('dragover', ['Files']));
    window.dispatchEvent(drag('drop', ['Files'], [f]));
    expect(dragging!.value).toBe(false);
    expect(got.map((fs) => fs.map((x) => x.name))).toEqual([['a.png']]);
    w.unmount();
    window.dispatchEvent(drag('drop', ['Files'], [f]));
    expect(got).toHaveLength(1);
  });
});
