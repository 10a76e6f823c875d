/**
 * Baselines from the UI (issue 11) in Debian Chromium against the built headless host with a
 * real engine, on hymenoptera from ../shared/data (245 train, 153 val photos): a network (the
 * linear preset, 2 epochs) through the New-run form; then New run → Classic: HoG with its
 * default cells → linear SVM, started, its phase seen on the run page, completed; New run →
 * Features: MobileNet v2 1.0/224 read from ../shared/data/mobilenet-tflite, its default node
 * (the last global pooling), PCA 64 → linear SVM, completed with ≥ 90 % on validation (the
 * CLI test's bar); the Pipelines page of the dataset lists the three runs, each with accuracy,
 * macro-F1, training time, inference time per image and parameter count, sorts by accuracy
 * (features first); Compare shows the three; a row opens its run. Screenshots: test-output/e2e/pipelines-*.png.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { importThroughUi, sharedData, shot, trainThroughUi } from './harness';
import { useHostSession } from './session';

const hymen = sharedData('hymenoptera');
const models = sharedData('mobilenet-tflite');

/** Wait until the run page's status badge reads `status` (a failed run throws with the page's error). */
async function waitForStatus(page: Page, status: string, timeoutMs: number): Promise<void> {
  await expect
    .poll(
      async () => {
        const s = await page.getByTestId('run-status').getAttribute('data-status').catch(() => null);
        if (s === 'failed') throw new Error(`run failed: ${await page.locator('.error').allInnerTexts()}`);
        return s;
      },
      { timeout: timeoutMs, interval: 500 },
    )
    .toBe(status);
}

const percent = (text: string): number => Number(/([\d.]+)\s*%/.exec(text)?.[1] ?? NaN) / 100;

