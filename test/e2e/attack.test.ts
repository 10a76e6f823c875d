/**
 * Inspect › Adversarial in Debian Chromium against the built headless host, on a real run:
 * 2 CIFAR-10 classes × 100 images imported through the UI, LeNet-5 trained through the New-run
 * form; an FGSM + PGD-5 curve over ε 0, 2, 8, 32 on the test split: the chart, the table (ε = 0
 * row the clean accuracy), the gallery (original, amplified perturbation with its factor,
 * adversarial image, predictions before / after) at each ε chosen, the 8-bit note, and FGSM
 * ε 8 saved as a new dataset (listed on the Datasets page, its 20 test images still in test),
 * and the result shown again on coming back to the run page.
 * Screenshots: test-output/e2e/attack-{curve,gallery,saved,saved-splits,return}.png.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importThroughUi, sharedData, shot, trainThroughUi } from './harness';
import { useCifarSession } from './session';

const cifar = sharedData('cifar10-subset');

describe.skipIf(!existsSync(cifar))('Adversarial tab on a trained LeNet-5 (needs ../shared/data/cifar10-subset)', () => {
  const session = useCifarSession(['airplane', 'cat'], 100, 1440, 1100);

  it('runs an FGSM + PGD curve and shows the gallery', async () => {
    const { host, page, folder, errors: consoleErrors } = session;
    await importThroughUi(page, host, folder, { name: 'planes-cats' });
    await trainThroughUi(page, { preset: 'lenet5', epochs: 5, name: 'lenet attack' });

    const inspect = page.getByTestId('run-inspect');
    await inspect.scrollIntoViewIfNeeded();
    await page.getByTestId('inspect-tab-adversarial').click();
    await page.getByTestId('inspect-adversarial').waitFor({ timeout: 30_000 });
    await page.getByTestId('attack-eps').fill('0,2,8,32');
    await page.getByTestId('attack-steps').fill('5');
    await page.getByTestId('attack-run').click();
    await page.getByTestId('attack-table').waitFor({ timeout: 300_000 });
    expect(await page.getByTestId('attack-error').count()).toBe(0);
    // Rows ε 0, 2, 8, 32; columns FGSM, PGD-5; the ε = 0 row is the clean accuracy of the summary.
    const rows = page.getByTestId('attack-table').locator('tbody tr');
    expect(await rows.count()).toBe(4);
    expect(await page.getByTestId('attack-table').locator('thead').innerText()).toMatch(/FGSM\s+PGD-5/);
    const first = (await rows.first().locator('td').allInnerTexts()).map((s) => s.trim());
    const clean = /clean accuracy ([\d.]+%)/.exec(await page.getByTestId('attack-summary').innerText())![1];
    expect(first).toEqual(['0', clean, clean]);
    const last = (await rows.last().locator('td').allInnerTexts()).map((s) => parseFloat(s));
    expect(last[2]).toBeLessThan(parseFloat(clean));
    await page.getByTestId('attack-chart').locator('canvas').first().waitFor();
    // Gallery: 8 images at the largest ε (32) for PGD: three canvases each, the factor 127.5/32 stated.
    expect(await page.getByTestId('attack-gallery').locator('figure').count()).toBe(8);
    expect(await page.getByTestId('attack-gallery').locator('figure').first().locator('canvas').count()).toBe(3);
    expect(await page.getByTestId('attack-amplification').innerText()).toContain('×4.0');
    expect(await page.getByTestId('attack-after').count()).toBe(8);
    await page.waitForTimeout(400);
    await shot(page, 'attack-curve');
    await page.getByTestId('attack-gallery-method').selectOption('fgsm');
    await page.getByTestId('attack-gallery-eps').selectOption('8');
    expect(await page.getByTestId('attack-amplification').innerText()).toContain('×15.9');
    expect(await page.getByTestId('attack-8bit-note').innerText()).toContain('1/255');
    await page.getByTestId('attack-gallery').scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await shot(page, 'attack-gallery');
    // Save FGSM ε 8 as a new dataset: imported as any folder, listed on the Datasets page.
    await page.getByTestId('attack-save-name').fill('planes-cats fgsm 8');
    await page.getByTestId('attack-save').click();
    await expect.poll(async () => page.getByTestId('attack-saved').count(), { timeout: 300_000, interval: 500 }).toBe(1);
    expect(await page.getByTestId('attack-saved').innerText()).toContain('Importing 20 images into “planes-cats fgsm 8”');
    await page.getByTestId('attack-saved').scrollIntoViewIfNeeded();
    await shot(page, 'attack-saved');
    await page.getByTestId('nav-datasets').click();
    await expect.poll(async () => (await page.getByTestId('dataset-row').allInnerTexts()).some((t) => t.includes('planes-cats fgsm 8')), { timeout: 120_000, interval: 500 }).toBe(true);
    // The 20 attacked test images stay in test (train 0, val 0, test 20), not re-split 80/10/10.
    const advRow = page.locator('[data-testid="dataset-row"][data-dataset-name="planes-cats fgsm 8"]');
    await expect.poll(async () => advRow.getByTestId('dataset-items').innerText(), { timeout: 120_000, interval: 500 }).toBe('20');
    const nums = (await advRow.locator('td.num').allInnerTexts()).map((t) => t.trim());
    expect(nums.slice(2, 5)).toEqual(['0', '0', '20']);
    await shot(page, 'attack-saved-splits');
    // Back on the run page, the Adversarial tab shows the last result again, without running it again.
    await page.goBack();
    await page.getByTestId('run-inspect').scrollIntoViewIfNeeded();
    await page.getByTestId('inspect-tab-adversarial').click();
    await page.getByTestId('attack-table').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('attack-table').locator('tbody tr').count()).toBe(4);
    await page.getByTestId('attack-summary').scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await shot(page, 'attack-return');
    expect(consoleErrors).toEqual([]);
  }, 900_000);
});
