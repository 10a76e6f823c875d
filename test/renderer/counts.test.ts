// @vitest-environment happy-dom
/** Excluded images are shown apart from the image count in the datasets table (they are in no split count). */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import DatasetTable from '../../src/renderer/components/DatasetTable.vue';
import { fashion } from './fixtures';

describe('DatasetTable counts', () => {
  it('shows "N excluded" under the image count when some are excluded, nothing otherwise', () => {
    const w = mount(DatasetTable, { props: { datasets: [{ ...fashion, id: 1, itemCount: 44, excludedCount: 3, counts: { train: 31, val: 5, test: 5 } }, { ...fashion, id: 2, excludedCount: 0 }] } });
    const rows = w.findAll('[data-testid="dataset-row"]');
    expect(rows[0].get('[data-testid="dataset-items"]').text()).toBe('44');
    expect(rows[0].get('[data-testid="dataset-excluded"]').text()).toBe('3 excluded');
    expect(rows[1].find('[data-testid="dataset-excluded"]').exists()).toBe(false);
  });
});
