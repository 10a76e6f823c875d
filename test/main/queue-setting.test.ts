/**
 * The run queue's concurrency is a setting of the data directory: set through the API in
 * one app, it is what the next app on the same directory starts with (a host restart), and
 * what another process on it (a CLI) sees; an explicit option still wins.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/main/services/app';
import { tempDataDir } from '../helpers';

type QueueInfo = { concurrency: number; cores: number; threadsPerEngine: number };

describe('queue concurrency survives a restart', () => {
  const dirs: ReturnType<typeof tempDataDir>[] = [];
  const apps: App[] = [];
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.shutdown(2000);
    for (const d of dirs.splice(0)) d.cleanup();
  });

  it('queue.setConcurrency is stored in the data directory and read by the next app', async () => {
    const dir = tempDataDir();
    dirs.push(dir);
    const first = createApp({ dataDir: dir.root });
    apps.push(first);
    const before = (await first.handle('queue.get', {})) as QueueInfo;
    const chosen = before.concurrency + 2;
    expect(((await first.handle('queue.setConcurrency', { concurrency: chosen })) as QueueInfo).concurrency).toBe(chosen);

    // A second process on the same directory (a CLI) sees it while the first is running.
    const second = createApp({ dataDir: dir.root });
    apps.push(second);
    expect(((await second.handle('queue.get', {})) as QueueInfo).concurrency).toBe(chosen);

    await first.shutdown(2000);
    await second.shutdown(2000);
    apps.splice(0);
    const restarted = createApp({ dataDir: dir.root });
    apps.push(restarted);
    expect(((await restarted.handle('queue.get', {})) as QueueInfo).concurrency).toBe(chosen);
    // An explicit option (a test, a flag) wins over the stored value and does not overwrite it.
    const explicit = createApp({ dataDir: dir.root, concurrency: 1 });
    apps.push(explicit);
    expect(((await explicit.handle('queue.get', {})) as QueueInfo).concurrency).toBe(1);
    expect(storedConcurrency(restarted)).toBe(String(chosen));
  });

  it('a fresh data directory starts with the machine default', async () => {
    const a = tempDataDir();
    const b = tempDataDir();
    dirs.push(a, b);
    const one = createApp({ dataDir: a.root });
    const two = createApp({ dataDir: b.root });
    apps.push(one, two);
    await one.handle('queue.setConcurrency', { concurrency: 5 });
    expect(((await two.handle('queue.get', {})) as QueueInfo).concurrency).not.toBe(5);
  });
});

function storedConcurrency(app: App): string | undefined {
  return (app.db.prepare("SELECT value FROM settings WHERE key = 'queue.concurrency'").get() as { value: string } | undefined)?.value;
}
