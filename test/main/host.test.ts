/**
 * The headless host: HTTP (renderer, images, CSP), the WebSocket API and its guards
 * (Origin, token, Host, message validation), against a real app in a temp data dir.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_CLIENT_BUFFER_BYTES, MAX_MESSAGE_BYTES, startHostServer, type HostServer } from '../../src/main/host/server';
import { Emitter, type ApiEvent } from '../../src/main/events';
import type { Item, Metric, RunSummary, WireResponse } from '../../src/shared/api';
import { startHost } from '../../src/main/host/serve';
import { REPO_ROOT, tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { useTestHost } from '../helpers/host';
import { childrenOf, processAlive, procStat } from '../helpers/proc';
import { cifar, linearSpec, tinyCifarFolder } from './runs-helpers';
import { defaultEngineNiceness } from '../../src/main/engine-launcher';

interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Open a WebSocket; resolves with it once open, rejects with the HTTP status when refused. */
function connect(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`refused: ${res.statusCode}`));
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** Send one message; resolves with the next reply (event frames pushed meanwhile are skipped). */
function call(ws: WebSocket, msg: unknown): Promise<WireResponse> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const frame = JSON.parse(String(data)) as WireResponse | { event: string };
      if ('event' in frame) return;
      ws.off('message', onMessage);
      resolve(frame);
    };
    ws.on('message', onMessage);
    ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  });
}

/** Send `text` on a plain TCP connection; resolves with what came back until the host closed it (or 3 s passed). */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let got = '';
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, 3000);
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      // The status line and headers are enough (kept-alive and switched connections stay open).
      if (got.includes('\r\n\r\n')) done();
    });
    sock.on('end', done);
    sock.on('close', done);
    sock.on('error', (e) => (got ? done() : reject(e)));
    sock.write(text, 'latin1');
  });
}

