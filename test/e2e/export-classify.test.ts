/**
 * Export and classify from the run page (issue 13) in Debian Chromium against the built headless
 * host: 2 CIFAR-10 classes × 60 images imported through the UI, LeNet-5 trained through the
 * New-run form; Export → ONNX, zipped (the folder, files and preprocessing shown; the files on
 * the host's disk); two CIFAR test photos (not imported) dropped on "Classify new images": a row
 * each with class and confidence, and the same classes and confidences from
 * `layerwise predict RUN FILES --json` (the built CLI on the host's data directory); a truncated
 * PNG dropped with them gets its own row with the reason, and the two photos are still classified.
 * Screenshots: test-output/e2e/export-{done,classified}.png.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPredict, dropFiles, importThroughUi, sharedData, shot, trainThroughUi } from './harness';
import { useCifarSession } from './session';

const cifar = sharedData('cifar10-subset');

describe.skipIf(!existsSync(cifar))('Export and Classify on a trained LeNet-5 (needs ../shared/data/cifar10-subset)', () => {
  const session = useCifarSession(['airplane', 'cat'], 60, 1440, 1100);

  it('exports ONNX with a zip and classifies two dropped photos as the CLI does', async () => {
    const { host, page, folder, errors: consoleErrors } = session;
    await importThroughUi(page, host, folder, { name: 'planes-cats' });
    await trainThroughUi(page, { preset: 'lenet5', epochs: 3, name: 'lenet export' });
    const runId = /#\/runs\/(\d+)$/.exec(page.url())![1];

    const exportBox = page.getByTestId('run-export');
    await exportBox.scrollIntoViewIfNeeded();
    await page.getByTestId('export-format').selectOption('onnx');
    await page.getByTestId('export-button').click();
    await page.getByTestId('export-result').waitFor({ timeout: 120_000 });
    const text = await page.getByTestId('export-result').innerText();
    expect(text).toContain('model.onnx, signature.json');
    expect(text).toContain('Classes: airplane, cat');
    const dir = /written to (\S+):/.exec(text)![1];
    expect(existsSync(join(dir, 'model.onnx'))).toBe(true);
    expect(existsSync(`${dir}.zip`)).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'signature.json'), 'utf8')).classes).toEqual(['airplane', 'cat']);
    await shot(page, 'export-done');

    // Two photos the run never saw, dropped as files on the box.
    const photos = [join(cifar, 'test', 'airplane'), join(cifar, 'test', 'cat')].map((d) => {
      const names = execFileSync('ls', [d]).toString().split('\n').filter((n) => n.endsWith('.png')).sort();
      return join(d, names[names.length - 1]);
    });
    // And a damaged file among them (the first half of a PNG): its row says why, the two photos are still classified.
    const broken = join(mkdtempSync(join(tmpdir(), 'layerwise-e2e-broken-')), 'broken.png');
    const whole = readFileSync(photos[0]);
    writeFileSync(broken, whole.subarray(0, whole.length >> 1));
    await dropFiles(page, 'classify-drop', [photos[0], broken, photos[1]]);
    await expect.poll(async () => page.getByTestId('classify-row').count(), { timeout: 120_000, interval: 500 }).toBe(3);
    expect(await page.getByTestId('classify-error').count()).toBe(0);
    const all = await page.getByTestId('classify-row').allInnerTexts();
    expect(all[1]).toContain('broken.png');
    const rowError = await page.getByTestId('classify-row-error').innerText();
    expect(rowError).toMatch(/^Not classified: truncated PNG \(the file ends after \d+ bytes\)$/);
    expect(rowError, 'no path or stack in the row').not.toMatch(/\/|\bat\s/);
    expect(await page.getByTestId('run-classify').innerText()).toMatch(/3 images, epoch \d+ · 1 not classified/);
    const rows = [all[0], all[2]];

    const cli = cliPredict(host, runId, photos);
    expect(cli.images).toHaveLength(2);
    cli.images.forEach((im, i) => {
      const row = rows[i];
      expect(row).toContain(basename(photos[i]));
      expect(row).toContain(im.top[0].name);
      expect(row).toContain(`${(100 * im.top[0].probability).toFixed(1)} %`);
    });
    await page.getByTestId('run-classify').scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await shot(page, 'export-classified');
    expect(consoleErrors).toEqual([]);
  }, 900_000);
});
