/**
 * The main job end to end, as a researcher does it: in Debian Chromium against the built
 * headless host with a real engine process, import a real folder through the UI, start a
 * LeNet-5 run, watch the curves update, and read the final test accuracy in the run list.
 * Screenshots: test-output/e2e/*.png.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { importThroughUi, sharedData, shot } from './harness';
import { useHostSession } from './session';

const cifar = sharedData('cifar10-subset');
const points = async (page: Page, testid: string): Promise<number> => Number((await page.getByTestId(testid).getAttribute('data-points')) ?? '0');

describe.skipIf(!existsSync(cifar))('train in the browser (needs ../shared/data/cifar10-subset)', () => {
  const session = useHostSession(1440, 900);

  it('imports a real folder through the UI', async () => {
    const { host, page } = session;
    await importThroughUi(page, host, cifar);
    await shot(page, '01-imported');
    expect(await page.getByTestId('import-imported').innerText()).toMatch(/5,?000/);
    const row = page.getByTestId('dataset-row').first();
    expect(await row.getByTestId('dataset-items').innerText()).toMatch(/5,?000/);
    expect(await row.getByTestId('dataset-classes').innerText()).toContain('10');
    await row.click();
    await page.getByTestId('grid-tile').first().waitFor({ timeout: 30_000 });
    // The first rows of thumbnails really load (decoded images, not broken links).
    const loaded = (): Promise<number> =>
      page.$$eval('[data-testid=grid-tile] img', (imgs) => (imgs as unknown as { complete: boolean; naturalWidth: number }[]).slice(0, 24).filter((i) => i.complete && i.naturalWidth > 0).length);
    await expect.poll(loaded, { timeout: 30_000, interval: 250 }).toBe(24);
    expect(await page.getByTestId('count-train').innerText()).toMatch(/\d/);
    await shot(page, '02-dataset');
  });

  it('starts a LeNet-5 run, sees the curves update, and finds the test accuracy in the run list', async () => {
    const { page, errors: consoleErrors } = session;
    await page.getByTestId('train-on-dataset').click();
    await page.getByTestId('new-run-form').waitFor();
    await page.getByTestId('run-preset').selectOption('lenet5');
    await page.getByTestId('run-epochs').fill('3');
    await page.getByTestId('run-name').fill('e2e lenet5');
    expect(await page.getByTestId('layer-row').count()).toBeGreaterThanOrEqual(8);
    await shot(page, '03-new-run');
    await page.getByTestId('run-start').click();
    await page.waitForURL(/#\/runs\/\d+$/, { timeout: 60_000 });

    // Per-step loss arrives first; then each epoch adds a point to the epoch curves.
    await expect.poll(() => points(page, 'chart-step-loss'), { timeout: 180_000, interval: 500 }).toBeGreaterThan(0);
    const early = await points(page, 'chart-step-loss');
    await expect.poll(() => points(page, 'chart-step-loss'), { timeout: 120_000, interval: 500 }).toBeGreaterThan(early);
    await expect.poll(() => points(page, 'chart-loss'), { timeout: 300_000, interval: 1000 }).toBeGreaterThan(0);
    const epochPoints = await points(page, 'chart-loss');
    await shot(page, '04-run-live');
    await expect.poll(async () => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 420_000, interval: 1000 }).toBe('completed');
    expect(await points(page, 'chart-loss')).toBeGreaterThan(epochPoints);
    await page.waitForTimeout(500);
    await shot(page, '05-run-done');
    expect(await page.getByTestId('run-backend').innerText()).toMatch(/wasm|webgpu|cpu/);
    expect(await page.getByTestId('run-backend-detail').innerText()).toMatch(/threads: \d+|webgpu/);

    await page.getByTestId('nav-runs').click();
    const row = page.getByTestId('run-row').first();
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('completed');
    const acc = await row.getByTestId('run-row-test-accuracy').innerText();
    const pct = Number(/([\d.]+)%/.exec(acc)?.[1]);
    // 10 classes: chance is 10%. Three epochs of LeNet-5 on 3,600 CIFAR images clear 20%.
    expect(pct).toBeGreaterThan(20);
    await shot(page, '06-runs-list');
    expect(consoleErrors).toEqual([]);
  });
});