/** Raw HTTP requests whose headers or URLs are malformed in the ways that make parsers throw. */
function malformedRequests(port: number, token: string | null): string[] {
  const host = `127.0.0.1:${port}`;
  const ws = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
  const cookies = ['foo=%', `layerwise_token_${port}=%`, `layerwise_token_${port}=%E0%A4%A`, '=%; ;;=', `foo=%; layerwise_token_${port}=%zz`];
  const out: string[] = [];
  for (const c of cookies) {
    out.push(`GET / HTTP/1.1\r\nHost: ${host}\r\nCookie: ${c}\r\n\r\n`);
    out.push(`GET /api HTTP/1.1\r\nHost: ${host}\r\n${ws}Cookie: ${c}\r\n\r\n`);
  }
  const q = token ? `?token=${token}` : '';
  for (const path of [`/%${q}`, `/assets/%E0%A4%A${q}`, `/image/thumb/%${q}`, `//%${q}`, `/${'%'.repeat(5000)}${q}`, `/\u00ff${q}`]) {
    out.push(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    out.push(`GET /api${path} HTTP/1.1\r\nHost: ${host}\r\n${ws}\r\n`);
  }
  for (const h of ['%', '[', '[::1', `${host}:99999`, 'a'.repeat(400), '']) {
    out.push(`GET /${q} HTTP/1.1\r\nHost: ${h}\r\n\r\n`);
    out.push(`GET /api${q} HTTP/1.1\r\nHost: ${h}\r\n${ws}\r\n`);
  }
  out.push(`GET /api HTTP/1.1\r\nHost: ${host}\r\n${ws}Origin: %\r\n\r\n`);
  out.push(`GET /api HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 99\r\n\r\n`);
  // Not HTTP at all, or headers the parser itself rejects.
  out.push('GARBAGE\r\n\r\n', `GET / HTTP/1.1\r\nHost: ${host}\r\nX-Bad: a\u0000b\r\n\r\n`, `GET / HTTP/1.1\r\nHost: ${host}\r\nno colon here\r\n\r\n`);
  return out;
}

/** Every malformed request gets an HTTP status (never a crash) and the host still answers afterwards. */
async function expectSurvivesMalformed(server: HostServer): Promise<void> {
  const errors: unknown[] = [];
  const onUncaught = (e: unknown): void => void errors.push(e);
  process.on('uncaughtException', onUncaught);
  try {
    for (const text of malformedRequests(server.port, server.token)) {
      const reply = await rawRequest(server.port, text);
      expect(reply, text).toMatch(/^HTTP\/1\.1 (101|[1-5]\d\d) /);
    }
  } finally {
    process.off('uncaughtException', onUncaught);
  }
  expect(errors).toEqual([]);
  const ws = await connect(`ws://127.0.0.1:${server.port}/api${server.token ? `?token=${server.token}` : ''}`);
  expect(await call(ws, { id: 1, method: 'datasets.list', params: {} })).toMatchObject({ id: 1, result: expect.any(Array) });
  ws.close();
}

describe('headless host on 127.0.0.1', () => {
  // `--no-token` (token: null): the loopback-only way to run without one.
  const h = useTestHost({
    token: null,
    rendererFiles: { 'index.html': '<!doctype html><title>Layerwise test UI</title>', 'assets/app.js': 'console.log(1)' },
    ...(cifar && { dataset: { name: 'four', classes: ['airplane', 'cat'], perClass: 2 } }),
  });
  let hash: string | null = null;
  beforeAll(() => {
    if (h.datasetId !== null) hash = h.app.datasets.items({ datasetId: h.datasetId, offset: 0, limit: 1 }).items[0]?.hash ?? null;
  });

  it('prints a loopback URL without a token', () => {
    expect(h.server.url).toBe(`http://127.0.0.1:${h.server.port}/`);
    expect(h.server.token).toBeNull();
  });

  it('serves the renderer with a strict CSP; client routes fall back to index.html; no path traversal', async () => {
    const index = await get(h.server.port, '/');
    expect(index.status).toBe(200);
    expect(index.body.toString()).toContain('Layerwise test UI');
    const csp = String(index.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${h.server.port}`);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect((await get(h.server.port, '/assets/app.js')).headers['content-type']).toContain('javascript');
    expect((await get(h.server.port, '/runs/3')).body.toString()).toContain('Layerwise test UI');
    expect((await get(h.server.port, '/assets/missing.js')).status).toBe(404);
    expect((await get(h.server.port, '/../../etc/passwd')).body.toString()).not.toContain('root:');
    expect((await get(h.server.port, '/..%2f..%2f..%2fetc%2fpasswd')).status).toBe(403);
  });

  it('refuses a bad image hash (400) and an unknown one (404)', async () => {
    expect((await get(h.server.port, '/image/thumb/not-a-hash')).status).toBe(400);
    expect((await get(h.server.port, '/image/full/..%2F..%2Flayerwise.sqlite')).status).toBe(400);
    expect((await get(h.server.port, `/image/thumb/${'A'.repeat(64)}`)).status).toBe(400);
    expect((await get(h.server.port, `/image/thumb/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await get(h.server.port, `/image/huge/${'0'.repeat(64)}`)).status).toBe(404);
  });

  it.skipIf(!cifar)('serves an imported image and its thumbnail as PNG', async () => {
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    for (const kind of ['thumb', 'full']) {
      const r = await get(h.server.port, `/image/${kind}/${hash}`);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('image/png');
      expect(r.body.subarray(1, 4).toString()).toBe('PNG');
    }
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    expect((await get(h.server.port, '/', { Host: `evil.example:${h.server.port}` })).status).toBe(421);
  });

  it('answers API calls over WebSocket, validating every message', async () => {
    const ws = await connect(`ws://127.0.0.1:${h.server.port}/api`, { Origin: `http://127.0.0.1:${h.server.port}` });
    try {
      const info = await call(ws, { id: 1, method: 'system.info', params: {} });
      expect(info).toMatchObject({ id: 1, result: { host: 'headless', dataDir: h.dir.root } });
      const bad = await call(ws, { id: 2, method: 'runs.get', params: { runId: 0 } });
      expect(bad).toMatchObject({ id: 2, error: { code: 'invalid_params', field: 'runId' } });
      const unknown = await call(ws, { id: 3, method: 'no.such', params: {} });
      expect(unknown).toMatchObject({ id: 3, error: { code: 'invalid_params', field: 'method' } });
      expect(await call(ws, '{not json')).toMatchObject({ id: 0, error: { code: 'invalid_params' } });
      expect(await call(ws, { id: 4, method: 'runs.list', params: {}, extra: 1 })).toMatchObject({ id: 4, error: { code: 'invalid_params' } });
      const missing = await call(ws, { id: 5, method: 'runs.get', params: { runId: 77 } });
      expect(missing).toMatchObject({ id: 5, error: { code: 'not_found' } });
      if (cifar) {
        const items = await call(ws, { id: 6, method: 'datasets.items', params: { datasetId: 1, offset: 0, limit: 10 } });
        expect(((items as { result: { items: Item[] } }).result.items).length).toBe(4);
      }
    } finally {
      ws.close();
    }
  });

  it.skipIf(!cifar)('pushes events to every client', async () => {
    const a = await connect(`ws://127.0.0.1:${h.server.port}/api`);
    const b = await connect(`ws://localhost:${h.server.port}/api`, { Origin: `http://localhost:${h.server.port}` });
    const input = tempDir();
    try {
      const got = [a, b].map((ws) => new Promise<{ event: string }>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d))))));
      tinyCifarFolder(input.path, ['dog', 'frog'], 2);
      await h.app.handle('datasets.import', { path: input.path });
      for (const e of await Promise.all(got)) expect(e.event).toMatch(/^import\.(progress|finished)$/);
    } finally {
      a.close();
      b.close();
      input.cleanup();
    }
  });

  it('refuses a WebSocket from a foreign Origin (cross-site WebSocket hijacking)', async () => {
    await expect(connect(`ws://127.0.0.1:${h.server.port}/api`, { Origin: 'http://evil.example' })).rejects.toThrow('refused: 403');
    await expect(connect(`ws://127.0.0.1:${h.server.port}/api`, { Origin: `http://127.0.0.1:${h.server.port + 1}` })).rejects.toThrow('refused: 403');
    await expect(connect(`ws://127.0.0.1:${h.server.port}/other`)).rejects.toThrow('refused: 404');
  });

  it('closes a connection that sends an oversized message', async () => {
    const ws = await connect(`ws://127.0.0.1:${h.server.port}/api`);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    ws.send(JSON.stringify({ id: 1, method: 'system.info', params: { pad: 'x'.repeat(MAX_MESSAGE_BYTES + 1) } }));
    expect(await closed).toBe(1009);
  });

  it('survives malformed headers, cookies and URLs (HTTP and WebSocket upgrade)', () => expectSurvivesMalformed(h.server));

  it('refuses class names with control characters or unpaired surrogates, naming the field', async () => {
    const ws = await connect(`ws://127.0.0.1:${h.server.port}/api`);
    try {
      for (const [i, name] of ['ants\u0007', 'bees\nwasps', 'line\u0085feed', 'x\uD800', '\uDC00y'].entries()) {
        const add = await call(ws, { id: 10 + i, method: 'classes.add', params: { datasetId: 1, name } });
        expect(add, JSON.stringify(name)).toMatchObject({ id: 10 + i, error: { code: 'invalid_params', field: 'name' } });
        expect((add as { error: { message: string } }).error.message).toMatch(/^name: class name (contains a control character|is not valid Unicode)/);
      }
      const upd = await call(ws, { id: 20, method: 'classes.update', params: { classId: 1, name: 'ok\u001b[31m' } });
      expect(upd).toMatchObject({ id: 20, error: { code: 'invalid_params', field: 'name' } });
      expect((upd as { error: { message: string } }).error.message).toContain('U+001B');
      // Emoji (a valid surrogate pair) and accents are names like any other.
      if (cifar) expect(await call(ws, { id: 21, method: 'classes.add', params: { datasetId: 1, name: 'abeille 🐝' } })).toMatchObject({ id: 21, result: { name: 'abeille 🐝' } });
    } finally {
      ws.close();
    }
  });
});

