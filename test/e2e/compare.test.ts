/**
 * Compare end to end, in Debian Chromium against the built headless host: import 90 CIFAR-10
 * images (3 classes) through the UI, train three tiny linear runs with the real engine (the
 * CLI on the host's data directory: learning rate 0.01 with seeds 1 and 2, and 0.05 with seed
 * 1), tick them in the run list, press Compare, and check what a researcher looks at: the URL
 * holds the selection (and a reload keeps it), the curves have one line per run (and one mean
 * line with its ± sd band per learning rate when grouped), the config table lists exactly the
 * two fields that differ, the parallel coordinates have the two fields and the metric with a
 * line per run and brushing picks runs, the summary marks min / max, and the confusion-matrix
 * diff opens a changed cell's images. Screenshots: test-output/e2e/compare-*.png.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importThroughUi, repoRoot, sharedData, shot } from './harness';
import { useCifarSession } from './session';

const cifar = sharedData('cifar10-subset');
const CLASSES = ['airplane', 'cat', 'ship'];

describe.skipIf(!existsSync(cifar))('compare runs in the browser (needs ../shared/data/cifar10-subset)', () => {
  const session = useCifarSession(CLASSES, 30, 1440, 1000, { split: 'test', hookTimeoutMs: 60_000 });

  it('imports 90 images and trains three runs that differ in learning rate and seed', async () => {
    const { host, page, folder } = session;
    await importThroughUi(page, host, folder, { name: 'tiny3' });
    for (const [lr, seed] of [['0.01', '1'], ['0.01', '2'], ['0.05', '1']]) {
      const r = spawnSync(process.execPath, [join(repoRoot, 'bin/layerwise.cjs'), 'train', '--dataset', 'tiny3', '--preset', 'linear', '--epochs', '3', '--batch-size', '8', '--optimizer', 'sgd', '--learning-rate', lr, '--seed', seed, '--data-dir', host.dataDir], {
        encoding: 'utf8',
        timeout: 240_000,
      });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/run \d+ completed/);
    }
  }, 600_000);

  it('selects the three runs, opens Compare, and sees curves, the diff and parallel coordinates', async () => {
    const { page, errors } = session;
    await page.getByTestId('nav-runs').click();
    await expect.poll(() => page.getByTestId('run-row').count(), { timeout: 30_000 }).toBe(3);
    for (const row of await page.getByTestId('run-row').all()) await row.getByTestId('run-row-select').check();
    expect(await page.getByTestId('runs-selected-count').innerText()).toBe('3 selected');
    await shot(page, 'compare-01-selected');
    await page.getByTestId('runs-compare').click();
    await page.waitForURL(/#\/compare\?runs=1(%2C|,)2(%2C|,)3$/, { timeout: 30_000 });

    // Curves: one line per run, drawn (the chart reports its render time once it finished).
    const chart = page.getByTestId('compare-chart');
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 30_000 }).toBe(9); // 3 runs × 3 epochs of val accuracy
    expect(await chart.getAttribute('data-series')).toBe('3');
    await expect.poll(() => chart.getAttribute('data-render-ms'), { timeout: 30_000 }).not.toBeNull();
    // Hovering shows every run's value at that epoch.
    const cbox = (await chart.boundingBox())!;
    await page.mouse.move(cbox.x + cbox.width / 2, cbox.y + cbox.height / 2);
    await expect.poll(() => chart.innerText(), { timeout: 10_000 }).toMatch(/epoch 2[\s\S]*#1 Linear on tiny3: \d+\.\d+%[\s\S]*#2 Linear on tiny3: \d+\.\d+%[\s\S]*#3 Linear on tiny3: \d+\.\d+%/);
    await shot(page, 'compare-01b-tooltip');

    // Config: exactly the two fields that differ, with each run's value; all paths when unticked.
    const paths = async (): Promise<string[]> => page.$$eval('[data-testid=config-row]', (rows) => rows.map((r) => r.getAttribute('data-path') ?? ''));
    expect(await paths()).toEqual(['seed', 'training.optimizer.learningRate']);
    expect(await page.locator('[data-testid=config-row][data-path="training.optimizer.learningRate"]').innerText()).toMatch(/0\.01\s+0\.01\s+0\.05/);
    await page.getByTestId('config-differences-only').uncheck();
    expect((await paths()).length).toBeGreaterThan(10);
    await page.getByTestId('config-differences-only').check();

    // Summary: a min and a max marked in the samples/s column (three different speeds).
    expect(await page.locator('[data-testid=summary-samplesPerSec][data-mark=max]').count()).toBe(1);
    expect(await page.locator('[data-testid=summary-samplesPerSec][data-mark=min]').count()).toBe(1);

    // Parallel coordinates: seed is left out by default; learning rate + the metric, a line per run.
    const pc = page.getByTestId('parallel-chart');
    expect(await pc.getAttribute('data-axes')).toBe('2');
    expect(await pc.getAttribute('data-lines')).toBe('3');
    await page.locator('[data-testid=parallel-field][value=seed]').check();
    await expect.poll(() => pc.getAttribute('data-axes')).toBe('3');
    await page.getByTestId('compare-curves').scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await shot(page, 'compare-02-page');

    // Brushing the bottom of the learning-rate axis (the first: 70 px from the left, its foot 30 px
    // above the chart's bottom), where 0.01 lies, keeps the two runs at 0.01.
    await pc.scrollIntoViewIfNeeded();
    const box = (await pc.boundingBox())!;
    await page.mouse.move(box.x + 70, box.y + box.height - 24);
    await page.mouse.down();
    await page.mouse.move(box.x + 70, box.y + box.height - 70, { steps: 8 });
    await page.mouse.up();
    await expect.poll(() => page.getByTestId('parallel-brushed').innerText(), { timeout: 10_000 }).toMatch(/2 of 3 runs in the brushed range: #1, #2/);
    expect(await page.locator('[data-testid=summary-row].dim').count()).toBe(1);
    expect(await page.locator('[data-testid=summary-row].dim').getAttribute('data-run-id')).toBe('3');
    await shot(page, 'compare-03-brushed');

    // Group by learning rate: two mean lines, each with its two band series.
    await page.getByTestId('curves-group').selectOption('training.optimizer.learningRate');
    await expect.poll(() => chart.getAttribute('data-series')).toBe('6');
    await page.getByTestId('compare-curves').scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await shot(page, 'compare-04a-grouped');
    await page.getByTestId('curves-metric').selectOption('loss');
    await page.getByTestId('curves-x').selectOption('step');
    await page.getByTestId('curves-group').selectOption('');
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 30_000 }).toBeGreaterThan(3 * 3 * 8);
    await page.getByTestId('compare-curves').scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await shot(page, 'compare-04-loss-per-step');

    // A reload keeps the selection.
    await page.reload();
    await expect.poll(() => page.getByTestId('compare-count').innerText(), { timeout: 30_000 }).toBe('3 runs');
    expect(errors).toEqual([]);
  }, 300_000);

  it('the confusion-matrix diff of two runs on the same version opens a changed cell', async () => {
    const { page, errors } = session;
    const summary = page.getByTestId('cmdiff-summary');
    await expect.poll(() => summary.innerText(), { timeout: 30_000 }).toMatch(/split · \d+ cells? changed/);
    const cells = page.locator('[data-testid=cmdiff-cell]');
    expect(await cells.count()).toBe(9);
    // A and B differ in seed only (runs 1, 2): the deltas of each true-class row sum to 0.
    const deltas = await cells.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-delta'))));
    for (let i = 0; i < 3; i++) expect(deltas.slice(3 * i, 3 * i + 3).reduce((a, b) => a + b, 0)).toBe(0);
    await page.getByTestId('confusion-diff').scrollIntoViewIfNeeded();
    await shot(page, 'compare-05-confusion-diff');
    const changed = page.locator('[data-testid=cmdiff-cell]:not([data-delta="0"])');
    if ((await changed.count()) > 0) {
      await changed.first().click();
      await page.waitForURL(/#\/datasets\/1\/label\?runId=\d+&trueClassId=\d+&predictedClassId=\d+/, { timeout: 30_000 });
      await page.getByTestId('grid-tile').first().waitFor({ timeout: 30_000 });
      await shot(page, 'compare-06-cell-images');
    } else {
      expect(summary.innerText()).resolves.toMatch(/0 cells changed/);
    }
    expect(errors).toEqual([]);
  }, 120_000);

  it('tags two runs, filters by the tag, writes a note, and deletes a run with its folder', async () => {
    const { host, page, errors } = session;
    await page.getByTestId('nav-runs').click();
    await expect.poll(() => page.getByTestId('run-row').count(), { timeout: 30_000 }).toBe(3);
    for (const id of ['1', '2']) await page.locator(`[data-testid=run-row][data-run-id="${id}"] [data-testid=run-row-select]`).check();
    await page.getByTestId('runs-tag').click();
    await page.getByTestId('runs-tag-dialog-input').fill('lr-0.01');
    await page.getByTestId('runs-tag-dialog-confirm').click();
    await expect.poll(() => page.locator('[data-testid=run-row][data-run-id="2"] [data-testid=run-row-tags]').innerText()).toBe('lr-0.01');
    await page.getByTestId('filter-tag').selectOption('lr-0.01');
    await expect.poll(() => page.getByTestId('run-row').count()).toBe(2);
    await shot(page, 'compare-07-tag-filter');
    await page.getByTestId('filter-clear').click();
    await expect.poll(() => page.getByTestId('run-row').count()).toBe(3);

    // A note on run 3's page, kept after a reload.
    await page.locator('[data-testid=run-row][data-run-id="3"]').click();
    await page.getByTestId('run-note').fill('too high a rate: loss spikes');
    await page.getByTestId('run-note-save').click();
    await expect.poll(() => page.getByTestId('run-note-save').isDisabled()).toBe(true);
    await page.reload();
    await expect.poll(() => page.getByTestId('run-note').inputValue(), { timeout: 30_000 }).toBe('too high a rate: loss spikes');

    // Delete run 3 from the list: its row and its folder go.
    const folder = join(host.dataDir, 'runs', '3');
    expect(existsSync(folder)).toBe(true);
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('runs-select-all').uncheck();
    await page.locator('[data-testid=run-row][data-run-id="3"] [data-testid=run-row-select]').check();
    await page.getByTestId('runs-delete').click();
    expect(await page.getByTestId('runs-delete-dialog-message').innerText()).toContain('#3');
    await page.getByTestId('runs-delete-dialog-confirm').click();
    await expect.poll(() => page.getByTestId('run-row').count(), { timeout: 30_000 }).toBe(2);
    expect(existsSync(folder)).toBe(false);

    // The saved Compare link with the deleted run: the other two are shown under a notice naming
    // run 3, the URL stays as it was, and the sidebar highlights Runs (not Datasets).
    await page.goto(`${host.url.split('#')[0]}#/compare?runs=1,2,3`);
    await expect.poll(() => page.getByTestId('compare-count').innerText(), { timeout: 30_000 }).toBe('2 runs');
    expect(await page.getByTestId('compare-missing').innerText()).toBe('Run 3 is not there (deleted?); showing the others.');
    expect(decodeURIComponent(page.url())).toContain('#/compare?runs=1,2,3');
    await page.getByTestId('compare-summary').waitFor();
    expect(await page.getByTestId('summary-row').count()).toBe(2);
    expect(await page.getByTestId('nav-runs').getAttribute('class')).toContain('active');
    expect(await page.getByTestId('nav-datasets').getAttribute('class')).not.toContain('active');
    await shot(page, 'compare-08-deleted-run');
    expect(errors).toEqual([]);
  }, 120_000);
});
