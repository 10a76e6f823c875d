/**
 * Labeling end to end, as a researcher does it: in Debian Chromium against the built
 * headless host, import a small real folder (2 classes × 15 CIFAR images plus unlabeled
 * images in its root), open the labeling view, label with the keys, undo and redo, add
 * images through the file picker, reload, and find the labels and the history kept.
 * Screenshots: test-output/e2e/labeling-*.png.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { importThroughUi, launchBrowser, sharedData, shot, startHost, type Host, newWatchedPage } from './harness';

const cifar = sharedData('cifar10-subset', 'train');

/** `n` files of a CIFAR class, skipping the first `skip`. */
function pick(cls: string, n: number, skip = 0): string[] {
  return readdirSync(join(cifar, cls))
    .filter((f) => f.endsWith('.png'))
    .sort()
    .slice(skip, skip + n)
    .map((f) => join(cifar, cls, f));
}

describe.skipIf(!existsSync(cifar))('labeling in the browser (needs ../shared/data/cifar10-subset)', () => {
  let host: Host;
  let browser: Browser;
  let page: Page;
  let folder: string;
  let extra: string[];
  let consoleErrors: string[] = [];

  const total = async (): Promise<number> => Number(((await page.getByTestId('grid-total').innerText()).match(/[\d,]+/)?.[0] ?? '-1').replace(/,/g, ''));
  const currentId = async (): Promise<string> => (await page.getByTestId('current-item').getAttribute('data-item-id')) ?? '';
  // The import itself is a (non-undoable) group of its own; count the user's changes.
  const historyRows = () => page.locator('[data-testid=history-row][data-source=user]');
  const tileClass = async (itemId: string): Promise<string | null> => page.locator(`[data-testid=grid-tile][data-item-id="${itemId}"]`).getAttribute('data-class-name');
  const thumbsLoaded = (): Promise<number> =>
    page.$$eval('[data-testid=grid-tile] img', (imgs) => (imgs as unknown as { complete: boolean; naturalWidth: number }[]).filter((i) => i.complete && i.naturalWidth > 0).length);

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'layerwise-label-'));
    for (const cls of ['cat', 'dog']) {
      mkdirSync(join(folder, cls));
      for (const f of pick(cls, 15)) copyFileSync(f, join(folder, cls, `${cls}-${f.split('/').pop()}`));
    }
    // Unlabeled images in the root of the folder.
    for (const f of pick('bird', 6)) copyFileSync(f, join(folder, `bird-${f.split('/').pop()}`));
    // Three more to add through the file picker later.
    extra = pick('frog', 3);
    host = await startHost();
    browser = await launchBrowser();
    ({ page, errors: consoleErrors } = await newWatchedPage(browser, 1440, 960));
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('imports a folder with two classes and unlabeled images, and opens the labeling view', async () => {
    await importThroughUi(page, host, folder, { name: 'cats and dogs', timeoutMs: 60_000 });
    expect(await page.getByTestId('import-imported').innerText()).toContain('36');
    await page.getByTestId('import-open-dataset').click();
    await page.getByTestId('open-labeling').click();
    await page.waitForURL(/#\/datasets\/\d+\/label/);
    datasetId = /#\/datasets\/(\d+)\/label/.exec(page.url())![1];
    await page.getByTestId('grid-tile').first().waitFor({ timeout: 30_000 });
    expect(await total()).toBe(36);
    const legend = page.getByTestId('legend-key');
    expect(await legend.count()).toBe(2);
    expect(await legend.nth(0).getAttribute('data-key')).toBe('1');
    expect(await legend.nth(0).getAttribute('data-class-name')).toBe('cat');
    expect(await legend.nth(1).getAttribute('data-class-name')).toBe('dog');
    await expect.poll(thumbsLoaded, { timeout: 20_000, interval: 250 }).toBe(36);
    await shot(page, 'labeling-01-all');
  });

  let datasetId = '';
  let first = '';
  let second = '';
  it('labels the unlabeled queue with the keys, undoes and redoes', async () => {
    await page.getByTestId('label-filter-class').selectOption('unlabeled');
    await expect.poll(total, { timeout: 10_000 }).toBe(6);
    await expect.poll(thumbsLoaded, { timeout: 20_000, interval: 250 }).toBe(6);
    // 32×32 CIFAR images zoomed: nearest neighbour.
    await page.getByTestId('label-zoom').fill('160');
    expect(await page.locator('[data-testid=grid-tile].pixelated').count()).toBe(6);
    await shot(page, 'labeling-02-unlabeled-queue');

    first = await currentId();
    await page.keyboard.press('1');
    // In the queue the labeled image leaves; the next one moves up under the cursor.
    await expect.poll(total, { timeout: 10_000 }).toBe(5);
    second = await currentId();
    expect(second).not.toBe(first);
    await page.keyboard.press('2');
    await expect.poll(total, { timeout: 10_000 }).toBe(4);
    await expect.poll(() => historyRows().count(), { timeout: 10_000 }).toBe(2);

    // Space + arrows select two more; one key labels both (one undo group).
    const third = await currentId();
    await page.keyboard.press('Space');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Space');
    expect(await page.getByTestId('selection-count').innerText()).toBe('2 selected');
    await page.keyboard.press('2');
    await expect.poll(total, { timeout: 10_000 }).toBe(2);
    await expect.poll(() => historyRows().count(), { timeout: 10_000 }).toBe(3);
    expect(await historyRows().first().innerText()).toContain('2 images');
    await page.keyboard.press('Escape');

    // Undo the pair, then redo it.
    await page.keyboard.press('Control+z');
    await expect.poll(total, { timeout: 10_000 }).toBe(4);
    await expect.poll(() => historyRows().first().getAttribute('data-undone'), { timeout: 10_000 }).toBe('true');
    expect(await page.locator(`[data-testid=grid-tile][data-item-id="${third}"]`).count()).toBe(1);
    await shot(page, 'labeling-03-after-undo');
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(total, { timeout: 10_000 }).toBe(2);
    await expect.poll(() => historyRows().first().getAttribute('data-undone'), { timeout: 10_000 }).toBe('false');
    // Undo once more and leave it undone: the pair is back in the queue.
    await page.getByTestId('history-undo').click();
    await expect.poll(total, { timeout: 10_000 }).toBe(4);
    expect(consoleErrors).toEqual([]);
  });

  it('excludes an image with a reason (X) and opens the single-image view (Enter / Esc)', async () => {
    await page.getByTestId('label-zoom').fill('64');
    await page.getByTestId('label-filter-reset').click();
    await expect.poll(total, { timeout: 10_000 }).toBe(36);
    const tile = page.locator(`[data-testid=grid-tile][data-item-id="${first}"]`);
    await tile.click();
    expect(await currentId()).toBe(first);
    await page.keyboard.press('x');
    await page.getByTestId('exclude-dialog').waitFor();
    await page.getByTestId('exclude-dialog-input').fill('blurry');
    await page.keyboard.press('Enter');
    await expect.poll(() => tile.getAttribute('data-excluded'), { timeout: 10_000 }).toBe('true');
    // Excluding one image moves the cursor on; go back to it and look at it large.
    await tile.click();
    await page.keyboard.press('Enter');
    await page.getByTestId('single-view').waitFor();
    expect(await page.getByTestId('single-view').getAttribute('data-item-id')).toBe(first);
    await expect.poll(() => page.$eval('[data-testid=single-view-image]', (i) => (i as unknown as { naturalWidth: number }).naturalWidth), { timeout: 10_000 }).toBeGreaterThan(0);
    await shot(page, 'labeling-04-single-view');
    await page.keyboard.press('Escape');
    expect(await page.getByTestId('single-view').count()).toBe(0);
  });

  it('adds images through the file picker as unlabeled items', async () => {
    const before = await total();
    await page.getByTestId('upload-input').setInputFiles(extra);
    await expect.poll(async () => page.getByTestId('upload-status').getAttribute('data-running'), { timeout: 30_000 }).toBe('false');
    expect(await page.getByTestId('upload-status').innerText()).toContain('3 new');
    await expect.poll(total, { timeout: 10_000 }).toBe(before + 3);
  });

  it('keeps labels and history across a reload', async () => {
    const rowsBefore = await historyRows().count();
    await page.reload();
    await page.getByTestId('labeling-view').waitFor();
    await expect.poll(total, { timeout: 20_000 }).toBe(39);
    await expect.poll(() => historyRows().count(), { timeout: 10_000 }).toBe(rowsBefore);
    // The newest action is the exclusion (undoable, issue 7); it discarded the redo stack of the undone pair, as editors do.
    expect(await historyRows().first().getAttribute('data-kind')).toBe('exclude');
    expect(await historyRows().first().innerText()).toContain('1 image excluded from training (“blurry”)');
    expect(await historyRows().first().getAttribute('data-undone')).toBe('false');
    expect(await historyRows().nth(1).getAttribute('data-undone')).toBe('true');
    expect(await page.getByTestId('history-redo').isEnabled()).toBe(false);
    await page.locator(`[data-testid=grid-tile][data-item-id="${first}"]`).waitFor();
    expect(await tileClass(first)).toBe('cat');
    expect(await page.locator(`[data-testid=grid-tile][data-item-id="${first}"]`).getAttribute('data-excluded')).toBe('true');
    expect(await tileClass(second)).toBe('dog');
    await expect.poll(thumbsLoaded, { timeout: 20_000, interval: 250 }).toBe(39);
    await shot(page, 'labeling-05-after-reload');
    // The queue: 6 − 2 labeled (the pair's labels are undone) + 3 added.
    await page.getByTestId('label-filter-class').selectOption('unlabeled');
    await expect.poll(total, { timeout: 10_000 }).toBe(7);
    expect(consoleErrors).toEqual([]);
  });

  it('trains a quick run; a confusion-matrix cell opens those images with predictions, fixed with the keys; the version diff shows it', async () => {
    await page.getByTestId('label-back').click();
    await page.waitForURL(new RegExp(`#/datasets/${datasetId}$`));
    await page.getByTestId('train-on-dataset').click();
    await page.getByTestId('new-run-form').waitFor();
    await page.getByTestId('run-preset').selectOption('linear');
    await page.getByTestId('run-epochs').fill('3');
    await page.getByTestId('run-name').fill('e2e linear');
    await page.getByTestId('run-start').click();
    await page.waitForURL(/#\/runs\/\d+$/, { timeout: 60_000 });
    const runId = /#\/runs\/(\d+)$/.exec(page.url())![1];
    await expect.poll(async () => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 240_000, interval: 1000 }).toBe('completed');
    await page.getByTestId('confusion-matrix').waitFor({ timeout: 30_000 });
    await page.getByTestId('suggestions-list').waitFor({ timeout: 30_000 });
    await page.getByTestId('confusion-panel').scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await shot(page, 'labeling-06-run-mistakes');

    // An off-diagonal cell (a mistake) when there is one.
    const cells = await page.$$eval('[data-testid=confusion-cell]', (els) =>
      els.map((e) => ({ t: e.getAttribute('data-true-class-id')!, p: e.getAttribute('data-predicted-class-id')!, n: Number(e.getAttribute('data-count')) })).filter((c) => c.n > 0),
    );
    const pick = cells.find((c) => c.t !== c.p) ?? cells[0];
    await page.locator(`[data-testid=confusion-cell][data-true-class-id="${pick.t}"][data-predicted-class-id="${pick.p}"]`).click();
    await page.waitForURL(/#\/datasets\/\d+\/label\?/);
    const q = new URLSearchParams(page.url().split('?')[1]);
    expect(q.get('runId')).toBe(runId);
    expect(q.get('trueClassId')).toBe(pick.t);
    expect(q.get('predictedClassId')).toBe(pick.p);
    await page.getByTestId('tile-prediction').first().waitFor({ timeout: 20_000 });
    expect(await total()).toBe(pick.n);
    await expect.poll(thumbsLoaded, { timeout: 20_000, interval: 250 }).toBe(pick.n);
    await shot(page, 'labeling-07-confusion-cell');
    // Relabel the first image there with the keys: to the predicted class, or (on the diagonal) to the other class.
    const legend = await page.$$eval('[data-testid=legend-key]', (els) => els.map((e) => ({ key: e.getAttribute('data-key')!, name: e.getAttribute('data-class-name')! })));
    const predName = await page.getByTestId('tile-prediction').first().getAttribute('data-predicted-class');
    const target = pick.t !== pick.p ? legend.find((l) => l.name === predName)! : legend.find((l) => l.name !== predName)!;
    const before = await total();
    const fixed = await currentId();
    await page.keyboard.press(target.key);
    await expect.poll(async () => (await page.getByTestId('label-status').innerText()).startsWith('Labeled 1 image'), { timeout: 10_000 }).toBe(true);
    // The cell keeps what the run saw (its true class); the tile shows the new label and the cursor moves on.
    await expect.poll(() => tileClass(fixed), { timeout: 10_000 }).toBe(target.name);
    expect(await total()).toBe(before);
    if (before > 1) expect(await currentId()).not.toBe(fixed);
    await shot(page, 'labeling-07b-cell-fixed');

    await page.getByTestId('label-back').click();
    await page.getByTestId('versions-panel').waitFor();
    await page.getByTestId('version-row').first().waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('version-row').first().getByTestId('version-run').count()).toBeGreaterThan(0);
    await page.getByTestId('version-row').first().getByTestId('version-diff-now').click();
    await page.getByTestId('version-diff').waitFor();
    expect(Number(await page.getByTestId('diff-relabeled').innerText())).toBeGreaterThanOrEqual(1);
    await page.getByTestId('duplicates-find').click();
    await page.getByTestId('duplicates-summary').waitFor({ timeout: 30_000 });
    await page.getByTestId('versions-panel').scrollIntoViewIfNeeded();
    await shot(page, 'labeling-08-dataset-versions');
    await page.getByTestId('duplicates-panel').scrollIntoViewIfNeeded();
    await shot(page, 'labeling-09-near-duplicates');
    expect(consoleErrors).toEqual([]);
  });

  it('labels consecutive images in "All" with the keys without skipping any; undo returns the cursor to the undone image', async () => {
    await page.getByTestId('open-labeling').click();
    await page.waitForURL(/#\/datasets\/\d+\/label$/);
    await page.getByTestId('grid-tile').first().waitFor({ timeout: 20_000 });
    const legend = await page.$$eval('[data-testid=legend-key]', (els) => els.map((e) => ({ key: e.getAttribute('data-key')!, name: e.getAttribute('data-class-name')! })));
    const order = async (n: number): Promise<string[]> => page.$$eval('[data-testid=grid-tile]', (els, k) => els.map((e) => ({ i: Number(e.getAttribute('data-index')), id: e.getAttribute('data-item-id')! })).sort((a, b) => a.i - b.i).slice(0, k).map((t) => t.id), n);
    const ids = await order(7);
    await page.locator(`[data-testid=grid-tile][data-item-id="${ids[0]}"]`).click();
    const expected: string[] = [];
    for (let k = 0; k < 6; k++) {
      expect(await currentId()).toBe(ids[k]);
      // Always the other class (or cat for an unlabeled image), so every key press really relabels.
      const now = await tileClass(ids[k]);
      const to = now === 'cat' ? legend.find((l) => l.name === 'dog')! : legend.find((l) => l.name === 'cat')!;
      expected.push(to.name);
      await page.keyboard.press(to.key);
      await expect.poll(currentId, { timeout: 10_000 }).toBe(ids[k + 1]);
    }
    // Each of the six consecutive images got its new label, and none moved.
    for (let k = 0; k < 6; k++) await expect.poll(() => tileClass(ids[k]), { timeout: 10_000 }).toBe(expected[k]);
    expect(await order(7)).toEqual(ids);
    await shot(page, 'labeling-10-consecutive-keys');
    // Ctrl+Z undoes the last one and puts the cursor back on it.
    await page.keyboard.press('Control+z');
    await expect.poll(currentId, { timeout: 10_000 }).toBe(ids[5]);
    await expect.poll(() => tileClass(ids[5]), { timeout: 10_000 }).not.toBe(expected[5]);
    await page.keyboard.press('Control+z');
    await expect.poll(currentId, { timeout: 10_000 }).toBe(ids[4]);
    // Redo relabels it again and keeps the cursor there.
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => tileClass(ids[4]), { timeout: 10_000 }).toBe(expected[4]);
    expect(await currentId()).toBe(ids[4]);
    expect(consoleErrors).toEqual([]);
  });
});
