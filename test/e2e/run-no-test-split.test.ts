/**
 * The run page tells the truth about a run on a dataset without a test split, in Debian
 * Chromium against the built headless host with a real engine: hymenoptera (train + val)
 * imported through the UI, an untrained linear model (learning rate 1e-9, i.e. chance):
 * "no test split" instead of a test accuracy, the confusion matrix of val and saying so,
 * no suggested label errors and why (the gate's figures). Screenshot: test-output/e2e/run-no-test-split.png.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importThroughUi, sharedData, shot } from './harness';
import { useHostSession } from './session';

const hymenoptera = sharedData('hymenoptera');

describe.skipIf(!existsSync(hymenoptera))('a run without a test split (needs ../shared/data/hymenoptera)', () => {
  const session = useHostSession(1440, 1000);

  it('shows "no test split", the val matrix, and why there are no suggestions', async () => {
    const { host, page, errors: consoleErrors } = session;
    await importThroughUi(page, host, hymenoptera);
    await page.getByTestId('dataset-row').first().click();
    await page.getByTestId('train-on-dataset').click();
    await page.getByTestId('new-run-form').waitFor();
    await page.getByTestId('run-preset').selectOption('linear');
    await page.getByTestId('run-optimizer').selectOption('sgd');
    await page.getByTestId('run-learning-rate').fill('0.000000001');
    await page.getByTestId('run-epochs').fill('1');
    await page.getByTestId('run-name').fill('untrained linear');
    await page.getByTestId('run-start').click();
    await page.waitForURL(/#\/runs\/\d+$/, { timeout: 60_000 });
    await expect.poll(async () => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 240_000, interval: 1000 }).toBe('completed');
    expect(await page.getByTestId('run-test-accuracy').innerText()).toBe('no test split');
    await page.getByTestId('confusion-matrix').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('confusion-matrix').getAttribute('data-split')).toBe('val');
    expect(await page.getByTestId('confusion-split-note').innerText()).toMatch(/^No test split in this run: the matrix counts its val images \(153\)\.$/);
    expect(await page.getByTestId('confusion-split-test').isDisabled()).toBe(true);
    const gate = await page.getByTestId('suggestions-gate').innerText();
    expect(gate).toMatch(/^No suggestions: the model is not clearly better than chance\. Its val accuracy is [\d.]+% \(95 % interval [\d.]+%–[\d.]+%, 153 images\), and always answering “bees” scores 54\.2%\./);
    expect(await page.getByTestId('suggestion-row').count()).toBe(0);
    await page.getByTestId('confusion-panel').scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await shot(page, 'run-no-test-split');
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('run-row').first().waitFor();
    expect(await page.getByTestId('run-row-test-accuracy').first().innerText()).toBe('no test split');
    expect(consoleErrors).toEqual([]);
  }, 600_000);
});
