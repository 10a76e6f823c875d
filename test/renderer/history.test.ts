// @vitest-environment happy-dom
/** The History panel shows each action in the server's words, undone ones struck through, the import line too. */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import HistoryPanel from '../../src/renderer/components/HistoryPanel.vue';
import type { LabelGroup } from '../../src/shared/api';

const g = (id: number, kind: LabelGroup['kind'], text: string, over: Partial<LabelGroup> = {}): LabelGroup => ({ id, importJobId: null, kind, time: 1_700_000_000 + id, source: 'user', undone: false, count: 1, text, ...over });

describe('HistoryPanel', () => {
  it('one row per action with its words: exclusions, moves, merges, the import', () => {
    const groups = [
      g(4, 'merge', 'class “cat” merged into “airplane” (20 images)', { undone: true }),
      g(3, 'move', '2 images moved to val (from train)'),
      g(2, 'exclude', '1 image excluded from training (“blurry”)', { source: 'suggestion' }),
      g(0, 'import', '5,000 images imported into 10 classes', { importJobId: 1, source: 'import', count: 5000, time: 1_600_000_000 }),
    ];
    const w = mount(HistoryPanel, { props: { events: [], groups, canUndo: true, canRedo: true, classes: [] } });
    const rows = w.findAll('[data-testid="history-row"]');
    expect(rows.map((r) => r.get('[data-testid="history-text"]').text())).toEqual(groups.map((x) => x.text));
    expect(rows.map((r) => [r.attributes('data-kind'), r.attributes('data-undone'), r.attributes('data-source')])).toEqual([
      ['merge', 'true', 'user'],
      ['move', 'false', 'user'],
      ['exclude', 'false', 'suggestion'],
      ['import', 'false', 'import'],
    ]);
    expect(rows[0].classes()).toContain('undone');
    expect(rows[0].text()).toContain('undone');
    expect(rows[2].text()).toContain('suggestion ·');
    expect(w.get('[data-testid="history-redo"]').attributes('disabled')).toBeUndefined();
  });
});
