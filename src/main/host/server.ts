/**
 * The headless host's server: node:http serving the built renderer and the images, and
 * the API over WebSocket at `/api` (JSON text frames: WireRequest → WireResponse; every
 * event pushed to every client as a WireEvent).
 *
 * Security:
 *  - listens on 127.0.0.1 by default and asks for a token on every interface, like
 *    Jupyter (generated unless given; `token: null`, i.e. `--no-token`, only on loopback),
 *    checked on every HTTP request and on the WebSocket upgrade (`?token=` or the cookie
 *    set when the page was opened with it);
 *  - no exception from reading a request (headers, cookies, URLs, messages) escapes: the
 *    request gets 400 and the host stays up;
 *  - back-pressure: a client that does not read is disconnected (1008 and a reason) once
 *    more than MAX_CLIENT_BUFFER_BYTES are queued to it; progress events to a slow client
 *    are coalesced, not queued;
 *  - the Host header must name a loopback address on a loopback server (DNS rebinding);
 *  - the WebSocket upgrade must come from the host's own origin (cross-site WebSocket
 *    hijacking); clients that send no Origin (not browsers) are allowed;
 *  - every message is size-limited, parsed and schema-checked before it reaches the API;
 *  - a strict Content-Security-Policy on every response.
 * (One file of ~450 lines: the HTTP and WebSocket halves share the token, Host and
 * back-pressure state; the plain HTTP helpers are in ./http.ts.)
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { WireRequestSchema, type WireEvent, type WireResponse } from '../../shared/api';
import { MAX_MESSAGE_BYTES } from '../../shared/limits';
import { formatZodError } from '../../shared/spec';
import type { ApiEvent, Disposable } from '../events';
import { contentSecurityPolicy, isLoopback, MIME, parseCookies, PLACEHOLDER, sameSecret, sniffImageType, TOKEN_PAGE } from './http';

export { contentSecurityPolicy, isLoopback, parseCookies };
import { toApiError, type ApiHandler } from '../services/api-router';

export const DEFAULT_PORT = 7700;
/** Largest accepted WebSocket message, bytes: the one limit the renderer's upload batching is derived from too. */
export { MAX_MESSAGE_BYTES };
/**
 * Most bytes queued to one client before it is disconnected (close code 1008 and a reason).
 * A check runs before every send, so one client holds at most this plus one message.
 */
export const MAX_CLIENT_BUFFER_BYTES = 8 * 1024 * 1024;
/** Close code for a client that does not read what it asked for (RFC 6455 1008, policy violation). */
export const SLOW_CLIENT_CLOSE_CODE = 1008;
/** How long a client being closed for slowness gets to read the close frame before the socket is destroyed, ms. */
const SLOW_CLIENT_GRACE_MS = 10_000;
const HASH_RE = /^[0-9a-f]{64}$/;

export interface HostServerOptions {
  /** The API (createApp().handle). */
  handle: ApiHandler;
  /** API events to push to clients. */
  onEvent: (listener: (e: ApiEvent) => void) => Disposable;
  /** The file of an image, or null; may be made first (a thumbnail still pending: DatasetService.servedFile). */
  imageFile(hash: string, kind: 'thumb' | 'full'): string | null | Promise<string | null>;
  /** The built renderer (folder holding index.html); null or missing → a placeholder page. */
  rendererDir: string | null;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 = a free one. Default 7700. */
  port?: number;
  /**
   * Access token, asked for on every interface (like Jupyter). Not given: a random one.
   * `null`: no token, allowed on a loopback address only.
   */
  token?: string | null;
  /** Largest WebSocket message, bytes (default MAX_MESSAGE_BYTES, 16 MiB). */
  maxMessageBytes?: number;
  /** Most bytes queued to one client before it is disconnected (default MAX_CLIENT_BUFFER_BYTES, 8 MiB). */
  maxClientBufferBytes?: number;
}

/** What the server holds for its clients right now. */
export interface HostServerStats {
  /** Open WebSocket clients (not counting those being closed). */
  clients: number;
  /** Bytes queued to all clients together. */
  bufferedBytes: number;
  /** Clients disconnected so far because they did not read (close code 1008). */
  slowClientsClosed: number;
  /** `run.progress` events replaced by a newer one before a slow client could take them. */
  progressCoalesced: number;
}

