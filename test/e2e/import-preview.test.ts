/**
 * Import preview end to end (issue 7, "never a silent wrong dataset"): in Debian Chromium
 * against the built headless host, a folder shipped as `cats-vs-dogs/dataset/training_set/
 * {cats,dogs}` + `test_set/{cats,dogs}` (real CIFAR-10 photos) is previewed in the import
 * form — splits × classes with counts and thumbnails, nothing stored — then imported as
 * two classes with their given splits, never as classes named training_set/test_set.
 * A flat folder shows the no-classes warning and the suggested file-name pattern, which
 * the import then uses. Screenshots: test-output/e2e/import-preview-*.png.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newWatchedPage, sharedData, shot, startHost, type Host } from './harness';

const cifar = sharedData('cifar10-subset');

function copyCifar(cls: string, n: number, dest: string, rename: (i: number, f: string) => string = (_i, f) => f, offset = 0): void {
  mkdirSync(dest, { recursive: true });
  const files = readdirSync(join(cifar, 'train', cls)).sort().slice(offset, offset + n);
  files.forEach((f, i) => copyFileSync(join(cifar, 'train', cls, f), join(dest, rename(i, f))));
}

describe.skipIf(!existsSync(cifar))('import preview in the browser (needs ../shared/data/cifar10-subset)', () => {
  let host: Host;
  let browser: Browser;
  let page: Page;
  let errors: string[] = [];
  let input: string;
  let kaggle: string;
  let flat: string;

  beforeAll(async () => {
    input = mkdtempSync(join(tmpdir(), 'layerwise-e2e-in-'));
    kaggle = join(input, 'cats-vs-dogs');
    copyCifar('cat', 12, join(kaggle, 'dataset', 'training_set', 'cats'));
    copyCifar('dog', 10, join(kaggle, 'dataset', 'training_set', 'dogs'));
    copyCifar('cat', 4, join(kaggle, 'dataset', 'test_set', 'cats'), undefined, 20);
    copyCifar('dog', 3, join(kaggle, 'dataset', 'test_set', 'dogs'), undefined, 20);
    flat = join(input, 'flat');
    copyCifar('cat', 6, flat, (i) => `cat.${i}.png`, 40);
    copyCifar('dog', 5, flat, (i) => `dog.${i}.png`, 40);
    copyCifar('bird', 4, join(input, 'unlabelled'), (i) => `img${i}.png`, 60);
    host = await startHost();
    browser = await launchBrowser();
    ({ page, errors } = await newWatchedPage(browser, 1280, 900));
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
    if (input) rmSync(input, { recursive: true, force: true });
  });

  it('previews training_set/test_set one level down as 2 classes × 2 splits with thumbnails, storing nothing', async () => {
    await page.goto(host.url);
    await page.getByTestId('import-path').fill(kaggle);
    await page.getByTestId('import-preview-button').click();
    await page.getByTestId('import-preview').waitFor({ timeout: 30_000 });
    const rows = page.getByTestId('import-preview-row');
    expect(await rows.count()).toBe(2);
    const cells = async (cls: string) => page.locator(`[data-testid=import-preview-row][data-class="${cls}"] td`).allInnerTexts();
    expect((await cells('cats')).slice(0, 4)).toEqual(['cats', '12', '4', '16']);
    expect((await cells('dogs')).slice(0, 4)).toEqual(['dogs', '10', '3', '13']);
    expect((await page.locator('[data-testid=import-preview-table] th').allTextContents()).map((t) => t.trim())).toEqual(['Class', 'train', 'test', 'Total', 'Samples']);
    expect(await page.getByTestId('import-preview-splits').innerText()).toContain('test_set → test');
    expect(await page.getByTestId('import-preview-splits').innerText()).toContain('training_set → train');
    expect(await page.getByTestId('import-preview-warnings').count()).toBe(0);
    // 4 real thumbnails per class, decoded by the browser
    const thumbs = page.getByTestId('import-preview-thumb');
    await expect.poll(() => thumbs.count()).toBe(8);
    const decoded = await thumbs.evaluateAll((imgs) => (imgs as unknown as { complete: boolean; naturalWidth: number }[]).filter((i) => i.complete && i.naturalWidth > 0).length);
    expect(decoded).toBe(8);
    await shot(page, 'import-preview-1-kaggle');
    // nothing stored yet
    expect(await page.getByTestId('dataset-row').count()).toBe(0);
  });

  it('Import then stores exactly what the preview showed: classes cats, dogs (not training_set/test_set), with the given test split', async () => {
    await page.getByTestId('import-button').click();
    await expect.poll(async () => page.getByTestId('import-summary').getAttribute('data-status'), { timeout: 120_000, interval: 300 }).toBe('done');
    expect(await page.getByTestId('import-imported').innerText()).toBe('29');
    expect(await page.getByTestId('import-notice').count()).toBe(0);
    const row = page.getByTestId('dataset-row').first();
    expect(await row.getByTestId('dataset-classes').innerText()).toContain('2');
    await row.click();
    await page.getByTestId('grid-tile').first().waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('count-test').innerText()).toMatch(/\b7\b/);
    const body = await page.locator('body').innerText();
    expect(body).not.toContain('training_set');
    expect(body).not.toContain('test_set');
    await shot(page, 'import-preview-2-imported');
  });

  it('a flat folder: the preview warns that there are no classes, suggests {label}.{n}; using it shows the classes and the import uses it', async () => {
    await page.goto(host.url);
    await page.getByTestId('import-path').fill(flat);
    await page.getByTestId('import-preview-button').click();
    await page.getByTestId('import-preview').waitFor({ timeout: 30_000 });
    const warning = page.locator('[data-testid=import-preview-warning][data-code=no_classes]');
    expect(await warning.innerText()).toMatch(/No classes found: 11 images.*folder per class.*file-name pattern.*label them in the app/);
    expect(await page.getByTestId('import-preview-suggestion').innerText()).toContain('{label}.{n}');
    await shot(page, 'import-preview-3-flat');
    await page.getByTestId('import-preview-use-pattern').click();
    await expect.poll(() => page.getByTestId('import-preview-row').count(), { timeout: 30_000 }).toBe(2);
    expect(await page.getByTestId('import-label-pattern').inputValue()).toBe('{label}.{n}');
    expect(await page.locator('[data-testid=import-preview-row] td:first-child').allInnerTexts()).toEqual(['cat', 'dog']);
    await page.getByTestId('import-button').click();
    await expect.poll(async () => page.getByTestId('import-summary').getAttribute('data-status'), { timeout: 120_000, interval: 300 }).toBe('done');
    expect(await page.getByTestId('import-imported').innerText()).toBe('11');
    expect(await page.getByTestId('import-notice').count()).toBe(0);
    await shot(page, 'import-preview-4-pattern-imported');
  });

  it('an import that finds no classes says so in its summary and names the three ways to get labels', async () => {
    await page.goto(host.url);
    await page.getByTestId('import-path').fill(join(input, 'unlabelled'));
    await page.getByTestId('import-button').click();
    await expect.poll(async () => page.getByTestId('import-summary').getAttribute('data-status'), { timeout: 120_000, interval: 300 }).toBe('done');
    expect(await page.getByTestId('import-imported').innerText()).toBe('4');
    expect(await page.getByTestId('import-notice').innerText()).toMatch(
      /^No classes found: the 4 images of this dataset have no labels\. To get labels: \(1\) put the images in one folder per class.*\(2\) give a file-name pattern.*\(3\) label them in the app/,
    );
    await shot(page, 'import-preview-5-no-classes');
    expect(errors).toEqual([]);
  });
});
