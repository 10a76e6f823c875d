/**
 * The architecture view and editor end to end, in Debian Chromium against the built headless
 * host with a real engine: a small CIFAR-10 folder (3 classes, 24 train + 8 test images each,
 * copied from ../shared/data/cifar10-subset) imported through the UI; New run with ResNet-20;
 * the graph has a box per node (as many as the layer table has rows, plus the input); a block
 * edited in the graph (a conv's filters, dropout after a conv) changes the layer table and the
 * totals, undo puts them back; the run starts with the edited model (1 epoch, 48 samples),
 * trains (step-loss curve, completed), and its page draws the edited architecture.
 * Screenshots: test-output/e2e/architecture-*.png.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { importThroughUi, launchBrowser, newWatchedPage, sharedData, shot, startHost, type Host } from './harness';
import { buildPreset } from '../../src/shared/spec';

const cifar = sharedData('cifar10-subset');
const CLASSES = ['airplane', 'cat', 'ship'];
const num = (t: string): number => Number(t.replace(/[^\d.]/g, ''));

/** A small copy of the CIFAR folder: `perClass` images of each class per split, the first in name order. */
function smallCifar(perClass: { train: number; test: number }): string {
  const dir = mkdtempSync(join(tmpdir(), 'layerwise-e2e-arch-'));
  for (const split of ['train', 'test'] as const)
    for (const c of CLASSES) {
      const from = join(cifar, split, c);
      const to = join(dir, split, c);
      mkdirSync(to, { recursive: true });
      for (const f of readdirSync(from).sort().slice(0, perClass[split])) cpSync(join(from, f), join(to, f));
    }
  return dir;
}

