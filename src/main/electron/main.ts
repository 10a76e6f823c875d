/**
 * The Electron shell: one window on the Vue renderer, the `layerwise://` protocol
 * (the renderer at layerwise://app/, images at layerwise://image/thumb|full/<hash>), the
 * API over one IPC channel (`layerwise:call`, routed through the same handler as the
 * headless host's WebSocket) and events on `layerwise:event`. Engines run as utility
 * processes. The only code (with src/preload) that imports electron.
 *
 * Data directory: `--data-dir DIR`, else LAYERWISE_HOME, else Electron's userData.
 */
import { app, BrowserWindow, ipcMain, net, protocol, session, shell, type IpcMainInvokeEvent } from 'electron';
import { existsSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveDataDir } from '../paths';
import { toApiError } from '../services/api-router';
import { createApp, type App } from '../services/app';
import { UtilityEngineLauncher } from './engine-launcher';

const SCHEME = 'layerwise';
const APP_ORIGIN = `${SCHEME}://app`;
const HASH_RE = /^[0-9a-f]{64}$/;
const CSP = [
  "default-src 'self'",
  `img-src 'self' ${SCHEME}://image data: blob:`,
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join('; ');

// Must run before `ready`: a standard, secure scheme gets an origin, 'self' and fetch().
protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

/** Value of `--data-dir DIR` / `--data-dir=DIR` on the command line. */
function argDataDir(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--data-dir') return argv[i + 1];
    if (argv[i].startsWith('--data-dir=')) return argv[i].slice('--data-dir='.length);
  }
  return undefined;
}

const rendererDir = join(__dirname, '..', 'renderer');
let layerwise: App | null = null;
let quitting = false;

function notFound(): Response {
  return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } });
}

/** layerwise://app/<file> → the built renderer; layerwise://image/<kind>/<hash> → an image file. */
async function handleProtocol(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.host === 'image') {
    const m = /^\/(thumb|full)\/([^/]+)$/.exec(url.pathname);
    if (!m || !HASH_RE.test(m[2]) || !layerwise) return notFound();
    const file = await layerwise.servedFile(m[2], m[1] as 'thumb' | 'full').catch(() => null);
    if (!file) return notFound();
    const res = await net.fetch(pathToFileURL(file).toString());
    return new Response(res.body, { status: 200, headers: { 'cache-control': 'max-age=31536000, immutable', 'x-content-type-options': 'nosniff' } });
  }
  if (url.host !== 'app') return notFound();
  let rel = decodeURIComponent(url.pathname);
  if (rel === '/' || rel === '') rel = '/index.html';
  const root = resolve(rendererDir);
  let file = resolve(root, normalize('.' + rel));
  if (!file.startsWith(root + sep)) return notFound();
  if (!existsSync(file)) {
    if (extname(rel) !== '') return notFound();
    file = join(root, 'index.html'); // client-side route
  }
  const res = await net.fetch(pathToFileURL(file).toString());
  const headers = new Headers(res.headers);
  headers.set('content-security-policy', CSP);
  headers.set('x-content-type-options', 'nosniff');
  return new Response(res.body, { status: res.status, headers });
}

/** True when an IPC call comes from our own page (not from a frame that navigated elsewhere). */
function fromOurPage(event: IpcMainInvokeEvent): boolean {
  const url = event.senderFrame?.url ?? '';
  const dev = process.env.ELECTRON_RENDERER_URL;
  return url.startsWith(`${APP_ORIGIN}/`) || (!app.isPackaged && !!dev && url.startsWith(dev));
}

function isOurUrl(url: string): boolean {
  const dev = process.env.ELECTRON_RENDERER_URL;
  return url.startsWith(`${APP_ORIGIN}/`) || (!app.isPackaged && !!dev && url.startsWith(dev));
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'Layerwise',
    show: false,
    webPreferences: {
      preload: join(__dirname, '..', 'preload', 'index.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.webContents.on('will-navigate', (e, url) => {
    if (!isOurUrl(url)) e.preventDefault();
  });
  win.webContents.on('will-redirect', (e, url) => {
    if (!isOurUrl(url)) e.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    // Links to the web open in the user's browser; nothing opens inside the app.
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  const dev = process.env.ELECTRON_RENDERER_URL;
  if (!app.isPackaged && dev) void win.loadURL(dev);
  else void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

function start(): void {
  const dataDir = resolveDataDir(argDataDir(process.argv), app.getPath('userData'));
  const sample = join(app.isPackaged ? process.resourcesPath : join(__dirname, '..', '..', 'resources'), 'sample', 'fashion-mnist-test');
  layerwise = createApp({
    dataDir,
    host: 'electron',
    launcher: new UtilityEngineLauncher(join(__dirname, 'engine.js')),
    adoptQueued: true,
    sampleDatasetPath: existsSync(sample) ? sample : null,
  });
  const api = layerwise;

  protocol.handle(SCHEME, handleProtocol);
  // CSP also for the development server's pages.
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...details.responseHeaders, 'Content-Security-Policy': [CSP] };
    callback({ responseHeaders: headers });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));

  ipcMain.handle('layerwise:call', async (event, method: unknown, params: unknown) => {
    if (!fromOurPage(event)) return { ok: false, error: { code: 'invalid_params', message: 'caller not allowed' } };
    try {
      return { ok: true, result: await api.handle(String(method), params) };
    } catch (err) {
      return { ok: false, error: toApiError(err) };
    }
  });
  api.onEvent((e) => {
    for (const win of BrowserWindow.getAllWindows()) {
      if (!win.isDestroyed()) win.webContents.send('layerwise:event', { event: e.event, payload: e.payload });
    }
  });
  createWindow();
}

app.on('web-contents-created', (_e, contents) => {
  contents.on('will-attach-webview', (e) => e.preventDefault());
});

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.whenReady().then(start, (err) => {
    console.error(err);
    app.exit(1);
  });
  app.on('activate', () => {
    if (layerwise && BrowserWindow.getAllWindows().length === 0) createWindow();
  });
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (e) => {
    if (quitting || !layerwise) return;
    // Cancel runs and close the database before quitting.
    e.preventDefault();
    quitting = true;
    const api = layerwise;
    layerwise = null;
    api
      .shutdown(5000)
      .catch((err) => console.error(err))
      .finally(() => app.quit());
  });
}