describe('headless host off loopback', () => {
  const h = useTestHost({ host: '0.0.0.0' });

  it('generates a token and prints it in the URL', () => {
    expect(h.server.token).toMatch(/^[\w-]{24,}$/);
    expect(h.server.url).toBe(`http://0.0.0.0:${h.server.port}/?token=${h.server.token}`);
  });

  it('refuses HTTP and WebSocket without the token; accepts it in the query or the cookie it sets', async () => {
    expect((await get(h.server.port, '/')).status).toBe(401);
    expect((await get(h.server.port, `/image/thumb/${'0'.repeat(64)}`)).status).toBe(401);
    expect((await get(h.server.port, '/?token=wrong')).status).toBe(401);
    await expect(connect(`ws://127.0.0.1:${h.server.port}/api`)).rejects.toThrow('refused: 401');
    await expect(connect(`ws://127.0.0.1:${h.server.port}/api?token=wrong`)).rejects.toThrow('refused: 401');

    const page = await get(h.server.port, `/?token=${h.server.token}`);
    expect(page.status).toBe(200); // the placeholder page: no renderer given
    const cookie = String(page.headers['set-cookie']).split(';')[0];
    expect(cookie).toContain(`layerwise_token_${h.server.port}=`);
    expect((await get(h.server.port, `/image/thumb/${'0'.repeat(64)}`, { Cookie: cookie })).status).toBe(404);

    const ws = await connect(`ws://127.0.0.1:${h.server.port}/api?token=${h.server.token}`);
    expect(await call(ws, { id: 9, method: 'datasets.list', params: {} })).toEqual({ id: 9, result: [] });
    ws.close();
    const viaCookie = await connect(`ws://127.0.0.1:${h.server.port}/api`, { Cookie: cookie, Origin: `http://127.0.0.1:${h.server.port}` });
    viaCookie.close();
  });

  it('survives `Cookie: foo=%` and other malformed headers before authentication (HTTP and WebSocket upgrade)', async () => {
    const port = h.server.port;
    const plain = await rawRequest(port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: foo=%\r\n\r\n`);
    expect(plain).toMatch(/^HTTP\/1\.1 401 /);
    const upgrade = await rawRequest(
      port,
      `GET /api HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: foo=%\r\n\r\n`,
    );
    expect(upgrade).toMatch(/^HTTP\/1\.1 401 /);
    // A malformed cookie beside the right one does not lock the user out.
    const withToken = await rawRequest(
      port,
      `GET /api HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: foo=%; layerwise_token_${port}=${h.server.token}\r\n\r\n`,
    );
    expect(withToken).toMatch(/^HTTP\/1\.1 101 /);
    await expectSurvivesMalformed(h.server);
  });

  it('refuses to run without a token off loopback', async () => {
    await expect(startHostServer({ handle: h.app.handle, onEvent: h.app.onEvent, imageFile: h.app.imageFile, rendererDir: null, host: '0.0.0.0', port: 0, token: null })).rejects.toThrow(/loopback address only/);
  });
});

describe('headless host on 127.0.0.1 by default: a token like Jupyter', () => {
  const h = useTestHost();

  it('asks for a token on loopback too, prints it in the URL, and takes it from the URL, the cookie or the form', async () => {
    expect(h.server.token).toMatch(/^[\w-]{24,}$/);
    expect(h.server.url).toBe(`http://127.0.0.1:${h.server.port}/?token=${h.server.token}`);
    expect((await get(h.server.port, '/')).status).toBe(401);
    expect((await get(h.server.port, `/image/thumb/${'0'.repeat(64)}`)).status).toBe(401);
    await expect(connect(`ws://127.0.0.1:${h.server.port}/api`)).rejects.toThrow('refused: 401');
    // A browser without the token gets a form to paste it into (GET /?token=…), not a bare error.
    const form = await get(h.server.port, '/', { Accept: 'text/html' });
    expect(form.status).toBe(401);
    expect(form.body.toString()).toMatch(/<form method="get" action="\/"><label>Token <input name="token"/);
    expect(String(form.headers['content-security-policy'])).toContain("default-src 'self'");

    const page = await get(h.server.port, `/?token=${h.server.token}`);
    expect(page.status).toBe(200);
    const cookie = String(page.headers['set-cookie']).split(';')[0];
    expect(String(page.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await get(h.server.port, '/', { Cookie: cookie })).status).toBe(200);
    const ws = await connect(`ws://127.0.0.1:${h.server.port}/api?token=${h.server.token}`);
    expect(await call(ws, { id: 1, method: 'datasets.list', params: {} })).toEqual({ id: 1, result: [] });
    ws.close();
  });

  it('survives malformed headers, cookies and URLs before authentication', () => expectSurvivesMalformed(h.server));
});

describe.skipIf(!cifar)('back-pressure: clients that stop reading', () => {
  const events = new Emitter<ApiEvent>();
  // The app's events and, for the back-pressure test, events fired here.
  const h = useTestHost({
    onEvent: (app) => (l: (e: ApiEvent) => void) => {
      const a = app.onEvent(l);
      const b = events.event(l);
      return { dispose: () => (a.dispose(), b.dispose()) };
    },
    dataset: { name: 'forty', classes: ['airplane', 'cat'], perClass: 20 },
  });

  it('a client that stops reading is disconnected with 1008 and a reason; the host stays within its cap and keeps answering', async () => {
    const url = `ws://127.0.0.1:${h.server.port}/api?token=${h.server.token}`;
    const slow = await connect(url);
    const closed = new Promise<{ code: number; reason: string }>((resolve) => slow.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    slow.on('error', () => undefined);
    (slow as unknown as { _socket: import('node:net').Socket })._socket.pause(); // stops reading
    // Each reply is tens of kB (the dataset's items); ask for far more than the cap.
    const request = JSON.stringify({ id: 1, method: 'datasets.items', params: { datasetId: h.datasetId, offset: 0, limit: 5000 } });
    const one = (await call(await connect(url), JSON.parse(request))) as { result: unknown };
    const replyBytes = JSON.stringify(one).length;
    const count = Math.ceil((4 * MAX_CLIENT_BUFFER_BYTES) / replyBytes);
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, h.server.stats().bufferedBytes)), 5);
    try {
      for (let i = 0; i < count && h.server.stats().slowClientsClosed === 0; i++) {
        slow.send(request);
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await expect.poll(() => h.server.stats().slowClientsClosed, { timeout: 20_000 }).toBe(1);
      // Progress events of a training run meanwhile: coalesced, not queued.
      for (let step = 0; step < 2000; step++) events.fire({ event: 'run.progress', payload: { runId: 7, epoch: 0, epochs: 1, step, totalSteps: 2000, loss: 1, samplesPerSec: 1, etaSeconds: 1 } });
    } finally {
      clearInterval(watch);
    }
    peak = Math.max(peak, h.server.stats().bufferedBytes);
    console.log(`back-pressure: ${count} requests of ${replyBytes} B replies; peak queued ${(peak / 2 ** 20).toFixed(2)} MiB (cap ${MAX_CLIENT_BUFFER_BYTES / 2 ** 20} MiB)`);
    expect(peak).toBeLessThanOrEqual(MAX_CLIENT_BUFFER_BYTES + replyBytes + 64 * 1024);
    expect(h.server.stats().clients).toBe(1); // the one we asked with; the slow one is out

    // Another client is answered at once.
    const other = await connect(url);
    const t0 = performance.now();
    expect(await call(other, { id: 2, method: 'datasets.list', params: {} })).toMatchObject({ id: 2, result: [{ id: h.datasetId }] });
    expect(performance.now() - t0).toBeLessThan(1000);

    // Once the slow client reads again, it finds the reason after what was queued.
    (slow as unknown as { _socket: import('node:net').Socket })._socket.resume();
    const { code, reason } = await closed;
    expect(code).toBe(1008);
    expect(reason).toMatch(/client too slow: more than 8 MiB of replies and events unread/);
    other.close();
  });

  it('run.progress to a slow client is coalesced (newest per run kept), other clients get every event', async () => {
    const url = `ws://127.0.0.1:${h.server.port}/api?token=${h.server.token}`;
    const slow = await connect(url);
    const fast = await connect(url);
    const got = { slow: [] as number[], fast: [] as number[] };
    for (const [ws, list] of [[slow, got.slow], [fast, got.fast]] as const) {
      ws.on('message', (d) => {
        const f = JSON.parse(String(d)) as { event?: string; payload?: { step: number } };
        if (f.event === 'run.progress') list.push(f.payload!.step);
      });
    }
    const sock = (slow as unknown as { _socket: import('node:net').Socket })._socket;
    sock.pause();
    // Fill the slow client's queue past the soft limit with replies it does not read.
    const request = JSON.stringify({ id: 1, method: 'datasets.items', params: { datasetId: h.datasetId, offset: 0, limit: 5000 } });
    // (the kernel's socket buffers take the first few MB; then the host's queue grows)
    const baseline = h.server.stats().bufferedBytes;
    for (let i = 0; i < 5000 && h.server.stats().bufferedBytes - baseline < 2 * 1024 * 1024; i++) {
      slow.send(request);
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 10));
    }
    await expect.poll(() => h.server.stats().bufferedBytes - baseline, { timeout: 10_000 }).toBeGreaterThan(1024 * 1024);
    const coalescedBefore = h.server.stats().progressCoalesced;
    for (let step = 0; step < 500; step++) events.fire({ event: 'run.progress', payload: { runId: 9, epoch: 0, epochs: 1, step, totalSteps: 500, loss: 1, samplesPerSec: 1, etaSeconds: 1 } });
    expect(h.server.stats().progressCoalesced - coalescedBefore).toBeGreaterThan(400);
    sock.resume();
    await expect.poll(() => got.slow.at(-1), { timeout: 10_000 }).toBe(499);
    await expect.poll(() => got.fast.length, { timeout: 10_000 }).toBe(500);
    expect(got.slow.length).toBeLessThan(100);
    slow.close();
    fast.close();
  });
});