export interface HostServer {
  /** Where to open the app, with `?token=` when one is required. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string | null;
  /** Counters of the clients and their send buffers. */
  stats(): HostServerStats;
  /** Stop listening and close every connection. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Start the server. Resolves once it listens.
 * @throws Error when `token` is null off loopback, or when the address is taken (EADDRINUSE) or cannot be bound.
 */
export async function startHostServer(opts: HostServerOptions): Promise<HostServer> {
  const bindHost = opts.host ?? '127.0.0.1';
  const loopback = isLoopback(bindHost);
  if (opts.token === null && !loopback) throw new Error(`no token (--no-token) is allowed on a loopback address only, not on ${bindHost}: anyone who can reach it could use the app`);
  if (opts.token !== undefined && opts.token !== null && opts.token.length < 8) throw new Error('token: at least 8 characters');
  const token = opts.token === undefined ? randomBytes(24).toString('base64url') : opts.token;
  const maxBuffered = opts.maxClientBufferBytes ?? MAX_CLIENT_BUFFER_BYTES;
  const counters = { slowClientsClosed: 0, progressCoalesced: 0 };
  const rendererDir = opts.rendererDir && existsSync(join(opts.rendererDir, 'index.html')) ? resolve(opts.rendererDir) : null;
  let port = opts.port ?? DEFAULT_PORT;
  const cookieName = (): string => `layerwise_token_${port}`;

  /** The Host header if acceptable (loopback names on a loopback server; anything with a token), else null. */
  const checkHost = (req: IncomingMessage): string | null => {
    const host = req.headers.host;
    if (!host || host.length > 300) return null;
    if (token === null || loopback) {
      const name = host.replace(/:\d+$/, '');
      if (!isLoopback(name) && name.replace(/^\[|\]$/g, '') !== bindHost) return null;
    }
    return host;
  };

  /** Token from `?token=` or the cookie; true when none is required. */
  const checkToken = (req: IncomingMessage, url: URL): { ok: boolean; fromQuery: boolean } => {
    if (token === null) return { ok: true, fromQuery: false };
    const q = url.searchParams.get('token');
    if (q !== null && sameSecret(q, token)) return { ok: true, fromQuery: true };
    const c = parseCookies(req.headers.cookie)[cookieName()];
    return { ok: c !== undefined && sameSecret(c, token), fromQuery: false };
  };

  const securityHeaders = (res: ServerResponse, hostPort: string): void => {
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(hostPort));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  };

  const fail = (res: ServerResponse, status: number, message: string): void => {
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(`${message}\n`);
  };

  const sendFile = (req: IncomingMessage, res: ServerResponse, file: string, type: string, cache: string): void => {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return fail(res, 404, 'not found');
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Length', size);
    res.setHeader('Cache-Control', cache);
    if (req.method === 'HEAD') return void res.end();
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  };

