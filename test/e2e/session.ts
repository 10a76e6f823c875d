/**
 * The fixtures most E2E files share (useHostSession, useCifarSession), apart from ./harness.ts because it
 * registers vitest hooks: the benchmarks import the harness outside vitest.
 */
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { cifarFolder, launchBrowser, newWatchedPage, startHost, type Host } from './harness';

/** What useHostSession sets up for one E2E file; its fields are filled before the file's first test. */
export interface HostSession {
  host: Host;
  browser: Browser;
  page: Page;
  /** Console errors of `page` (newWatchedPage). */
  errors: string[];
}

/** What useCifarSession sets up: a HostSession and the images. */
export interface CifarSession extends HostSession {
  /** The class-folder copy of the CIFAR-10 subset (cifarFolder). */
  folder: string;
}

/** The optional parts of useHostSession. */
export interface HostSessionOptions {
  /** The beforeAll hook's timeout in ms (default: the E2E config's hookTimeout). */
  hookTimeoutMs?: number;
}

/** The optional parts of useCifarSession. */
export interface CifarSessionOptions extends HostSessionOptions {
  /** Which split of ../shared/data/cifar10-subset the images are copied from (default 'train'). */
  split?: 'train' | 'test';
}

/**
 * A headless host, Chromium and one watched page of width × height px, created in the
 * file's beforeAll and closed in its afterAll. Call it inside the file's describe; read the
 * fields inside its tests.
 */
export function useHostSession(width: number, height: number, options: HostSessionOptions = {}): HostSession {
  const session = { errors: [] as string[] } as HostSession;
  beforeAll(async () => {
    session.host = await startHost();
    session.browser = await launchBrowser();
    ({ page: session.page, errors: session.errors } = await newWatchedPage(session.browser, width, height));
  }, options.hookTimeoutMs);
  afterAll(async () => {
    await session.browser?.close();
    await session.host?.stop();
  });
  return session;
}

/**
 * The fixture most E2E files share: a class-folder copy of `classes` × `perClass` CIFAR-10
 * images of `options.split` (default train), a headless host, Chromium and one watched page
 * of width × height px, created in the file's beforeAll and closed / removed in its afterAll.
 * Call it inside the file's describe; read the fields inside its tests.
 */
export function useCifarSession(classes: string[], perClass: number, width: number, height: number, options: CifarSessionOptions = {}): CifarSession {
  const session = Object.assign(useHostSession(width, height, options), { folder: '' });
  beforeAll(() => {
    session.folder = cifarFolder(classes, perClass, options.split);
  });
  afterAll(() => {
    if (session.folder) rmSync(session.folder, { recursive: true, force: true });
  });
  return session;
}
