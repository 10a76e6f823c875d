/**
 * The headless host's server: node:http serving the built renderer and the images, and
 * the API over WebSocket at `/api` (JSON text frames: WireRequest → WireResponse; every
 * event pushed to every client as a WireEvent).
 *
 * Security:
 *  - listens on 127.0.0.1 by default; binding any other address requires a token
 *    (generated unless given), checked on every HTTP request and on the WebSocket
 *    upgrade (`?token=` or the cookie set when the page was opened with it);
 *  - the Host header must name a loopback address on a loopback server (DNS rebinding);
 *  - the WebSocket upgrade must come from the host's own origin (cross-site WebSocket
 *    hijacking); clients that send no Origin (not browsers) are allowed;
 *  - every message is size-limited, parsed and schema-checked before it reaches the API;
 *  - a strict Content-Security-Policy on every response.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { WireRequestSchema, type WireEvent, type WireResponse } from '../../shared/api';
import { formatZodError } from '../../shared/spec';
import type { ApiEvent, Disposable } from '../events';
import { toApiError, type ApiHandler } from '../services/api-router';

export const DEFAULT_PORT = 7700;
/** Largest accepted WebSocket message, bytes. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** Above this many bytes queued to a client, `run.progress` events are dropped for it. */
const SLOW_CLIENT_BYTES = 4 * 1024 * 1024;
const HASH_RE = /^[0-9a-f]{64}$/;

export interface HostServerOptions {
  /** The API (createApp().handle). */
  handle: ApiHandler;
  /** API events to push to clients. */
  onEvent: (listener: (e: ApiEvent) => void) => Disposable;
  /** The file of an image, or null. */
  imageFile(hash: string, kind: 'thumb' | 'full'): string | null;
  /** The built renderer (folder holding index.html); null or missing → a placeholder page. */
  rendererDir: string | null;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 = a free one. Default 7700. */
  port?: number;
  /** Access token. Required off loopback: generated when not given. On loopback: none unless given. */
  token?: string | null;
  /** Largest WebSocket message, bytes (default 1 MiB). */
  maxMessageBytes?: number;
}

export interface HostServer {
  /** Where to open the app, with `?token=` when one is required. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string | null;
  /** Stop listening and close every connection. Safe to call twice. */
  close(): Promise<void>;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** The Content-Security-Policy for pages served from `origin` host:port. */
export function contentSecurityPolicy(hostPort: string): string {
  return [
    "default-src 'self'",
    "img-src 'self' data: blob:",
    `connect-src 'self' ws://${hostPort}`,
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** Content type of an image file from its first bytes (blobs have no extension). */
function sniffImageType(file: string): string {
  const buf = Buffer.alloc(12);
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    readSync(fd, buf, 0, 12, 0);
  } catch {
    return 'application/octet-stream';
  } finally {
    if (fd !== null) closeSync(fd);
  }
  if (buf[0] === 0x89 && buf.toString('ascii', 1, 4) === 'PNG') return 'image/png';
  if (buf[0] === 0xff && buf[1] === 0xd8) return 'image/jpeg';
  if (buf.toString('ascii', 0, 3) === 'GIF') return 'image/gif';
  if (buf.toString('ascii', 0, 4) === 'RIFF' && buf.toString('ascii', 8, 12) === 'WEBP') return 'image/webp';
  if (buf.toString('ascii', 0, 2) === 'BM') return 'image/bmp';
  return 'application/octet-stream';
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const PLACEHOLDER = `<!doctype html><html><head><meta charset="utf-8"><title>Layerwise</title></head>
<body><h1>Layerwise</h1><p>The user interface has not been built. Run <code>npx electron-vite build</code> and reload.</p>
<p>The API is available over WebSocket at <code>/api</code>.</p></body></html>`;

/**
 * Start the server. Resolves once it listens.
 * @throws Error when the address is taken (EADDRINUSE) or cannot be bound.
 */
export async function startHostServer(opts: HostServerOptions): Promise<HostServer> {
  const bindHost = opts.host ?? '127.0.0.1';
  const loopback = isLoopback(bindHost);
  const token = opts.token ?? (loopback ? null : randomBytes(24).toString('base64url'));
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

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
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
    if (!auth.ok) return fail(res, 401, 'a token is required: open the URL printed by `layerwise serve` (it ends in ?token=…)');
    if (auth.fromQuery && token) res.setHeader('Set-Cookie', `${cookieName()}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`);

    const img = /^\/image\/(thumb|full)\/([^/]*)$/.exec(url.pathname);
    if (img) {
      const kind = img[1] as 'thumb' | 'full';
      const hash = img[2];
      if (!HASH_RE.test(hash)) return fail(res, 400, 'bad image hash: expected 64 lowercase hex digits');
      const file = opts.imageFile(hash, kind);
      if (!file) return fail(res, 404, 'no such image');
      // Content-addressed: never changes.
      return sendFile(req, res, file, sniffImageType(file), 'private, max-age=31536000, immutable');
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

  const refuse = (socket: Duplex, status: number, text: string): void => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
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
  });

  const send = (ws: WebSocket, msg: WireResponse): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  };

  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: RawData, isBinary: boolean) => {
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
      opts.handle(method, params).then(
        (result) => send(ws, { id, result: result ?? null }),
        (err) => send(ws, { id, error: toApiError(err) }),
      );
    });
  });

  const subscription = opts.onEvent((e) => {
    const wire: WireEvent = { event: e.event, payload: e.payload };
    const text = JSON.stringify(wire);
    for (const ws of wss.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (e.event === 'run.progress' && ws.bufferedAmount > SLOW_CLIENT_BYTES) continue;
      ws.send(text);
    }
  });

  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, bindHost, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
  } catch (err) {
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
    close() {
      if (!closing) {
        closing = new Promise<void>((done) => {
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
