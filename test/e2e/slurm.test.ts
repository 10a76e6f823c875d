/**
 * Slurm (issue 12) in Debian Chromium against the built headless host and the REAL one-node
 * Slurm of scripts/slurm-up.sh: the Settings page's executor panel (a bad time limit, a missing
 * and a relative staging folder each named under its field; then saved), a run started from
 * the New-run form trains as a Slurm job (`layerwise engine-job` of this installation on the
 * node), its page shows the job line (job id, RUNNING, the node) and its loss curve grows while
 * the job runs; Cancel scancels it and the line says CANCELLED. Skipped, with the reason, without
 * Slurm or the CIFAR-10 subset.
 * Screenshots: test-output/e2e/slurm-{settings-errors,settings,run-live,run-cancelled}.png.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { realSlurmMissing } from '../helpers/slurm';
import { importThroughUi, sharedData, shot } from './harness';
import { useCifarSession } from './session';

const missing = existsSync(sharedData('cifar10-subset')) ? realSlurmMissing() : 'shared data cifar10-subset is absent';
const NODE = hostname().split('.')[0]!;

describe.skipIf(missing !== null)('Slurm from the UI (needs a one-node Slurm: scripts/slurm-up.sh)', () => {
  const session = useCifarSession(['airplane', 'cat'], 30, 1440, 1000);
  const stage = mkdtempSync(join(tmpdir(), 'layerwise-e2e-slurm-'));
  afterAll(() => rmSync(stage, { recursive: true, force: true }));

  it('executor settings with per-field errors; a run as a Slurm job: job line, live loss curve, cancel → scancel', async () => {
    const { host, page, folder, errors } = session;
    await page.goto(host.url);
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('executor-settings').waitFor();
    await page.getByTestId('executor-slurm').check();
    await page.getByTestId('slurm-time-limit').fill('soon');
    await expect.poll(() => page.getByTestId('slurm-time-limit-error').innerText()).toContain('Slurm time');
    await page.getByTestId('executor-save').click();
    await expect.poll(() => page.getByTestId('slurm-stage-dir-error').innerText()).toContain('is required');
    await page.getByTestId('slurm-stage-dir').fill('relative/stage');
    await expect.poll(() => page.getByTestId('slurm-stage-dir-error').innerText()).toContain('an absolute path');
    await page.getByTestId('slurm-extra-args').fill('--qos=normal bad;arg');
    await expect.poll(() => page.getByTestId('slurm-extra-args-error').innerText()).toContain('“bad;arg”');
    await shot(page, 'slurm-settings-errors');
    expect(await page.getByTestId('executor-saved').count()).toBe(0);

    await page.getByTestId('slurm-time-limit').fill('10');
    await page.getByTestId('slurm-stage-dir').fill(stage);
    await page.getByTestId('slurm-extra-args').fill('');
    await page.getByTestId('slurm-partition').fill('debug');
    await page.getByTestId('slurm-cpus-per-run').fill('1');
    await page.getByTestId('slurm-memory-mb').fill('1024');
    await page.getByTestId('slurm-poll-seconds').fill('0.5');
    expect(await page.locator('[data-testid$="-error"]').count()).toBe(0);
    await page.getByTestId('executor-save').click();
    await expect.poll(() => page.getByTestId('executor-saved').innerText()).toContain('on Slurm');
    await shot(page, 'slurm-settings');
    // Stored on the host: the page read again shows it.
    await page.reload();
    await expect.poll(() => page.getByTestId('slurm-stage-dir').inputValue()).toBe(stage);
    expect(await page.getByTestId('executor-slurm').isChecked()).toBe(true);

    await importThroughUi(page, host, folder, { name: 'planes-cats' });
    await page.getByTestId('dataset-row').first().click();
    await page.getByTestId('train-on-dataset').click();
    await page.getByTestId('new-run-form').waitFor();
    await page.getByTestId('run-preset').selectOption('linear');
    await page.getByTestId('run-epochs').fill('400');
    await page.getByTestId('run-batch-size').fill('1');
    await page.getByTestId('run-name').fill('linear on slurm');
    await page.getByTestId('run-start').click();
    await page.waitForURL(/#\/runs\/\d+$/, { timeout: 60_000 });

    const line = page.getByTestId('run-slurm-job');
    await expect.poll(() => line.getAttribute('data-state').catch(() => null), { timeout: 120_000, interval: 500 }).toBe('RUNNING');
    expect(await page.getByTestId('run-slurm-node').innerText()).toBe(`on ${NODE}`);
    const jobId = await page.getByTestId('run-slurm-job-id').innerText();
    expect(jobId).toMatch(/^\d+$/);
    // The live curve: epochs arrive from the job's messages while it runs.
    const points = async (): Promise<number> => Number((await page.getByTestId('chart-loss').getAttribute('data-points').catch(() => null)) ?? 0);
    await expect.poll(points, { timeout: 120_000, interval: 250 }).toBeGreaterThan(1);
    const first = await points();
    await expect.poll(points, { timeout: 60_000, interval: 250 }).toBeGreaterThan(first + 2);
    expect(await page.getByTestId('run-status').getAttribute('data-status')).toBe('running');
    expect(await line.getAttribute('data-state')).toBe('RUNNING');
    await expect.poll(() => page.getByTestId('run-backend-detail').innerText(), { timeout: 30_000 }).toContain(`Slurm job ${jobId} on ${NODE}`);
    await shot(page, 'slurm-run-live');

    await page.getByTestId('run-cancel').click();
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 60_000, interval: 500 }).toBe('cancelled');
    await expect.poll(() => line.getAttribute('data-state'), { timeout: 60_000, interval: 500 }).toBe('CANCELLED');
    await shot(page, 'slurm-run-cancelled');
    expect(errors).toEqual([]);
  });
});
