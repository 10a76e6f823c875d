// @vitest-environment happy-dom
/**
 * After a host restart the page's token is no longer accepted: the WebSocket upgrade is refused
 * with 401 and the client must say so and stop retrying, not show "reconnecting…" forever.
 * A real HTTP server answers upgrades and plain GETs like the host: 401 without the right token.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { WsClient, type WebSocketCtor } from '../../src/renderer/api/client';
import ConnectionBanner from '../../src/renderer/components/ConnectionBanner.vue';
import { useConnectionStore } from '../../src/renderer/stores/connection';

const BrowserWebSocket = (globalThis as unknown as { WebSocket: WebSocketCtor }).WebSocket;

let server: Server;
let wss: WebSocketServer;
let port: number;
let upgrades: number;
let clients: WsClient[];

function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => (cond() ? resolve() : Date.now() - t0 > ms ? reject(new Error('timed out')) : setTimeout(tick, 10));
    tick();
  });
}

beforeEach(async () => {
  upgrades = 0;
  clients = [];
  server = createServer((req, res) => {
    // The test page's origin differs from this server's (the real page is same-origin): allow CORS.
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', '*');
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    const ok = new URL(req.url ?? '/', 'http://x').searchParams.get('token') === 'new-token';
    res.statusCode = ok ? 426 : 401;
    res.end(ok ? 'the API is served over WebSocket\n' : 'a token is required\n');
  });
  wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    upgrades++;
    const ok = new URL(req.url ?? '/', 'http://x').searchParams.get('token') === 'new-token';
    if (!ok) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  clients.forEach((c) => c.dispose());
  wss.close();
  await new Promise<void>((r) => server.close(() => r()));
});

function client(token: string): WsClient {
  const c = new WsClient(`ws://127.0.0.1:${port}/api?token=${token}`, { WebSocket: BrowserWebSocket, initialDelayMs: 20, maxDelayMs: 40 });
  clients.push(c);
  return c;
}

describe('WsClient with a token the host no longer accepts', () => {
  it('stops retrying and says the token was refused', async () => {
    setActivePinia(createPinia());
    const store = useConnectionStore();
    const c = client('old-token');
    c.onState((s) => store.set(s));
    const pending = c.call('system.info', {}).catch((e: Error) => e);
    await until(() => c.state === 'unauthorized');
    const err = await pending;
    expect(String((err as Error).message)).toMatch(/token/);
    const tries = upgrades;
    await new Promise((r) => setTimeout(r, 300)); // many backoff periods (20–40 ms)
    expect(upgrades).toBe(tries);
    const banner = mount(ConnectionBanner).get('[data-testid="connection-banner"]').text();
    expect(banner).toMatch(/no longer accepts this page's token/);
    expect(banner).not.toMatch(/reconnecting/);
  });

  it('with the right token it connects (the probe does not refuse a good page)', async () => {
    const c = client('new-token');
    await until(() => c.state === 'open');
  });
});
