/**
 * The run page's Inspect section in Debian Chromium against the built headless host, on a
 * real run: 2 CIFAR-10 classes × 100 images imported through the UI, LeNet-5 trained 6 epochs
 * through the New-run form. Each view opened: Filters (RGB kernel tiles of the first
 * convolution, a deeper one per input channel, the weight histograms), Activations (a test
 * image's every node, the global range), Saliency (Grad-CAM of one image with the opacity
 * slider, then a confusion cell), Adversarial; the tabs by keyboard. Then ResNet-20 (1 epoch): the
 * activations of all its nodes, a projection shortcut drawn beside the main path.
 * Screenshots: test-output/e2e/inspect-{filters,activations,activations-dense,saliency,saliency-cell,adversarial,activations-resnet}.png.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importThroughUi, sharedData, shot, trainThroughUi } from './harness';
import { useCifarSession } from './session';

const cifar = sharedData('cifar10-subset');

describe.skipIf(!existsSync(cifar))('Inspect section on a trained LeNet-5 (needs ../shared/data/cifar10-subset)', () => {
  const session = useCifarSession(['airplane', 'cat'], 100, 1440, 1000);

  it('opens every view on the run', async () => {
    const { host, page, folder, errors: consoleErrors } = session;
    await importThroughUi(page, host, folder, { name: 'planes-cats' });
    await trainThroughUi(page, { preset: 'lenet5', epochs: 6, name: 'lenet inspect' });

    // Filters: conv1 reads RGB → 6 colour tiles; conv2 per input channel; histograms.
    const inspect = page.getByTestId('run-inspect');
    await inspect.scrollIntoViewIfNeeded();
    await expect.poll(async () => page.getByTestId('inspect-filter-tiles').locator('canvas').count(), { timeout: 120_000, interval: 500 }).toBe(6);
    await page.getByTestId('inspect-hist-chart').waitFor({ timeout: 120_000 });
    await expect.poll(async () => page.getByTestId('inspect-hist-weight').locator('option').count(), { timeout: 120_000 }).toBeGreaterThan(4);
    const convs = await page.getByTestId('inspect-filter-node').locator('option').allInnerTexts();
    expect(convs.length).toBe(2);
    await page.getByTestId('inspect-filter-node').selectOption({ index: 1 });
    await page.getByTestId('inspect-filter-channel').selectOption('3');
    await expect.poll(async () => page.getByTestId('inspect-filter-tiles').locator('canvas').count()).toBe(16);
    await page.getByTestId('inspect-filter-node').selectOption({ index: 0 });
    await page.waitForTimeout(400);
    await shot(page, 'inspect-filters');

    // Keyboard: → moves to Activations.
    await page.getByTestId('inspect-tab-filters').focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.getByTestId('inspect-tab-activations').getAttribute('aria-selected')).toBe('true');
    await page.getByTestId('inspect-thumb').first().waitFor({ timeout: 30_000 });
    await page.getByTestId('inspect-thumb').first().click();
    await expect.poll(async () => page.getByTestId('inspect-node').count(), { timeout: 120_000, interval: 500 }).toBeGreaterThanOrEqual(8);
    expect(await page.getByTestId('inspect-preprocessing').innerText()).toContain('x / 255');
    expect(await page.getByTestId('inspect-scores').locator('tr').count()).toBe(2);
    await page.getByTestId('inspect-range-global').check();
    await page.waitForTimeout(400);
    await shot(page, 'inspect-activations');
    // A misclassified image: its true label and the prediction under the input; the dense outputs are bars one can see.
    await page.getByTestId('inspect-source-mistakes').check();
    await expect.poll(async () => (await page.getByTestId('inspect-thumb').first().getAttribute('title')) ?? '', { timeout: 30_000, interval: 300 }).toContain('predicted');
    await page.getByTestId('inspect-thumb').first().click();
    await expect.poll(async () => page.getByTestId('inspect-picked-label').innerText(), { timeout: 120_000, interval: 500 }).toMatch(/true label (airplane|cat) · predicted (airplane|cat)/);
    const dense = page.getByTestId('inspect-node').filter({ hasText: 'Dense' }).last();
    await dense.scrollIntoViewIfNeeded();
    const box = await dense.locator('canvas').first().boundingBox();
    expect(box!.height).toBeGreaterThanOrEqual(16);
    await page.waitForTimeout(300);
    await shot(page, 'inspect-activations-dense');

    // Saliency: Grad-CAM of one image, opacity slider; then a confusion cell.
    await page.getByTestId('inspect-tab-saliency').click();
    await page.getByTestId('inspect-thumb').first().waitFor({ timeout: 30_000 });
    await page.getByTestId('inspect-thumb').nth(1).click();
    await expect.poll(async () => page.getByTestId('inspect-saliency-maps').locator('figure').count(), { timeout: 120_000, interval: 500 }).toBe(1);
    expect(await page.getByTestId('inspect-saliency-node').locator('option').count()).toBeGreaterThan(3);
    await page.getByTestId('inspect-opacity').fill('0.7');
    await page.waitForTimeout(300);
    await shot(page, 'inspect-saliency');
    await page.getByTestId('inspect-mode-cell').check();
    // The first cell (diagonal first) with at least 2 test images: one map per image.
    let images = 0;
    for (const [t, p] of [['airplane', 'airplane'], ['cat', 'cat'], ['airplane', 'cat'], ['cat', 'airplane']]) {
      await page.getByTestId('inspect-cell-true').selectOption({ label: t });
      await page.getByTestId('inspect-cell-pred').selectOption({ label: p });
      await page.getByTestId('inspect-cell-go').click();
      await page.getByTestId('inspect-cell-count').waitFor({ timeout: 60_000 });
      images = Number((await page.getByTestId('inspect-cell-count').innerText()).split(' ')[0]);
      await expect.poll(async () => page.getByTestId('inspect-saliency-maps').locator('figure').count(), { timeout: 120_000, interval: 500 }).toBe(images);
      if (images >= 2) break;
    }
    expect(images).toBeGreaterThanOrEqual(2);
    await expect.poll(async () => page.getByTestId('inspect-saliency-maps').locator('figure').count(), { timeout: 120_000, interval: 500 }).toBe(images);
    await page.waitForTimeout(300);
    await shot(page, 'inspect-saliency-cell');

    await page.getByTestId('inspect-tab-adversarial').click();
    await page.waitForTimeout(500);
    await shot(page, 'inspect-adversarial');
    expect(await page.getByTestId('inspect-error').count()).toBe(0);
    expect(consoleErrors).toEqual([]);
  }, 900_000);

  it('ResNet-20: the activations of every node, a projection shortcut beside the main path', async () => {
    const { page, errors: consoleErrors } = session;
    await page.getByTestId('nav-datasets').click();
    await trainThroughUi(page, { preset: 'resnet20', epochs: 1, name: 'resnet inspect' });
    await page.getByTestId('run-inspect').scrollIntoViewIfNeeded();
    await page.getByTestId('inspect-tab-activations').click();
    await page.getByTestId('inspect-thumb').first().waitFor({ timeout: 30_000 });
    await page.getByTestId('inspect-thumb').first().click();
    await expect.poll(async () => page.getByTestId('inspect-node').count(), { timeout: 180_000, interval: 500 }).toBeGreaterThan(60);
    // Stage 2's first block: its 1×1 stride-2 projection stands in the row of the block's first convolution.
    const row = page.locator('.row.branches').first();
    expect(await row.getByTestId('inspect-node').count()).toBe(2);
    expect((await row.innerText()).toLowerCase()).toMatch(/proj|shortcut/);
    await row.scrollIntoViewIfNeeded();
    await page.waitForTimeout(400);
    await shot(page, 'inspect-activations-resnet');
    expect(consoleErrors).toEqual([]);
  }, 900_000);
});
