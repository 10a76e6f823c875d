/**
 * End-to-end harness: the built headless host (out/main/host.js) as a real process on a
 * random port with a fresh data directory, and Debian Chromium driven by playwright-core.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const repoRoot = resolve(__dirname, '../..');
export const sharedData = (...p: string[]): string => resolve(repoRoot, '..', 'shared', 'data', ...p);
export const shotsDir = join(repoRoot, 'test-output', 'e2e');

export interface Host {
  /** The URL the host printed, with its access token (`?token=…`): what a user opens. */
  url: string;
  /** The access token the host asks for (every interface asks for one by default). */
  token: string | null;
  dataDir: string;
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** Start the built host; resolves with its URL (token included) once it prints "running at http://…". */
export async function startHost(extraArgs: string[] = []): Promise<Host> {
  const hostJs = join(repoRoot, 'out/main/host.js');
  if (!existsSync(hostJs)) throw new Error(`${hostJs} is missing: run \`npx electron-vite build\` first`);
  const dataDir = mkdtempSync(join(tmpdir(), 'layerwise-e2e-'));
  const child = spawn(process.execPath, [hostJs, '--data-dir', dataDir, '--port', '0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not start within 30 s:\n${out}`)), 30_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`host exited with ${code}:\n${out}`)));
  });
  return {
    url,
    token: new URL(url).searchParams.get('token'),
    dataDir,
    process: child,
    output: () => out,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Launch Debian Chromium headless with the flags this closed network needs. `scrollbars`:
 * keep classic scrollbars that take layout width, as on a desktop (Playwright hides them
 * in headless mode by default with `--hide-scrollbars`).
 */
export async function launchBrowser(options: { scrollbars?: boolean } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    ...(options.scrollbars ? { ignoreDefaultArgs: ['--hide-scrollbars'] } : {}),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** A new page of the given size whose console errors and uncaught exceptions are collected in `errors` (a test asserts it stays empty). */
export async function newWatchedPage(browser: Browser, width: number, height: number): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { page, errors };
}

/** Save a full-page screenshot under test-output/e2e/<name>.png and return its path. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(shotsDir, { recursive: true });
  const file = join(shotsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Import `path` through the Datasets page as a user does (type the folder, optionally a
 * name, press Import) and wait until the import summary says done (`timeoutMs`).
 * @throws Error naming the last status when it is not done in time.
 */
export async function importThroughUi(page: Page, host: Host, path: string, opts: { name?: string; timeoutMs?: number } = {}): Promise<void> {
  await page.goto(host.url);
  await page.getByTestId('import-path').fill(path);
  if (opts.name) await page.getByTestId('import-name').fill(opts.name);
  await page.getByTestId('import-button').click();
  // A plain poll, not vitest's expect: bench/grid.bench.ts uses this harness under tsx, outside vitest.
  const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
  let status: string | null = null;
  while ((status = await page.getByTestId('import-summary').getAttribute('data-status').catch(() => null)) !== 'done') {
    if (Date.now() > deadline) throw new Error(`import of ${path}: status ${JSON.stringify(status)} after ${opts.timeoutMs ?? 180_000} ms, expected "done"`);
    await page.waitForTimeout(250);
  }
}

/** A class-folder copy of the CIFAR-10 subset in a temporary folder: the first `perClass` PNGs (name order) of each class from its `split`. The caller removes it. */
export function cifarFolder(classes: string[], perClass: number, split: 'train' | 'test' = 'train'): string {
  const dir = mkdtempSync(join(tmpdir(), 'layerwise-e2e-cifar-'));
  for (const c of classes) {
    mkdirSync(join(dir, c));
    const from = sharedData('cifar10-subset', split, c);
    for (const f of readdirSync(from).filter((n) => n.endsWith('.png')).sort().slice(0, perClass)) copyFileSync(join(from, f), join(dir, c, f));
  }
  return dir;
}

/**
 * From the Datasets page, train a run on the first dataset through the New-run form (preset,
 * epochs, name; the rest as the form fills it) and wait until the run page says completed.
 */
export async function trainThroughUi(page: Page, opts: { preset: string; epochs: number; name: string; timeoutMs?: number }): Promise<void> {
  await page.getByTestId('dataset-row').first().click();
  await page.getByTestId('train-on-dataset').click();
  await page.getByTestId('new-run-form').waitFor();
  await page.getByTestId('run-preset').selectOption(opts.preset);
  await page.getByTestId('run-epochs').fill(String(opts.epochs));
  await page.getByTestId('run-name').fill(opts.name);
  await page.getByTestId('run-start').click();
  await page.waitForURL(/#\/runs\/\d+$/, { timeout: 60_000 });
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  let status: string | null = null;
  while ((status = await page.getByTestId('run-status').getAttribute('data-status').catch(() => null)) !== 'completed') {
    if (Date.now() > deadline || status === 'failed') throw new Error(`run ${opts.name}: status ${JSON.stringify(status)}, expected "completed"`);
    await page.waitForTimeout(500);
  }
}

/**
 * Drop image files from this machine on the element `testId` as a user drags them from a file
 * manager: a DataTransfer with one File per path (name = the file's base name, type from the
 * extension), sent as `dragover` then `drop`.
 */
export async function dropFiles(page: Page, testId: string, paths: string[]): Promise<void> {
  const types: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.bmp': 'image/bmp' };
  const payload = paths.map((p) => ({ name: basename(p), type: types[extname(p).toLowerCase()] ?? 'application/octet-stream', b64: readFileSync(p).toString('base64') }));
  const dataTransfer = await page.evaluateHandle((files) => {
    // The page's DataTransfer and File (this project's Node type check has no DOM globals).
    const g = globalThis as unknown as {
      DataTransfer: new () => { items: { add(file: unknown): void } };
      File: new (parts: Uint8Array[], name: string, opts: { type: string }) => unknown;
      atob(s: string): string;
    };
    const dt = new g.DataTransfer();
    for (const f of files) dt.items.add(new g.File([Uint8Array.from(g.atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    return dt;
  }, payload);
  const target = page.getByTestId(testId);
  await target.scrollIntoViewIfNeeded();
  await target.dispatchEvent('dragover', { dataTransfer });
  await target.dispatchEvent('drop', { dataTransfer });
}

/** What `layerwise predict RUN FILES --json` prints: per image, its top classes with probabilities. */
export interface CliPredictions {
  runId: number;
  epoch: number;
  classes: string[];
  images: { name: string; top: { index: number; name: string; probability: number }[] }[];
}

/** Run the built CLI's `predict RUN FILES --json` on the host's data directory (out/main/cli.js, as a user would after the app). */
export function cliPredict(host: Host, runId: number | string, files: string[]): CliPredictions {
  const out = execFileSync(process.execPath, [join(repoRoot, 'out/main/cli.js'), 'predict', String(runId), ...files, '--json', '--data-dir', host.dataDir], { encoding: 'utf8', timeout: 180_000 });
  return JSON.parse(out) as CliPredictions;
}
