/**
 * A regularization ablation in the browser, in Debian Chromium against the built headless
 * host with real engines: import 200 CIFAR-10 images (2 classes, airplane and ship) through the UI, train a
 * linear base run through the New-run form, open "Sweep / ablation" on its page, keep
 * dropout and L1/L2 (2 × 3 = 6 variants) × 2 seeds, start the 12 runs and watch the ablation
 * table fill: rows complete one after another, the means are those of the runs listed under
 * them, the baseline has no Δ, exactly one row is marked best, the parallel coordinates have
 * a line per run, and "Open in Compare" carries
 * the runs; then the one-click ablation (24 variants) cancelled from its page.
 * Screenshots: test-output/e2e/sweep-*.png.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importThroughUi, sharedData, shot, trainThroughUi } from './harness';
import { useCifarSession } from './session';

const cifar = sharedData('cifar10-subset');

/** "62.5 ± 12.5" → [62.5, 12.5]; "—" → null. */
function meanSd(text: string): [number, number] | null {
  const m = /^([\d.]+) ± ([\d.]+)$/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2])] : null;
}

describe.skipIf(!existsSync(cifar))('a regularization ablation in the browser (needs ../shared/data/cifar10-subset)', () => {
  const session = useCifarSession(['airplane', 'ship'], 100, 1440, 1100, { split: 'test', hookTimeoutMs: 60_000 });

  it('starts dropout × L1/L2 × 2 seeds from a run and the table fills as the runs finish', async () => {
    const { host, page, folder, errors } = session;
    await importThroughUi(page, host, folder, { name: 'two classes' });
    await trainThroughUi(page, { preset: 'linear', epochs: 2, name: 'base' });

    await page.getByTestId('run-sweep').click();
    await page.getByTestId('sweep-form').waitFor();
    expect(await page.getByTestId('sweep-mode-ablation').isChecked()).toBe(true);
    // The one-click default is all four factors × 2 seeds: 2 × 2 × 3 × 2 = 24 variants, 48 runs.
    await expect.poll(async () => page.getByTestId('sweep-preview').innerText()).toMatch(/^24 variants × 2 seeds = 48 runs/);
    await page.getByTestId('factor-bn').uncheck();
    await page.getByTestId('factor-augmentation').uncheck();
    await page.getByTestId('sweep-seeds').fill('2');
    await page.getByTestId('sweep-epochs').fill('4');
    await page.getByTestId('sweep-name').fill('dropout × penalty');
    await expect.poll(async () => page.getByTestId('sweep-preview').innerText()).toMatch(/^6 variants × 2 seeds = 12 runs/);
    await shot(page, 'sweep-1-form');
    await page.getByTestId('sweep-start').click();
    await page.waitForURL(/#\/sweeps\/\d+$/, { timeout: 60_000 });
    await expect.poll(async () => page.getByTestId('sweep-title').innerText()).toBe('dropout × penalty');
    // The dataset by its name, not "dataset 1".
    expect(await page.getByTestId('sweep-dataset').innerText()).toBe('two classes');
    await expect.poll(async () => page.getByTestId('ablation-row').count()).toBe(6);

    // Watch it fill: some rows done while others are still waiting.
    const doneRows = async (): Promise<number> => page.locator('[data-testid="ablation-row"][data-completed="2"]').count();
    await expect.poll(doneRows, { timeout: 300_000, interval: 250 }).toBeGreaterThanOrEqual(1);
    const partial = await doneRows();
    await shot(page, 'sweep-2-filling');
    console.log(`rows complete when the first screenshot was taken: ${partial} of 6 (${await page.getByTestId('sweep-counts').innerText()})`);
    await expect.poll(doneRows, { timeout: 600_000, interval: 500 }).toBe(6);
    await expect.poll(async () => page.getByTestId('sweep-state').getAttribute('data-state')).toBe('completed');

    const rows = page.getByTestId('ablation-row');
    expect(await rows.first().getByTestId('ablation-delta-val').innerText()).toBe('—');
    expect(await page.getByTestId('ablation-best').count()).toBe(1);
    const labels = await rows.locator('td:nth-child(2)').allInnerTexts();
    expect(labels[0]).toMatch(/baseline\s+model\.dropoutRate=off, training\.regularization=none/);
    expect(labels[5]).toMatch(/model\.dropoutRate=0\.5, training\.regularization=L2 0\.0005/);

    // A row's mean is the mean of its two runs listed under it (clicking the row filters them).
    await rows.nth(3).click();
    await expect.poll(async () => page.getByTestId('sweep-run-row').count()).toBe(2);
    const runCells = await page.getByTestId('sweep-run-row').locator('td:nth-child(5)').allInnerTexts();
    const vals = runCells.map((t) => Number(t.replace('%', '')));
    const shown = meanSd(await rows.nth(3).getByTestId('ablation-val').innerText())!;
    expect(shown[0]).toBeCloseTo((vals[0] + vals[1]) / 2, 1);
    expect(shown[1]).toBeCloseTo(Math.abs(vals[0] - vals[1]) / Math.SQRT2, 1);

    // Parallel coordinates: the two varied paths, best val, test; a line per completed run.
    expect(await page.getByTestId('sweep-parallel').getAttribute('data-axes')).toBe('4');
    expect(await page.getByTestId('sweep-parallel').getAttribute('data-lines')).toBe('12');
    await page.getByTestId('sweep-parallel-chart').waitFor();
    const href = await page.getByTestId('sweep-compare').getAttribute('href');
    expect(href).toMatch(/#\/compare\?runs=(\d+(%2C|,)){11}\d+$/);
    await page.getByTestId('ablation-table').scrollIntoViewIfNeeded();
    await shot(page, 'sweep-3-done');

    // The one-click ablation (24 variants × 1 seed), cancelled from its page: queued runs at once, the running one stops.
    await page.goto(`${host.url.split('#')[0]}#/sweeps/new?from=1`); // run 1: the base run, the first of this fresh host
    await page.getByTestId('sweep-form').waitFor();
    await page.getByTestId('sweep-seeds').fill('1');
    await expect.poll(async () => page.getByTestId('sweep-preview').innerText()).toMatch(/^24 variants × 1 seed = 24 runs/);
    await page.getByTestId('sweep-start').click();
    await page.waitForURL(/#\/sweeps\/2$/, { timeout: 60_000 });
    await page.getByTestId('sweep-cancel').click();
    await expect.poll(async () => page.getByTestId('sweep-state').getAttribute('data-state'), { timeout: 60_000 }).toBe('cancelled');
    const counts = await page.getByTestId('sweep-counts').innerText();
    expect(counts).toMatch(/0 running, 0 queued, 0 failed, (0 interrupted, )?\d+ cancelled/);
    expect(Number(/(\d+) cancelled/.exec(counts)![1])).toBeGreaterThanOrEqual(22);
    // The bar's label counts each outcome against the planned 24, not "24 / 24 runs finished".
    const progress = await page.getByTestId('sweep-progress').innerText();
    expect(progress).toMatch(/\d+ completed, .*\d+ cancelled of 24 runs/);
    expect(progress).not.toMatch(/finished/);
    await shot(page, 'sweep-4-cancelled');
    expect(errors).toEqual([]);
  }, 900_000);
});
