/**
 * The headless host: HTTP (renderer, images, CSP), the WebSocket API and its guards
 * (Origin, token, Host, message validation), against a real app in a temp data dir.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startHostServer, type HostServer } from '../../src/main/host/server';
import { createApp, type App } from '../../src/main/services/app';
import type { Item, WireResponse } from '../../src/shared/api';
import { REPO_ROOT, tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { cifar, RecordingLauncher, tinyCifarFolder } from './runs-helpers';

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

function call(ws: WebSocket, msg: unknown): Promise<WireResponse> {
  return new Promise((resolve) => {
    ws.once('message', (data) => resolve(JSON.parse(String(data)) as WireResponse));
    ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  });
}

describe('headless host on 127.0.0.1', () => {
  let dir: TempDataDir;
  let renderer: { path: string; cleanup(): void };
  let app: App;
  let server: HostServer;
  let hash: string | null = null;

  beforeAll(async () => {
    dir = tempDataDir();
    renderer = tempDir();
    writeFileSync(join(renderer.path, 'index.html'), '<!doctype html><title>Layerwise test UI</title>');
    mkdirSync(join(renderer.path, 'assets'));
    writeFileSync(join(renderer.path, 'assets', 'app.js'), 'console.log(1)');
    app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher() });
    server = await startHostServer({ handle: app.handle, onEvent: app.onEvent, imageFile: app.imageFile, rendererDir: renderer.path, port: 0 });
    if (cifar) {
      const input = tempDir();
      tinyCifarFolder(input.path, ['airplane', 'cat'], 2);
      const { jobId } = await app.datasets.startImport({ path: input.path, name: 'four' });
      const job = await app.datasets.waitForImport(jobId);
      hash = app.datasets.items({ datasetId: job.datasetId!, offset: 0, limit: 1 }).items[0]?.hash ?? null;
      input.cleanup();
    }
  });
  afterAll(async () => {
    await server?.close();
    await server?.close(); // safe twice
    await app?.shutdown(1000);
    renderer?.cleanup();
    dir?.cleanup();
  });

  it('prints a loopback URL without a token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    expect(server.token).toBeNull();
  });

  it('serves the renderer with a strict CSP; client routes fall back to index.html; no path traversal', async () => {
    const index = await get(server.port, '/');
    expect(index.status).toBe(200);
    expect(index.body.toString()).toContain('Layerwise test UI');
    const csp = String(index.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect((await get(server.port, '/assets/app.js')).headers['content-type']).toContain('javascript');
    expect((await get(server.port, '/runs/3')).body.toString()).toContain('Layerwise test UI');
    expect((await get(server.port, '/assets/missing.js')).status).toBe(404);
    expect((await get(server.port, '/../../etc/passwd')).body.toString()).not.toContain('root:');
    expect((await get(server.port, '/..%2f..%2f..%2fetc%2fpasswd')).status).toBe(403);
  });

  it('refuses a bad image hash (400) and an unknown one (404)', async () => {
    expect((await get(server.port, '/image/thumb/not-a-hash')).status).toBe(400);
    expect((await get(server.port, '/image/full/..%2F..%2Flayerwise.sqlite')).status).toBe(400);
    expect((await get(server.port, `/image/thumb/${'A'.repeat(64)}`)).status).toBe(400);
    expect((await get(server.port, `/image/thumb/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await get(server.port, `/image/huge/${'0'.repeat(64)}`)).status).toBe(404);
  });

  it.skipIf(!cifar)('serves an imported image and its thumbnail as PNG', async () => {
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    for (const kind of ['thumb', 'full']) {
      const r = await get(server.port, `/image/${kind}/${hash}`);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('image/png');
      expect(r.body.subarray(1, 4).toString()).toBe('PNG');
    }
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    expect((await get(server.port, '/', { Host: `evil.example:${server.port}` })).status).toBe(421);
  });

  it('answers API calls over WebSocket, validating every message', async () => {
    const ws = await connect(`ws://127.0.0.1:${server.port}/api`, { Origin: `http://127.0.0.1:${server.port}` });
    try {
      const info = await call(ws, { id: 1, method: 'system.info', params: {} });
      expect(info).toMatchObject({ id: 1, result: { host: 'headless', dataDir: dir.root } });
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
    const a = await connect(`ws://127.0.0.1:${server.port}/api`);
    const b = await connect(`ws://localhost:${server.port}/api`, { Origin: `http://localhost:${server.port}` });
    const input = tempDir();
    try {
      const got = [a, b].map((ws) => new Promise<{ event: string }>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d))))));
      tinyCifarFolder(input.path, ['dog', 'frog'], 2);
      await app.handle('datasets.import', { path: input.path });
      for (const e of await Promise.all(got)) expect(e.event).toMatch(/^import\.(progress|finished)$/);
    } finally {
      a.close();
      b.close();
      input.cleanup();
    }
  });

  it('refuses a WebSocket from a foreign Origin (cross-site WebSocket hijacking)', async () => {
    await expect(connect(`ws://127.0.0.1:${server.port}/api`, { Origin: 'http://evil.example' })).rejects.toThrow('refused: 403');
    await expect(connect(`ws://127.0.0.1:${server.port}/api`, { Origin: `http://127.0.0.1:${server.port + 1}` })).rejects.toThrow('refused: 403');
    await expect(connect(`ws://127.0.0.1:${server.port}/other`)).rejects.toThrow('refused: 404');
  });

  it('closes a connection that sends an oversized message', async () => {
    const ws = await connect(`ws://127.0.0.1:${server.port}/api`);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    ws.send(JSON.stringify({ id: 1, method: 'system.info', params: { pad: 'x'.repeat(2 * 1024 * 1024) } }));
    expect(await closed).toBe(1009);
  });
});

describe('headless host off loopback', () => {
  let dir: TempDataDir;
  let app: App;
  let server: HostServer;
  beforeAll(async () => {
    dir = tempDataDir();
    app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher() });
    server = await startHostServer({ handle: app.handle, onEvent: app.onEvent, imageFile: app.imageFile, rendererDir: null, host: '0.0.0.0', port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await app?.shutdown(1000);
    dir?.cleanup();
  });

  it('generates a token and prints it in the URL', () => {
    expect(server.token).toMatch(/^[\w-]{24,}$/);
    expect(server.url).toBe(`http://0.0.0.0:${server.port}/?token=${server.token}`);
  });

  it('refuses HTTP and WebSocket without the token; accepts it in the query or the cookie it sets', async () => {
    expect((await get(server.port, '/')).status).toBe(401);
    expect((await get(server.port, `/image/thumb/${'0'.repeat(64)}`)).status).toBe(401);
    expect((await get(server.port, '/?token=wrong')).status).toBe(401);
    await expect(connect(`ws://127.0.0.1:${server.port}/api`)).rejects.toThrow('refused: 401');
    await expect(connect(`ws://127.0.0.1:${server.port}/api?token=wrong`)).rejects.toThrow('refused: 401');

    const page = await get(server.port, `/?token=${server.token}`);
    expect(page.status).toBe(200); // the placeholder page: no renderer given
    const cookie = String(page.headers['set-cookie']).split(';')[0];
    expect(cookie).toContain(`layerwise_token_${server.port}=`);
    expect((await get(server.port, `/image/thumb/${'0'.repeat(64)}`, { Cookie: cookie })).status).toBe(404);

    const ws = await connect(`ws://127.0.0.1:${server.port}/api?token=${server.token}`);
    expect(await call(ws, { id: 9, method: 'datasets.list', params: {} })).toEqual({ id: 9, result: [] });
    ws.close();
    const viaCookie = await connect(`ws://127.0.0.1:${server.port}/api`, { Cookie: cookie, Origin: `http://127.0.0.1:${server.port}` });
    viaCookie.close();
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
          const m = /Layerwise is running at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.once('exit', () => reject(new Error(out)));
      });
      const port = Number(new URL(url).port);
      expect((await get(port, '/')).status).toBe(200);
      const ws = await connect(`ws://127.0.0.1:${port}/api`, { Origin: `http://127.0.0.1:${port}` });
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