describe.skipIf(!existsSync(cifar))('architecture view and editor (needs ../shared/data/cifar10-subset)', () => {
  let host: Host;
  let browser: Browser;
  let page: Page;
  let consoleErrors: string[] = [];
  let folder = '';

  beforeAll(async () => {
    folder = smallCifar({ train: 24, test: 8 });
    host = await startHost();
    browser = await launchBrowser();
    ({ page, errors: consoleErrors } = await newWatchedPage(browser, 1440, 1200));
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('ResNet-20: see the graph, edit a block, train the edited model, see it on the run page', async () => {
    await importThroughUi(page, host, folder, { name: 'cifar-3' });
    await page.getByTestId('dataset-row').first().click();
    await page.getByTestId('train-on-dataset').click();
    await page.getByTestId('new-run-form').waitFor();
    await page.getByTestId('run-preset').selectOption('resnet20');

    // The graph: one box per node plus the input, as many nodes as the layer table has rows.
    const spec = buildPreset('resnet20', { inputShape: [32, 32, 3], numClasses: 3 });
    const arch = page.getByTestId('architecture');
    const boxes = arch.getByTestId('arch-node');
    await expect.poll(() => boxes.count(), { timeout: 30_000 }).toBe(spec.nodes!.length + 1);
    expect(num(await arch.getByTestId('arch-node-count').innerText())).toBe(spec.nodes!.length);
    expect(await page.getByTestId('layer-row').count()).toBe(spec.nodes!.length);
    expect(await arch.locator('[data-testid=arch-node][data-node-type=add]').count()).toBe(9);
    const total0 = num(await page.getByTestId('total-params').innerText());
    expect(num(await arch.getByTestId('arch-total-params').innerText())).toBe(total0);
    await arch.scrollIntoViewIfNeeded();
    await shot(page, 'architecture-01-resnet20');

    // Edit a block: stage1_block1_conv1 from 16 to 24 filters. Parameters that change (no bias before BN):
    // conv1 3·3·16·K, its BN 4·K, conv2 3·3·K·16 — from K = 16 to K = 24.
    const conv = arch.locator('[data-testid=arch-node][data-node-name=stage1_block1_conv1]');
    await conv.scrollIntoViewIfNeeded();
    await conv.click();
    expect(await arch.getByTestId('arch-selected').innerText()).toBe('stage1_block1_conv1');
    await arch.getByTestId('arch-field-filters').fill('24');
    const delta = (k: number): number => 3 * 3 * 16 * k + 4 * k + 3 * 3 * k * 16;
    await expect.poll(async () => num(await page.getByTestId('total-params').innerText()), { timeout: 10_000 }).toBe(total0 + delta(24) - delta(16));
    expect(num(await arch.getByTestId('arch-total-params').innerText())).toBe(total0 + delta(24) - delta(16));
    expect(await conv.getByTestId('arch-node-shape').textContent()).toBe('32×32×24');
    // Dropout after the block's second conv: a new box and a new row in the table.
    await arch.locator('[data-testid=arch-node][data-node-name=stage1_block1_conv2]').click();
    await arch.getByTestId('arch-toggle-dropout').click();
    await expect.poll(() => boxes.count()).toBe(spec.nodes!.length + 2);
    expect(await page.locator('[data-testid=layer-row][data-layer-type=dropout]').count()).toBe(1);
    await arch.locator('[data-testid=arch-node][data-node-type=dropout]').scrollIntoViewIfNeeded();
    await page.waitForTimeout(200);
    await shot(page, 'architecture-02-edited');

    // Undo (Ctrl+Z) takes the dropout away; redo (Ctrl+Shift+Z) brings it back.
    await arch.getByTestId('architecture-editor').focus();
    expect(await arch.getByTestId('arch-history').innerText()).toBe('2 edits');
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.locator('[data-testid=layer-row][data-layer-type=dropout]').count()).toBe(0);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => page.locator('[data-testid=layer-row][data-layer-type=dropout]').count()).toBe(1);
    // Removing a merge is refused with its name.
    await arch.locator('[data-testid=arch-node][data-node-name=stage1_block1_add]').click();
    expect(await arch.getByTestId('arch-remove').isDisabled()).toBe(true);

    // Train the edited model: 1 epoch on 48 samples.
    await page.getByTestId('run-epochs').fill('1');
    await page.getByTestId('run-max-train-samples').fill('48');
    await page.getByTestId('run-batch-size').fill('16');
    await page.getByTestId('run-name').fill('e2e resnet20 edited');
    await page.getByTestId('run-start').click();
    await page.waitForURL(/#\/runs\/\d+$/, { timeout: 60_000 });
    await expect.poll(async () => Number((await page.getByTestId('chart-step-loss').getAttribute('data-points')) ?? '0'), { timeout: 300_000, interval: 500 }).toBeGreaterThan(0);
    await shot(page, 'architecture-03-run-live');
    await expect.poll(async () => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 420_000, interval: 1000 }).toBe('completed');

    // The run page draws the run's stored (edited) model: the dropout box and 24 filters are there.
    const runArch = page.getByTestId('run-architecture');
    await expect.poll(() => runArch.getByTestId('arch-node').count(), { timeout: 10_000 }).toBe(spec.nodes!.length + 2);
    expect(await runArch.locator('[data-testid=arch-node][data-node-type=dropout]').count()).toBe(1);
    expect(await runArch.locator('[data-testid=arch-node][data-node-name=stage1_block1_conv1] [data-testid=arch-node-shape]').textContent()).toBe('32×32×24');
    const stored = JSON.parse(await page.getByTestId('run-spec').innerText()).model.nodes as { name: string; layer: { filters?: number } }[];
    expect(stored.find((n) => n.name === 'stage1_block1_conv1')!.layer.filters).toBe(24);
    // A click on a box highlights its row in the layer table (rows in node order).
    await runArch.locator('[data-testid=arch-node][data-node-name=stage2_block1_add]').click();
    const rowNames = await page.locator('[data-testid=layer-row]').evaluateAll((rows) => rows.map((r) => r.classList.contains('arch-selected')));
    expect(rowNames.indexOf(true)).toBe(stored.findIndex((n) => n.name === 'stage2_block1_add'));
    expect(rowNames.filter(Boolean)).toHaveLength(1);
    await runArch.scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await shot(page, 'architecture-04-run-page');
    expect(consoleErrors).toEqual([]);
  }, 600_000);

  it('ResNet-56 stays readable: each stage’s identical blocks folded into one box; unfolding one draws its blocks', async () => {
    await page.getByTestId('nav-new-run').click();
    await page.getByTestId('new-run-form').waitFor();
    await page.getByTestId('run-preset').selectOption('resnet56');
    const spec = buildPreset('resnet56', { inputShape: [32, 32, 3], numClasses: 3 });
    const arch = page.getByTestId('architecture');
    await expect.poll(() => arch.locator('[data-testid=arch-node][data-node-type=fold]').count(), { timeout: 30_000 }).toBe(3);
    const shown = await arch.getByTestId('arch-node').count();
    expect(shown).toBeLessThan(spec.nodes!.length / 2);
    expect(num(await arch.getByTestId('arch-node-count').innerText())).toBe(spec.nodes!.length);
    const svgHeight = Number(await arch.getByTestId('arch-svg').getAttribute('height'));
    await arch.getByTestId('arch-zoom-out').click();
    await arch.getByTestId('arch-zoom-out').click();
    expect(await arch.getByTestId('arch-zoom').innerText()).toBe('60%');
    expect(Number(await arch.getByTestId('arch-svg').getAttribute('height'))).toBeCloseTo(svgHeight * 0.6, 0);
    await arch.scrollIntoViewIfNeeded();
    await page.waitForTimeout(200);
    await shot(page, 'architecture-05-resnet56-folded');
    const fold = arch.locator('[data-testid=arch-node][data-node-type=fold]').first();
    await fold.scrollIntoViewIfNeeded();
    await fold.click();
    await expect.poll(() => arch.locator('[data-testid=arch-node][data-node-type=fold]').count()).toBe(2);
    expect(await arch.getByTestId('arch-node').count()).toBeGreaterThan(shown);
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
