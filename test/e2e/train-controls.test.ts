/**
 * Training controls in Debian Chromium against the built headless host with real engines:
 * a run cancelled from its page after a few epochs, resumed with the Resume button to its end
 * (all 60 epochs' metrics present, the tested epoch shown), then "New run from this one" with
 * the form filled from it, the learning-rate range test plotted and its suggestion used, and
 * the augmentation preview of the first batch.
 * Screenshots: test-output/e2e/train-controls-{cancelled,resumed,clone-lr-range,augment-preview}.png.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importThroughUi, sharedData, shot } from './harness';
import { useCifarSession } from './session';

describe.skipIf(!existsSync(sharedData('cifar10-subset')))('training controls (needs ../shared/data/cifar10-subset)', () => {
  const session = useCifarSession(['airplane', 'cat'], 30, 1440, 1000);

  const status = () => session.page.getByTestId('run-status').getAttribute('data-status');

  it('cancel → Resume to the end; New run from this one; the LR range test', async () => {
    const { host, page, folder, errors: consoleErrors } = session;
    await importThroughUi(page, host, folder, { name: 'planes-cats' });
    await page.getByTestId('dataset-row').first().click();
    await page.getByTestId('train-on-dataset').click();
    await page.getByTestId('new-run-form').waitFor();
    await page.getByTestId('run-preset').selectOption('linear');
    await page.getByTestId('run-epochs').fill('60');
    await page.getByTestId('run-batch-size').fill('1');
    await page.getByTestId('run-name').fill('linear to resume');
    await page.getByTestId('run-start').click();
    await page.waitForURL(/#\/runs\/\d+$/, { timeout: 60_000 });
    const runUrl = page.url();
    // Cancel once a few epochs are in (the run page's "stopped at" line says where).
    await expect.poll(status, { timeout: 120_000, interval: 250 }).toBe('running');
    await page.waitForTimeout(1500);
    await page.getByTestId('run-cancel').click({ timeout: 5000 });
    await expect.poll(status, { timeout: 60_000, interval: 500 }).toBe('cancelled');
    const stoppedText = await page.getByTestId('run-stopped').innerText();
    expect(stoppedText).toMatch(/stopped at epoch \d+\/60/);
    await shot(page, 'train-controls-cancelled');

    await page.getByTestId('run-resume').click();
    await expect.poll(status, { timeout: 300_000, interval: 500 }).toBe('completed');
    expect(page.url()).toBe(runUrl);
    const tested = await page.getByTestId('run-tested-epoch').innerText();
    expect(tested).toMatch(/^\d+ \/ 60/);
    const metrics = await page.evaluate(async ({ id, origin, token }) => {
      const ws = new WebSocket(`ws://${origin}/api${token ? `?token=${token}` : ''}`);
      await new Promise((r) => (ws.onopen = r));
      ws.send(JSON.stringify({ id: 1, method: 'runs.metrics', params: { runId: id } }));
      const reply = await new Promise<{ result: { name: string; epoch: number }[] }>((r) => {
        ws.onmessage = (e) => {
          const m = JSON.parse(String(e.data)) as { id?: number; result: { name: string; epoch: number }[] };
          if (m.id === 1) r(m);
        };
      });
      ws.close();
      return reply.result.filter((m) => m.name === 'train_loss').map((m) => m.epoch);
    }, { id: Number(runUrl.split('/').pop()), origin: new URL(host.url).host, token: host.token });
    expect(metrics).toEqual(Array.from({ length: 60 }, (_, e) => e));
    await shot(page, 'train-controls-resumed');

    await page.getByTestId('run-clone').click();
    await page.getByTestId('new-run-form').waitFor();
    await expect.poll(() => page.getByTestId('run-import-notice').innerText(), { timeout: 30_000 }).toMatch(/^Filled in from run \d+ \("linear to resume"\)/);
    expect(await page.getByTestId('run-epochs').inputValue()).toBe('60');
    expect(await page.getByTestId('run-batch-size').inputValue()).toBe('1');
    await page.getByTestId('run-batch-size').fill('8');
    await page.getByTestId('lr-range-run').click();
    await page.getByTestId('lr-range-chart').waitFor({ timeout: 120_000 });
    const suggested = await page.getByTestId('lr-range-suggested').innerText();
    expect(suggested).toMatch(/^suggested [\d.e-]+ · lowest loss at [\d.e-]+/);
    await page.getByTestId('lr-range-use').click();
    const lr = await page.getByTestId('run-learning-rate').inputValue();
    expect(suggested).toContain(`suggested ${lr}`);
    await page.getByTestId('lr-range').scrollIntoViewIfNeeded();
    await page.waitForTimeout(400);
    await shot(page, 'train-controls-clone-lr-range');

    // The augmentation preview: the first batch (8) as the engine trains on it, flipped and shifted.
    await page.getByTestId('run-horizontal-flip').check();
    await page.getByTestId('run-random-translation').fill('0.2');
    await page.getByTestId('augment-preview-show').click();
    await expect.poll(() => page.getByTestId('augment-preview-tile').count(), { timeout: 60_000 }).toBe(8);
    const labels = await page.getByTestId('augment-preview-tile').allInnerTexts();
    expect(labels.every((l) => ['airplane', 'cat'].includes(l.trim()))).toBe(true);
    await page.getByTestId('augment-preview').scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await shot(page, 'train-controls-augment-preview');
    expect(consoleErrors).toEqual([]);
  }, 900_000);
});