describe.skipIf(!existsSync(hymen) || !existsSync(models))('baselines from the UI and the Pipelines table (needs ../shared/data/hymenoptera, mobilenet-tflite)', () => {
  const session = useHostSession(1440, 1000);

  it('a network, a HoG + SVM and a MobileNet features + PCA + SVM run side by side', async () => {
    const { host, page, errors: consoleErrors } = session;
    await importThroughUi(page, host, hymen, { name: 'hymenoptera' });
    await trainThroughUi(page, { preset: 'linear', epochs: 2, name: 'linear net' });
    const networkUrl = page.url();

    // ---- Classic: HoG → linear SVM ----
    await page.getByTestId('nav-new-run').click();
    await page.getByTestId('run-kind-classic').click();
    await page.getByTestId('baseline-form').waitFor();
    await page.getByTestId('baseline-dataset').selectOption({ label: 'hymenoptera (2 classes)' });
    expect(await page.getByTestId('baseline-descriptor').inputValue()).toBe('hog');
    expect(await page.getByTestId('baseline-pixels-per-cell').inputValue()).toBe('8');
    expect(await page.getByTestId('baseline-classifier').inputValue()).toBe('svm');
    // One "Descriptor" (the field), the section is its settings; γ is the RBF kernel's only.
    expect(await page.getByRole('heading', { name: 'Descriptor settings' }).count()).toBe(1);
    expect(await page.getByTestId('baseline-gamma').count()).toBe(0);
    await page.getByTestId('baseline-kernel').selectOption('rbf');
    await page.getByTestId('baseline-gamma').waitFor();
    await page.getByTestId('baseline-kernel').selectOption('linear');
    await expect.poll(() => page.getByTestId('baseline-gamma').count()).toBe(0);
    // A bad value is named beside its field and blocks Start.
    await page.getByTestId('baseline-pixels-per-cell').fill('1');
    await expect.poll(() => page.getByTestId('baseline-form-error').innerText().catch(() => '')).toContain('Cell size');
    expect(await page.getByTestId('baseline-start').isDisabled()).toBe(true);
    await page.getByTestId('baseline-pixels-per-cell').fill('8');
    await expect.poll(() => page.getByTestId('baseline-summary').innerText().catch(() => '')).toContain('HoG 9×8px×2 → linear SVM C=1');
    await shot(page, 'pipelines-01-classic-form');
    await page.getByTestId('baseline-start').click();
    await page.waitForURL(/#\/runs\/\d+$/, { timeout: 60_000 });
    await waitForStatus(page, 'completed', 240_000);
    expect(await page.getByTestId('baseline-pipeline').innerText()).toContain('Classic: HoG 9×8px×2 → linear SVM C=1');
    // A run that succeeded has no error row; its times, size and creation date as the Pipelines row has them.
    expect(await page.getByTestId('baseline-error').count()).toBe(0);
    await expect.poll(() => page.getByTestId('baseline-inference').innerText(), { timeout: 10_000 }).toMatch(/\d.*(ms|µs)/);
    expect(Number((await page.getByTestId('baseline-params').innerText()).replace(/[^\d]/g, ''))).toBeGreaterThan(0);
    expect(await page.getByTestId('baseline-training').innerText()).toMatch(/\d s/);
    expect(await page.getByTestId('baseline-created').innerText()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
    await shot(page, 'pipelines-02-classic-run');

    // ---- Features: MobileNet v2 1.0/224 pooling → PCA 64 → linear SVM ----
    await page.getByTestId('nav-new-run').click();
    await page.getByTestId('run-kind-features').click();
    await page.getByTestId('baseline-dataset').selectOption({ label: 'hymenoptera (2 classes)' });
    await page.getByTestId('baseline-backbone-file').fill(join(models, 'mobilenet_v2_1.0_224_quant.tflite'));
    await page.getByTestId('baseline-backbone-read').click();
    await expect.poll(() => page.getByTestId('baseline-backbone-info').innerText().catch(() => ''), { timeout: 30_000 }).toContain('input 224×224×3');
    expect(await page.getByTestId('baseline-backbone-node').inputValue()).toBe('MobilenetV2/Logits');
    expect(await page.getByTestId('baseline-use-pca').isChecked()).toBe(true);
    expect(await page.getByTestId('baseline-components').inputValue()).toBe('64');
    await shot(page, 'pipelines-03-features-form');
    await page.getByTestId('baseline-start').click();
    await page.waitForURL(/#\/runs\/\d+$/, { timeout: 60_000 });
    // Its phase while it runs (features n / 398, then the fit), unless it was already done.
    const phase = await page.getByTestId('baseline-phase').innerText({ timeout: 10_000 }).catch(() => 'finished first');
    await shot(page, 'pipelines-04-features-progress');
    await waitForStatus(page, 'completed', 300_000);
    console.log(`[pipelines e2e] features run phase seen: ${phase}`);
    const featuresAccuracy = await page.getByTestId('baseline-accuracy').innerText();
    expect(percent(featuresAccuracy.split('·')[0])).toBeGreaterThanOrEqual(0.9);

    // ---- The Pipelines table ----
    await page.getByTestId('baseline-pipelines').click();
    await page.getByTestId('pipelines-table').waitFor();
    await expect.poll(() => page.getByTestId('pipeline-row').count(), { timeout: 20_000 }).toBe(3);
    expect((await page.getByTestId('pipeline-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')))).sort()).toEqual(['classic', 'features', 'network']);
    for (const r of await page.getByTestId('pipeline-row').all()) {
      const kind = await r.getAttribute('data-kind');
      const acc = percent(await r.getByTestId('pipeline-accuracy').innerText());
      expect(acc, kind!).toBeGreaterThan(0.3);
      expect(Number(await r.getByTestId('pipeline-f1').innerText()), kind!).toBeGreaterThan(0.3);
      expect(await r.getByTestId('pipeline-inference').innerText(), kind!).toMatch(/\d.*(ms|µs)/);
      expect(Number((await r.getByTestId('pipeline-params').innerText()).replace(/[^\d]/g, '')), kind!).toBeGreaterThan(0);
    }
    // A network row names its run and epochs; pipeline text breaks at spaces only.
    const net = page.locator('[data-testid="pipeline-row"][data-kind="network"]');
    expect(await net.getByTestId('pipeline-name').innerText()).toBe('linear net');
    expect(await net.locator('td.pipeline a').innerText()).toContain('2 epochs');
    expect(await net.locator('td.pipeline').evaluate((td) => { const st = (globalThis as unknown as { getComputedStyle: (e: unknown) => { wordBreak: string; overflowWrap: string } }).getComputedStyle(td); return [st.wordBreak, st.overflowWrap].join(' '); })).toBe('normal normal');
    // Sorted by accuracy, best first: the features run leads.
    expect(await page.getByTestId('pipeline-row').first().getAttribute('data-kind')).toBe('features');
    await shot(page, 'pipelines-05-table');
    await page.getByTestId('pipelines-sort-parameters').click();
    const params = await page.getByTestId('pipeline-params').allInnerTexts();
    const nums = params.map((t) => Number(t.replace(/[^\d]/g, '')));
    expect(nums).toEqual([...nums].sort((a, b) => a - b));
    await shot(page, 'pipelines-06-sorted-by-parameters');

    // Compare takes runs of every kind: one summary row each, the confusion matrices side by side.
    const ids = await page.getByTestId('pipeline-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id')));
    await page.getByTestId('pipelines-compare').click();
    await page.getByTestId('compare-page').waitFor();
    expect(page.url()).toMatch(new RegExp(`#/compare\\?runs=${ids.join('(,|%2C)')}$`));
    await expect.poll(() => page.getByTestId('summary-row').count(), { timeout: 20_000 }).toBe(3);
    await shot(page, 'pipelines-07-compare');

    // A row opens its run.
    await page.getByTestId('nav-pipelines').click();
    await page.getByTestId('pipelines-dataset').selectOption({ label: 'hymenoptera' });
    await page.locator('[data-testid="pipeline-row"][data-kind="network"]').click();
    await page.waitForURL(networkUrl, { timeout: 10_000 });
    expect(consoleErrors).toEqual([]);
  }, 900_000);
});
