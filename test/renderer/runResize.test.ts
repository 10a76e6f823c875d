// @vitest-environment happy-dom
/**
 * The run form says what happens to the images: scaled keeping the aspect ratio to cover
 * the chosen input size and centre-cropped (what pack.ts asks of sharp: fit 'cover',
 * position 'centre'), with the size a typical image of the dataset is scaled to and what
 * the crop takes off, computed here by hand.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createMemoryHistory } from 'vue-router';
import App from '../../src/renderer/App.vue';
import { setApi } from '../../src/renderer/api';
import { createAppRouter } from '../../src/renderer/router';
import type { DatasetSummary } from '../../src/shared/api';
import { FakeApi } from './fakeApi';
import { fashion } from './fixtures';

const photos: DatasetSummary = { ...fashion, id: 5, name: 'hymenoptera', itemCount: 397, classCount: 2, typicalShape: [375, 500, 3] };
let wrapper: VueWrapper;

async function mountAt(path: string): Promise<VueWrapper> {
  const pinia = createPinia();
  setActivePinia(pinia);
  const router = createAppRouter(createMemoryHistory());
  await router.push(path);
  await router.isReady();
  wrapper = mount(App, { global: { plugins: [pinia, router] }, attachTo: document.body });
  await flushPromises();
  return wrapper;
}

beforeEach(() => setApi(new FakeApi().handle('datasets.list', () => [fashion, photos])));
afterEach(() => {
  wrapper?.unmount();
  setApi(null);
});

const note = (w: VueWrapper) => w.get('[data-testid="run-resize-note"]').text();

describe('run form: how images are resized', () => {
  it('Fashion-MNIST at its own 28×28×1: cover-and-crop is said, and that typical images are used as they are', async () => {
    const w = await mountAt('/runs/new?datasetId=3');
    expect(note(w)).toBe('Every image is scaled, keeping its aspect ratio, until it covers 28×28, then centre-cropped to 28×28 and converted to greyscale. Images of the typical size 28×28 are used as they are.');
  });

  it('375×500 photos at the default 64×64×3: scaled down to 64×85, 21 columns (25 %) cropped; at 32×32×1 grey', async () => {
    const w = await mountAt('/runs/new?datasetId=5');
    expect((w.get('[data-testid="run-height"]').element as HTMLInputElement).value).toBe('64');
    // By hand: scale 64/375 covers both sides; 500 · 64/375 = 85.3 → 85 columns, 85 − 64 = 21 cropped, 21/85 = 25 %.
    expect(note(w)).toBe(
      'Every image is scaled, keeping its aspect ratio, until it covers 64×64, then centre-cropped to 64×64 in RGB. A typical 375×500 image is scaled down to 64×85, losing 21 columns (25 %) at the sides.',
    );
    await w.get('[data-testid="run-height"]').setValue('32');
    await w.get('[data-testid="run-width"]').setValue('64');
    await w.get('[data-testid="run-channels"]').setValue('1');
    // 32×64: scale max(32/375, 64/500) = 0.128 → 48×64, 16 rows (33 %) cropped.
    expect(note(w)).toContain('A typical 375×500 image is scaled down to 48×64, losing 16 rows (33 %) at top and bottom. Its colours become grey levels.');
    expect(note(w)).toContain('centre-cropped to 32×64 and converted to greyscale');
  });
});