  /** The reply to a request without the token: a form to paste it into (browsers), else plain text. */
  const askForToken = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'GET' && /text\/html/.test(req.headers.accept ?? '')) {
      res.statusCode = 401;
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      return void res.end(TOKEN_PAGE);
    }
    fail(res, 401, 'a token is required: open the URL printed by `layerwise serve` (it ends in ?token=…)');
  };

  /** Any exception while reading a request (malformed headers, URLs, cookies) answers 400; none escapes to crash the host. */
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      handleRequest(req, res);
    } catch (err) {
      console.error(`[layerwise] bad HTTP request ${JSON.stringify(String(req.url).slice(0, 200))}: ${(err as Error).message}`);
      if (!res.headersSent) fail(res, 400, 'bad request');
      else res.destroy();
    }
  };

  const handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const hostPort = checkHost(req);
    if (!hostPort) return fail(res, 421, 'unknown Host header');
    securityHeaders(res, hostPort);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return fail(res, 405, 'method not allowed');
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${hostPort}`);
    } catch {
      return fail(res, 400, 'bad URL');
    }
    const auth = checkToken(req, url);
    if (!auth.ok) return askForToken(req, res);
    if (auth.fromQuery && token) res.setHeader('Set-Cookie', `${cookieName()}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`);

    const img = /^\/image\/(thumb|full)\/([^/]*)$/.exec(url.pathname);
    if (img) {
      const kind = img[1] as 'thumb' | 'full';
      const hash = img[2];
      if (!HASH_RE.test(hash)) return fail(res, 400, 'bad image hash: expected 64 lowercase hex digits');
      const serve = (file: string | null): void => {
        if (!file) return fail(res, 404, 'no such image');
        // Content-addressed: never changes.
        sendFile(req, res, file, sniffImageType(file), 'private, max-age=31536000, immutable');
      };
      const file = opts.imageFile(hash, kind);
      if (typeof file === 'string' || file === null) return serve(file);
      file.then(serve, (err: unknown) => {
        console.error(`[layerwise] image ${kind}/${hash}: ${(err as Error).message}`);
        if (!res.headersSent) fail(res, 500, 'the image could not be prepared');
      });
      return;
    }
    if (url.pathname.startsWith('/image/')) return fail(res, 404, 'not found: images are at /image/thumb/<hash> and /image/full/<hash>');
    if (url.pathname === '/api') return fail(res, 426, 'the API is served over WebSocket');

    if (!rendererDir) {
      if (url.pathname !== '/' && url.pathname !== '/index.html') return fail(res, 404, 'not found');
      res.statusCode = 200;
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      return void res.end(req.method === 'HEAD' ? undefined : PLACEHOLDER);
    }
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return fail(res, 400, 'bad URL');
    }
    if (rel.includes('\0')) return fail(res, 400, 'bad URL');
    const file = resolve(rendererDir, normalize('.' + rel));
    if (file !== rendererDir && !file.startsWith(rendererDir + sep)) return fail(res, 403, 'forbidden');
    let target = file;
    let isFile = false;
    try {
      isFile = statSync(file).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) {
      // Client-side routes (no extension) get the app; missing assets get 404.
      if (extname(rel) !== '' && rel !== '/') return fail(res, 404, 'not found');
      target = join(rendererDir, 'index.html');
    }
    const ext = extname(target).toLowerCase();
    const cache = ext === '.html' ? 'no-cache' : rel.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    return sendFile(req, res, target, MIME[ext] ?? 'application/octet-stream', cache);
  };

  const server = createServer(onRequest);
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes ?? MAX_MESSAGE_BYTES, perMessageDeflate: false });
  // Malformed requests get Node's own 400; a failing socket is dropped. Neither may take the host down.
  server.on('clientError', (_err, socket: Duplex) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  wss.on('error', (err) => console.error(`[layerwise] WebSocket server: ${err.message}`));

  const refuse = (socket: Duplex, status: number, text: string): void => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    try {
      upgrade(req, socket, head);
    } catch (err) {
      console.error(`[layerwise] bad WebSocket upgrade ${JSON.stringify(String(req.url).slice(0, 200))}: ${(err as Error).message}`);
      if (socket.writable) refuse(socket, 400, 'Bad Request');
      else socket.destroy();
    }
  });

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const hostPort = checkHost(req);
    if (!hostPort) return refuse(socket, 421, 'Misdirected Request');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${hostPort}`);
    } catch {
      return refuse(socket, 400, 'Bad Request');
    }
    if (url.pathname !== '/api') return refuse(socket, 404, 'Not Found');
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${hostPort}`) return refuse(socket, 403, 'Forbidden');
    if (!checkToken(req, url).ok) return refuse(socket, 401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };

  /**
   * Back-pressure. Before every send the client's queue (ws.bufferedAmount) is checked: above
   * `maxBuffered` the client is closed with 1008 and a reason, and nothing more is queued to it.
   * Above `softBuffered`, `run.progress` events are coalesced (the newest per run is kept and
   * sent once the queue drains) instead of queued.
   */
  const softBuffered = Math.min(1024 * 1024, Math.floor(maxBuffered / 4));
  interface ClientState {
    closing: boolean;
    /** runId → the newest `run.progress` frame not yet sent. */
    progress: Map<number, string>;
  }
  const clients = new Map<WebSocket, ClientState>();

  const disconnectSlow = (ws: WebSocket, state: ClientState): void => {
    state.closing = true;
    state.progress.clear();
    counters.slowClientsClosed++;
    const mib = (maxBuffered / 1024 / 1024).toFixed(maxBuffered % (1024 * 1024) ? 2 : 0);
    ws.close(SLOW_CLIENT_CLOSE_CODE, `client too slow: more than ${mib} MiB of replies and events unread`);
    setTimeout(() => ws.terminate(), SLOW_CLIENT_GRACE_MS).unref();
  };

  /** Queue `text` to `ws` unless it is closing or has more than `maxBuffered` bytes unread (then it is disconnected). */
  const sendText = (ws: WebSocket, text: string): boolean => {
    const state = clients.get(ws);
    if (!state || state.closing || ws.readyState !== WebSocket.OPEN) return false;
    if (ws.bufferedAmount > maxBuffered) {
      disconnectSlow(ws, state);
      return false;
    }
    ws.send(text);
    return true;
  };

  const send = (ws: WebSocket, msg: WireResponse): void => {
    sendText(ws, JSON.stringify(msg));
  };

  /** Send the coalesced progress frames of a client whose queue has drained below the soft limit. */
  const flushProgress = (ws: WebSocket, state: ClientState): void => {
    if (state.progress.size === 0 || ws.bufferedAmount > softBuffered) return;
    const frames = [...state.progress.values()];
    state.progress.clear();
    for (const f of frames) sendText(ws, f);
  };
  const flushTimer = setInterval(() => {
    for (const [ws, state] of clients) flushProgress(ws, state);
  }, 250);
  flushTimer.unref();

  wss.on('connection', (ws: WebSocket) => {
    const state: ClientState = { closing: false, progress: new Map() };
    clients.set(ws, state);
    ws.on('close', () => clients.delete(ws));
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      try {
        onMessage(ws, data, isBinary);
      } catch (err) {
        console.error(`[layerwise] message handling failed: ${(err as Error).message}`);
        send(ws, { id: 0, error: { code: 'internal', message: 'the host could not handle this message' } });
      }
    });
  });

  const onMessage = (ws: WebSocket, data: RawData, isBinary: boolean): void => {
    if (isBinary) return send(ws, { id: 0, error: { code: 'invalid_params', message: 'messages must be JSON text frames' } });
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString());
    } catch {
      return send(ws, { id: 0, error: { code: 'invalid_params', message: 'message is not valid JSON' } });
    }
    const parsed = WireRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const id = typeof (raw as { id?: unknown })?.id === 'number' && Number.isInteger((raw as { id: number }).id) ? (raw as { id: number }).id : 0;
      return send(ws, { id, error: { code: 'invalid_params', message: `bad request message: ${formatZodError(parsed.error)}` } });
    }
    const { id, method, params } = parsed.data;
    Promise.resolve()
      // A client being closed (too slow) or gone gets no more work done for it.
      .then(() => (clients.get(ws)?.closing === false && ws.readyState === WebSocket.OPEN ? opts.handle(method, params) : undefined))
      .then(
        (result) => send(ws, { id, result: result ?? null }),
        (err) => send(ws, { id, error: toApiError(err) }),
      );
  };

  const subscription = opts.onEvent((e) => {
    const wire: WireEvent = { event: e.event, payload: e.payload };
    const text = JSON.stringify(wire);
    const progressRun = e.event === 'run.progress' ? e.payload.runId : null;
    const statusRun = e.event === 'run.status' ? e.payload.runId : null;
    for (const [ws, state] of clients) {
      if (state.closing || ws.readyState !== WebSocket.OPEN) continue;
      // A finished run's pending progress is stale: its status says more.
      if (statusRun !== null) state.progress.delete(statusRun);
      if (progressRun !== null && (ws.bufferedAmount > softBuffered || state.progress.size > 0)) {
        if (state.progress.has(progressRun)) counters.progressCoalesced++;
        state.progress.delete(progressRun); // re-insert: keep the frames in arrival order
        state.progress.set(progressRun, text);
        flushProgress(ws, state);
        continue;
      }
      flushProgress(ws, state);
      sendText(ws, text);
    }
  });

  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, bindHost, () => {
        server.off('error', reject);
        // After listening, an error (e.g. EMFILE on accept) is logged, never thrown.
        server.on('error', (err) => console.error(`[layerwise] HTTP server: ${err.message}`));
        resolveListen();
      });
    });
  } catch (err) {
    clearInterval(flushTimer);
    subscription.dispose();
    wss.close();
    throw err;
  }
  port = (server.address() as AddressInfo).port;
  const shownHost = bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  const url = `http://${shownHost}:${port}/${token ? `?token=${token}` : ''}`;

  let closing: Promise<void> | null = null;
  return {
    url,
    host: bindHost,
    port,
    token,
    stats() {
      let open = 0;
      let bufferedBytes = 0;
      for (const [ws, state] of clients) {
        if (!state.closing && ws.readyState === WebSocket.OPEN) open++;
        bufferedBytes += ws.bufferedAmount;
      }
      return { clients: open, bufferedBytes, ...counters };
    },
    close() {
      if (!closing) {
        closing = new Promise<void>((done) => {
          clearInterval(flushTimer);
          subscription.dispose();
          for (const ws of wss.clients) ws.terminate();
          wss.close();
          server.close(() => done());
          server.closeAllConnections();
        });
      }
      return closing;
    },
  };
}