const builtHost = join(REPO_ROOT, 'out', 'main', 'host.js');
describe.skipIf(!existsSync(builtHost))('out/main/host.js (built host process)', () => {
  it('prints its URL, answers over WebSocket, and stops cleanly on SIGTERM (exit 0, database closed)', async () => {
    const dir = tempDataDir();
    try {
      const child = spawn(process.execPath, [builtHost, '--data-dir', dir.root, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Layerwise is running at (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.once('exit', () => reject(new Error(out)));
      });
      const port = Number(new URL(url).port);
      const token = new URL(url).searchParams.get('token')!;
      expect((await get(port, '/')).status).toBe(401);
      expect((await get(port, `/?token=${token}`)).status).toBe(200);
      const ws = await connect(`ws://127.0.0.1:${port}/api?token=${token}`, { Origin: `http://127.0.0.1:${port}` });
      expect(await call(ws, { id: 1, method: 'runs.list', params: {} })).toEqual({ id: 1, result: [] });
      ws.close();
      const t0 = performance.now();
      child.kill('SIGTERM');
      expect(await exited, out).toBe(0);
      console.log(`host: SIGTERM → exit in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      // The database was closed cleanly: the WAL was checkpointed and removed.
      expect(existsSync(join(dir.root, 'layerwise.sqlite-wal'))).toBe(false);
    } finally {
      dir.cleanup();
    }
  });
});

const startScript = join(REPO_ROOT, 'scripts', 'start.cjs');
describe.skipIf(!existsSync(builtHost) || !existsSync('/proc/self/stat'))('npm start (scripts/start.cjs → host process): signals', () => {
  const alive = processAlive;

  /** `node scripts/start.cjs -- --no-demo --data-dir D --port 0`, as `npm start -- …` runs it; resolves once the host prints its URL. */
  async function start(dataDir: string, detached: boolean, via: 'node' | 'npm' = 'node') {
    const hostArgs = ['--', '--no-demo', '--data-dir', dataDir, '--port', '0'];
    const [cmd, argv] = via === 'node' ? [process.execPath, [startScript, ...hostArgs]] : ['npm', ['start', '--silent', ...hostArgs]];
    const child = spawn(cmd, argv, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached,
      env: { ...process.env, LAYERWISE_NO_BUILD: '1', LAYERWISE_HEADLESS: '1' },
    });
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const url = await new Promise<URL>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Layerwise is running at (\S+)/.exec(out);
        if (m) resolve(new URL(m[1]));
      });
      child.once('exit', () => reject(new Error(out)));
    });
    expect(url.searchParams.get('token'), 'npm start prints the URL with the access token in it').toMatch(/^[\w-]{24,}$/);
    // npm → (exec) start.cjs → host: the launcher is npm's child, the host the launcher's.
    const launcher = via === 'node' ? child.pid! : childrenOf(child.pid!)[0];
    const hosts = childrenOf(launcher);
    expect(hosts).toHaveLength(1);
    // The host works and has written (WAL mode: a -wal file exists while it runs).
    const ws = await connect(`ws://127.0.0.1:${url.port}/api?token=${url.searchParams.get('token')}`);
    expect(await call(ws, { id: 1, method: 'runs.list', params: {} })).toEqual({ id: 1, result: [] });
    ws.close();
    expect(existsSync(join(dataDir, 'layerwise.sqlite-wal'))).toBe(true);
    return { child, launcher, host: hosts[0], exited, output: () => out };
  }

  function expectClosedCleanly(dir: TempDataDir): void {
    expect(existsSync(join(dir.root, 'layerwise.sqlite-wal'))).toBe(false); // checkpointed and removed on close
    const db = dir.openDb();
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  }

  it('SIGTERM to the start.cjs process alone stops the host cleanly (exit 0, host gone, database closed)', async () => {
    const dir = tempDataDir();
    try {
      const { child, host, exited, output } = await start(dir.root, false);
      process.kill(child.pid!, 'SIGTERM'); // only this pid, as a process manager or `kill PID` does
      expect(await exited, output()).toEqual({ code: 0, signal: null });
      expect(alive(host)).toBe(false);
      expect(output()).toContain('SIGTERM: stopping');
      expectClosedCleanly(dir);
    } finally {
      dir.cleanup();
    }
  });

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig} to the npm process alone (npm start) stops the host cleanly`, async () => {
      const dir = tempDataDir();
      try {
        const { child, launcher, host, exited, output } = await start(dir.root, true, 'npm');
        process.kill(child.pid!, sig); // only npm's pid
        await exited;
        await expect.poll(() => alive(host) || alive(launcher), { timeout: 20_000, interval: 200 }).toBe(false);
        expect(output()).toContain(`${sig}: stopping`);
        expectClosedCleanly(dir);
      } finally {
        dir.cleanup();
      }
    });
  }

  it('a launcher whose parent dies without a signal reaching it (npm SIGKILLed) stops the host', async () => {
    const dir = tempDataDir();
    try {
      const { child, launcher, host, output } = await start(dir.root, true, 'npm');
      process.kill(child.pid!, 'SIGKILL');
      await expect.poll(() => alive(host) || alive(launcher), { timeout: 20_000, interval: 200 }).toBe(false);
      expectClosedCleanly(dir);
      expect(output()).toContain('SIGTERM: stopping');
    } finally {
      dir.cleanup();
    }
  });

  it('Ctrl+C at a terminal (SIGINT to the whole process group: launcher and host) also stops it cleanly, exit 0', async () => {
    const dir = tempDataDir();
    try {
      const { child, host, exited, output } = await start(dir.root, true);
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited, output()).toEqual({ code: 0, signal: null });
      expect(alive(host)).toBe(false);
      expectClosedCleanly(dir);
    } finally {
      dir.cleanup();
    }
  });
});

describe('the npm start demo (--demo on first start, real engine)', () => {
  it('prints each epoch\'s validation accuracy and is still training a minute after it started (its epochs add up to ≥ 60 s)', async () => {
    const dir = tempDataDir();
    const lines: string[] = [];
    const host = await startHost({ dataDir: dir.root, port: 0, demo: true, rendererDir: '/nonexistent', log: (l) => lines.push(l) });
    try {
      const epochLines = (): string[] => lines.filter((l) => /^demo: epoch \d+: validation accuracy \d+\.\d+%$/.test(l));
      await expect.poll(() => epochLines().length, { timeout: 240_000, interval: 500 }).toBeGreaterThanOrEqual(2);
      const [run] = (await host.app.handle('runs.list', {})) as RunSummary[];
      const detail = host.app.runs.get(run.id);
      const metrics = (await host.app.handle('runs.metrics', { runId: run.id })) as Metric[];
      const seconds = metrics.filter((m) => m.name === 'epoch_seconds' && m.step === null).map((m) => m.value);
      const projected = detail.spec.training.epochs * Math.min(...seconds);
      console.log(`demo: ${detail.spec.training.epochs} epochs × ≥ ${Math.min(...seconds).toFixed(2)} s (the fastest epoch so far) = ${projected.toFixed(0)} s of training`);
      expect(lines.join('\n')).toMatch(/demo: training LeNet-5 on .* for \d+ epochs/);
      expect(run.status).toBe('running');
      expect(projected).toBeGreaterThanOrEqual(60);
    } finally {
      await host.stop(5000);
      dir.cleanup();
    }
  }, 300_000); // the poll waits up to 240 s for two epochs on a loaded machine
});

describe.skipIf(!cifar || !existsSync('/proc/self/stat'))('engine priority', () => {
  it('the headless host starts its engines at niceness 5 (LAYERWISE_ENGINE_NICE), so it gets the cores first; others at 0', async () => {
    const dir = tempDataDir();
    const input = tempDir();
    const host = await startHost({ dataDir: dir.root, port: 0, rendererDir: '/nonexistent', log: () => undefined });
    try {
      tinyCifarFolder(input.path, ['airplane', 'cat'], 4);
      const { jobId } = await host.app.datasets.startImport({ path: input.path, name: 'eight' });
      const datasetId = (await host.app.datasets.waitForImport(jobId)).datasetId!;
      const started = new Promise<void>((resolve) => host.app.onEvent((e) => e.event === 'run.status' && e.payload.status === 'running' && resolve()));
      const { runId } = (await host.app.handle('runs.start', { spec: linearSpec(datasetId, { epochs: 500, batchSize: 1 }) })) as { runId: number };
      await started;
      const nices = childrenOf(process.pid).map((n) => Number(procStat(n)?.[16]));
      expect(nices).toContain(5);
      await host.app.handle('runs.cancel', { runId });
    } finally {
      await host.stop(5000);
      input.cleanup();
      dir.cleanup();
    }
    expect(defaultEngineNiceness({})).toBe(0);
    expect(defaultEngineNiceness({ LAYERWISE_ENGINE_NICE: '12' }, 5)).toBe(12);
    expect(defaultEngineNiceness({ LAYERWISE_ENGINE_NICE: '99' }, 5)).toBe(5);
  });
});
