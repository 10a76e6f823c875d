// @vitest-environment happy-dom
/**
 * New classes get distinct colours: the class panel proposes, for each class added, a
 * colour no class shows yet (ΔE ≥ 10 in CIELAB from every shown colour), and classes
 * without a stored colour show a deterministic sequence of well-separated colours that
 * does not wrap around after the first palette.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import ClassesPanel from '../../src/renderer/components/ClassesPanel.vue';
import { setApi } from '../../src/renderer/api';
import { classColor, colorDistance, nextClassColor, paletteColor, textColorOn } from '../../src/renderer/lib/palette';
import type { ClassInfo } from '../../src/shared/api';
import { FakeApi } from './fakeApi';

const counts = { train: 0, val: 0, test: 0, total: 0 };
const minPairwise = (colors: string[]): number => {
  let m = Infinity;
  for (let i = 0; i < colors.length; i++) for (let j = 0; j < i; j++) m = Math.min(m, colorDistance(colors[i], colors[j]));
  return m;
};

describe('class colour sequence', () => {
  it('is deterministic and well separated well beyond one palette (60 colours, pairwise ΔE ≥ 20)', () => {
    const seq = Array.from({ length: 60 }, (_, i) => paletteColor(i));
    expect(Array.from({ length: 60 }, (_, i) => paletteColor(i))).toEqual(seq);
    expect(new Set(seq).size).toBe(60);
    for (const c of seq) expect(c).toMatch(/^#[0-9a-f]{6}$/);
    expect(minPairwise(seq)).toBeGreaterThanOrEqual(20);
    // Classes without a stored colour: index 10, 20, … are not index 0 again.
    expect(classColor(10, null)).not.toBe(classColor(0, null));
    expect(classColor(20, null)).not.toBe(classColor(0, null));
    expect(classColor(3, '#123456')).toBe('#123456');
  });

  it('a new class never takes a colour in use while unused ones remain (50 classes added one by one)', () => {
    const used: string[] = ['#ff0000', classColor(1, null)];
    for (let k = 0; k < 50; k++) {
      const c = nextClassColor(used);
      for (const u of used) expect(colorDistance(c, u)).toBeGreaterThanOrEqual(10);
      used.push(c);
    }
    expect(new Set(used).size).toBe(used.length);
  });

  it('label text stays readable: dark on light class colours, white on dark ones', () => {
    expect(textColorOn('#eeca3b')).toBe('#1d2430');
    expect(textColorOn('#4c78a8')).toBe('#fff');
  });
});

describe('ClassesPanel: adding classes', () => {
  let api: FakeApi;
  let wrapper: VueWrapper | undefined;
  let classes: ClassInfo[];
  beforeEach(() => {
    setActivePinia(createPinia());
    // Imported classes have no stored colour: they show the sequence by index.
    classes = [
      { id: 1, index: 0, name: 'cat', color: null, counts },
      { id: 2, index: 1, name: 'dog', color: null, counts },
      { id: 3, index: 2, name: 'bird', color: '#72b7b2', counts }, // the colour index 3 would show: the next new class must skip it
    ];
    api = new FakeApi().handle('classes.add', (p) => {
      const c: ClassInfo = { id: classes.length + 1, index: classes.length, name: p.name, color: p.color ?? null, counts };
      classes = [...classes, c];
      return c;
    });
    setApi(api);
  });
  afterEach(() => {
    wrapper?.unmount();
    setApi(null);
  });

  it('proposes a colour no class shows, and a different one for each class added', async () => {
    wrapper = mount(ClassesPanel, { props: { datasetId: 3, classes }, attachTo: document.body });
    for (const name of ['frog', 'horse', 'ship', 'truck', 'deer', 'plane', 'car', 'fish', 'tree', 'cup', 'boat', 'bike']) {
      await wrapper.get('[data-testid="class-add-name"]').setValue(name);
      await wrapper.get('[data-testid="class-add-form"]').trigger('submit');
      await flushPromises();
      // The page refetches the dataset after a change: the panel gets the new list.
      await wrapper.setProps({ classes });
    }
    const shown = wrapper.findAll('[data-testid="class-color"]').map((e) => (e.element as HTMLInputElement).value);
    expect(shown).toHaveLength(15);
    expect(new Set(shown).size).toBe(15);
    expect(minPairwise(shown)).toBeGreaterThanOrEqual(10);
    const sent = api.calls.filter((c) => c.name === 'classes.add').map((c) => (c.params as { color: string }).color);
    expect(new Set(sent).size).toBe(12);
    // The picker shows the colour the next class would get: again one nobody has.
    const proposed = (wrapper.get('[data-testid="class-add-color"]').element as HTMLInputElement).value;
    expect(shown).not.toContain(proposed);
  });

  it('a colour the user picks is used as picked', async () => {
    wrapper = mount(ClassesPanel, { props: { datasetId: 3, classes }, attachTo: document.body });
    await wrapper.get('[data-testid="class-add-color"]').setValue('#123456');
    await wrapper.get('[data-testid="class-add-name"]').setValue('frog');
    await wrapper.get('[data-testid="class-add-form"]').trigger('submit');
    await flushPromises();
    expect(api.calls.filter((c) => c.name === 'classes.add').map((c) => c.params)).toEqual([{ datasetId: 3, name: 'frog', color: '#123456' }]);
  });
});
