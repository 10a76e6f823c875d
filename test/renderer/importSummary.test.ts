// @vitest-environment happy-dom
/** The import summary shows what the host reported beyond the counters: conflicts, items worth a look with thumbnails, and capped skips. */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import ImportSummary from '../../src/renderer/components/ImportSummary.vue';
import type { ImportJob } from '../../src/shared/api';

const job: ImportJob = {
  id: 3,
  datasetId: 1,
  sourcePath: '/data/hymenoptera',
  status: 'done',
  imported: 244,
  duplicates: 0,
  skipped: [{ path: '/data/hymenoptera/x.txt', reason: 'not an image: unrecognised format (.txt)' }],
  skippedTotal: 1200,
  skippedByReason: [{ reason: 'not an image', count: 1200 }],
  conflicts: { total: 2, byClass: [{ existingClass: 'ants', foundClass: 'bees', count: 2 }], files: [] },
  worthALook: [{ itemId: 9, hash: 'a'.repeat(64), name: 'imageNotFound.gif', className: 'ants', reason: 'GIF file; 123 of the 124 images of ants are JPEG' }],
  error: null,
  startedAt: 1,
  finishedAt: 2,
};

describe('ImportSummary', () => {
  it('lists conflicts, the items worth a look with their thumbnails, and skip totals beyond the listed ones', () => {
    const w = mount(ImportSummary, { props: { job, imageUrl: (h: string) => `/image/thumb/${h}` } });
    expect(w.get('[data-testid="import-conflict-row"]').text()).toBe('2 images already in class ants found under bees: not changed');
    const item = w.get('[data-testid="import-worth-item"]');
    expect(item.get('img').attributes('src')).toBe(`/image/thumb/${'a'.repeat(64)}`);
    expect(item.text()).toContain('imageNotFound.gif');
    expect(item.text()).toContain('GIF file; 123 of the 124 images of ants are JPEG');
    expect(w.get('[data-testid="import-skipped-total"]').text()).toBe('1,200');
    expect(w.get('[data-testid="import-skipped-kinds"]').text()).toContain('not an image 1,200');
  });

  it('a job from an older host (no report fields) still renders', () => {
    const { skippedTotal: _a, skippedByReason: _b, conflicts: _c, worthALook: _d, ...old } = job;
    const w = mount(ImportSummary, { props: { job: old } });
    expect(w.get('[data-testid="import-skipped-total"]').text()).toBe('1');
    expect(w.find('[data-testid="import-worth-a-look"]').exists()).toBe(false);
  });
});
