/**
 * HTTP pieces of the headless host's server (src/main/host/server.ts): loopback names, the
 * Content-Security-Policy, content types, cookies and the two fixed pages.
 */
import { timingSafeEqual } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

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
    "form-action 'self'",
  ].join('; ');
}

/** Content types by file extension. */
export const MIME: Record<string, string> = {
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

/** Content type of an image file from its first 12 bytes (blobs have no extension); application/octet-stream when unknown or unreadable. */
export function sniffImageType(file: string): string {
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

/** `name=value` pairs of a Cookie header; a value that is not valid percent-encoding is kept as sent (never throws). */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const raw = part.slice(i + 1).trim();
    let value = raw;
    try {
      value = decodeURIComponent(raw);
    } catch {
      // `foo=%` and the like: not ours to judge; the token comparison simply fails.
    }
    out[part.slice(0, i).trim()] = value;
  }
  return out;
}

/** Constant-time comparison of two secrets. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The page a browser without the token gets: a form to paste it into. */
export const TOKEN_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Layerwise: token required</title></head>
<body><h1>Layerwise</h1><p>This host asks for its access token. Open the URL that <code>npm start</code> or <code>layerwise serve</code> printed (it ends in <code>?token=…</code>), or paste the token here:</p>
<form method="get" action="/"><label>Token <input name="token" type="password" autocomplete="off" autofocus></label> <button type="submit">Open</button></form></body></html>`;

/** The page served when the renderer has not been built. */
export const PLACEHOLDER = `<!doctype html><html><head><meta charset="utf-8"><title>Layerwise</title></head>
<body><h1>Layerwise</h1><p>The user interface has not been built. Run <code>npx electron-vite build</code> and reload.</p>
<p>The API is available over WebSocket at <code>/api</code>.</p></body></html>`;
