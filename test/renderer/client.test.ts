// @vitest-environment happy-dom
/**
 * The WebSocket client against a real `ws` server: request ids, out-of-order responses,
 * errors with code and field, events, queued sends, and reconnecting after a drop.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { ApiError, WsClient, apiSocketUrl, pageToken, takePageToken, urlWithoutToken, type WebSocketCtor } from '../../src/renderer/api/client';

// happy-dom's WebSocket (the environment's browser WebSocket).
const BrowserWebSocket = (globalThis as unknown as { WebSocket: WebSocketCtor }).WebSocket ?? (window as unknown as { WebSocket: WebSocketCtor }).WebSocket;

let wss: WebSocketServer;
let url: string;
let sockets: ServerSocket[];
let received: { id: number; method: string; params: unknown }[];
let clients: WsClient[];

function until(cond: () => boolean, ms = 3000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => (cond() ? resolve() : Date.now() - t0 > ms ? reject(new Error('timed out')) : setTimeout(tick, 10));
    tick();
  });
}

beforeEach(async () => {
  sockets = [];
  received = [];
  clients = [];
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/api?token=abc`;
  wss.on('connection', (ws, req) => {
    sockets.push(ws);
    (ws as unknown as { path: string }).path = req.url ?? '';
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      received.push(msg);
      const reply = (body: object, delay = 0) => setTimeout(() => ws.send(JSON.stringify({ id: msg.id, ...body })), delay);
      if (msg.method === 'datasets.get') {
        // Answer later requests first: ids must route each answer to its own caller.
        reply({ result: { echo: msg.params.datasetId } }, msg.params.datasetId === 1 ? 60 : 5);
      } else if (msg.method === 'runs.start') {
        reply({ error: { message: 'Too small: expected number to be >=1', code: 'invalid_params', field: 'spec.training.batchSize' } });
      } else if (msg.method === 'system.info') {
        reply({ result: { version: '0.1.0', dataDir: '/x', host: 'headless', sampleDatasetPath: null } });
      }
    });
  });
});

afterEach(async () => {
  clients.forEach((c) => c.dispose());
  await new Promise<void>((r) => wss.close(() => r()));
});

function client(): WsClient {
  const c = new WsClient(url, { WebSocket: BrowserWebSocket, initialDelayMs: 20, maxDelayMs: 50 });
  clients.push(c);
  return c;
}

describe('WsClient', () => {
  it('uses a browser WebSocket implementation', () => {
    expect(typeof BrowserWebSocket).toBe('function');
  });

  it('matches responses to requests by id, whatever their order', async () => {
    const c = client();
    const [a, b, d] = await Promise.all([c.call('datasets.get', { datasetId: 1 }), c.call('datasets.get', { datasetId: 2 }), c.call('datasets.get', { datasetId: 3 })]);
    expect([a, b, d]).toEqual([{ echo: 1 }, { echo: 2 }, { echo: 3 }]);
    const ids = received.map((m) => m.id);
    expect(new Set(ids).size).toBe(3);
    expect(received[0]).toMatchObject({ method: 'datasets.get', params: { datasetId: 1 } });
    expect((sockets[0] as unknown as { path: string }).path).toBe('/api?token=abc');
  });

  it('surfaces server errors as ApiError with code and field', async () => {
    const c = client();
    const err = await c.call('runs.start', { spec: {} }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('Too small: expected number to be >=1');
    expect(err.code).toBe('invalid_params');
    expect(err.field).toBe('spec.training.batchSize');
  });

  it('delivers pushed events to listeners until they unsubscribe', async () => {
    const c = client();
    await c.call('system.info', {});
    const got: unknown[] = [];
    const off = c.on('run.status', (p) => got.push(p));
    const payload = { runId: 7, status: 'running', backend: 'wasm', error: null };
    sockets[0].send(JSON.stringify({ event: 'run.status', payload }));
    await until(() => got.length === 1);
    expect(got[0]).toEqual(payload);
    off();
    sockets[0].send(JSON.stringify({ event: 'run.status', payload }));
    await c.call('system.info', {});
    expect(got).toHaveLength(1);
  });

  it('fails in-flight requests when the connection drops, then reconnects and carries on', async () => {
    const c = client();
    const states: string[] = [];
    c.onState((s) => states.push(s));
    await c.call('system.info', {});
    expect(c.state).toBe('open');
    // A request the server never answers, then a drop.
    const lost = c.call('imports.get', { jobId: 1 }).catch((e) => e);
    await until(() => received.some((m) => m.method === 'imports.get'));
    sockets[0].terminate();
    const err = await lost;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('disconnected');
    await until(() => c.state === 'open' && sockets.length === 2);
    expect(states).toContain('reconnecting');
    await expect(c.call('datasets.get', { datasetId: 5 })).resolves.toEqual({ echo: 5 });
  });

  it('queues requests made before the socket opens', async () => {
    const c = client();
    expect(c.state).toBe('connecting');
    const r = c.call('datasets.get', { datasetId: 9 });
    await expect(r).resolves.toEqual({ echo: 9 });
  });
});

describe('transport URLs', () => {
  it('derives ws(s)://host/api and passes the page token on', () => {
    expect(apiSocketUrl({ protocol: 'http:', host: '127.0.0.1:8080', search: '?token=t%201', hash: '#/runs' })).toBe('ws://127.0.0.1:8080/api?token=t%201');
    expect(apiSocketUrl({ protocol: 'https:', host: 'gpu.example', search: '', hash: '' })).toBe('wss://gpu.example/api');
    expect(pageToken({ search: '', hash: '#/runs?token=xyz' })).toBe('xyz');
  });

  it('takes the token from the URL the host printed, remembers it for the tab and removes it from the address bar', () => {
    window.history.replaceState(null, '', '/?token=s3cret-token#/runs/3?tab=curves&token=s3cret-token');
    window.sessionStorage.clear();
    expect(takePageToken(window)).toBe('s3cret-token');
    expect(window.location.search).toBe('');
    expect(window.location.hash).toBe('#/runs/3?tab=curves');
    expect(window.sessionStorage.getItem('layerwise.token')).toBe('s3cret-token');
    // A reload (the token no longer in the URL) still has it; the socket URL carries it.
    expect(takePageToken(window)).toBe('s3cret-token');
    expect(apiSocketUrl(window.location, takePageToken(window))).toBe(`ws://${window.location.host}/api?token=s3cret-token`);
    expect(urlWithoutToken('http://h:1/?a=1&token=x#/d?token=y')).toBe('http://h:1/?a=1#/d');
  });
});

describe('IpcClient (Electron preload bridge)', () => {
  it('unwraps results and envelopes, keeps code and field of refused calls, and builds layerwise:// image URLs', async () => {
    const { IpcClient } = await import('../../src/renderer/api/client');
    const listeners: ((p: unknown) => void)[] = [];
    const bridge = {
      call: async (method: string, params: any) => {
        if (method === 'datasets.list') return [{ id: 1 }];
        if (method === 'imports.get') return { id: 9, result: 'not an envelope', error: null, status: 'done' };
        if (method === 'datasets.get') return { id: 4, result: { name: 'wrapped', datasetId: params.datasetId } };
        if (method === 'runs.start') return { id: 5, error: { message: 'Too big', code: 'invalid_params', field: 'spec.training.epochs' } };
        throw Object.assign(new Error("Error invoking remote method 'layerwise:call': Error: run not found"), { code: 'not_found' });
      },
      on: (_e: string, l: (p: unknown) => void) => {
        listeners.push(l);
        return () => undefined;
      },
    };
    const c = new IpcClient(bridge);
    expect(await c.call('datasets.list', {})).toEqual([{ id: 1 }]);
    expect(await c.call('datasets.get', { datasetId: 2 })).toEqual({ name: 'wrapped', datasetId: 2 });
    expect(await c.call('imports.get', { jobId: 9 })).toMatchObject({ status: 'done' });
    const refused = await c.call('runs.start', { spec: {} }).catch((e) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect([refused.code, refused.field, refused.message]).toEqual(['invalid_params', 'spec.training.epochs', 'Too big']);
    const missing = await c.call('runs.get', { runId: 3 }).catch((e) => e);
    expect([missing.code, missing.message]).toEqual(['not_found', 'run not found']);
    expect(c.imageUrl('abc', 'thumb')).toBe('layerwise://image/thumb/abc');
  });
});
