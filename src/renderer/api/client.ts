/**
 * The renderer's typed API client. Two transports behind `LayerwiseApi`:
 *  - Electron: the preload's `window.layerwise` bridge (IPC);
 *  - headless host: a WebSocket to `ws(s)://<host>/api[?token=…]` carrying
 *    WireRequest / WireResponse / WireEvent JSON frames, reconnecting with backoff.
 */
import type { ApiErrorShape, EventName, EventPayload, LayerwiseApi, Params, RequestName, Result, WireRequest } from '../../shared/api';
import type { LayerwiseBridge } from '../env';
import { ApiError, toApiError } from './errors';

export { ApiError } from './errors';

/** 'unauthorized': the host refuses this page's token (it was restarted with a new one); no more retries. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'closed';

/** LayerwiseApi plus what the UI needs to know about the connection. */
export interface ApiClient extends LayerwiseApi {
  readonly transport: 'ipc' | 'websocket';
  readonly state: ConnectionState;
  onState(listener: (state: ConnectionState) => void): () => void;
  dispose(): void;
}

type Listener = (payload: unknown) => void;

class ListenerSet {
  private map = new Map<string, Set<Listener>>();
  add(event: string, l: Listener): () => void {
    let set = this.map.get(event);
    if (!set) this.map.set(event, (set = new Set()));
    set.add(l);
    return () => void set.delete(l);
  }
  fire(event: string, payload: unknown): void {
    for (const l of [...(this.map.get(event) ?? [])]) {
      try {
        l(payload);
      } catch (err) {
        console.error('[layerwise] event listener failed:', err);
      }
    }
  }
  clear(): void {
    this.map.clear();
  }
}

/** Minimal WebSocket surface used here (browser WebSocket, happy-dom's, or `ws`). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}
export type WebSocketCtor = new (url: string) => WebSocketLike;

export interface WsClientOptions {
  /** WebSocket constructor; defaults to the global one. */
  WebSocket?: WebSocketCtor;
  /** Base URL for images over HTTP ('' = same origin). */
  httpBase?: string;
  /** Token appended to image URLs (the API URL carries it already). */
  token?: string | null;
  /** First reconnect delay in ms (doubles up to maxDelayMs, with jitter). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /**
   * HTTP status of an authenticated request made with this page's token, or null when the host is
   * unreachable. Asked after a connection attempt fails: a browser does not tell why a WebSocket
   * upgrade was refused, so a 401 here is how a token the host no longer accepts is told from a
   * host that is down. Defaults to a GET of the API URL over HTTP (401 = refused, 426 = accepted).
   */
  probe?: () => Promise<number | null>;
}

const UNAUTHORIZED = "The host no longer accepts this page's token (it was restarted): open the URL it printed";

/** `http(s)://…/api?token=…` for a `ws(s)://…/api?token=…` URL. */
function httpUrlOf(wsUrl: string): string {
  return wsUrl.replace(/^ws(s?):/, 'http$1:');
}

async function defaultProbe(wsUrl: string): Promise<number | null> {
  const f = (globalThis as { fetch?: typeof fetch }).fetch;
  if (!f) return null;
  try {
    const res = await f(httpUrlOf(wsUrl), { cache: 'no-store', credentials: 'same-origin' });
    return res.status;
  } catch {
    return null;
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  frame: string;
  sent: boolean;
}

const OPEN = 1;

/** WebSocket transport with request ids, queued sends while connecting, and reconnect with backoff. */
export class WsClient implements ApiClient {
  readonly transport = 'websocket' as const;
  private ws: WebSocketLike | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private listeners = new ListenerSet();
  private stateListeners = new Set<(s: ConnectionState) => void>();
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;
  private _state: ConnectionState = 'connecting';
  private readonly Ctor: WebSocketCtor;

  constructor(
    private readonly url: string,
    private readonly opts: WsClientOptions = {},
  ) {
    const Ctor = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
    if (!Ctor) throw new Error('No WebSocket implementation available');
    this.Ctor = Ctor;
    this.connect();
  }

  get state(): ConnectionState {
    return this._state;
  }

  private setState(s: ConnectionState): void {
    if (this._state === s) return;
    this._state = s;
    for (const l of [...this.stateListeners]) l(s);
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => void this.stateListeners.delete(listener);
  }

  private connect(): void {
    if (this.disposed) return;
    let ws: WebSocketLike;
    try {
      ws = new this.Ctor(this.url);
    } catch (err) {
      console.error('[layerwise] WebSocket failed:', err);
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      opened = true;
      this.attempt = 0;
      this.setState('open');
      for (const p of this.pending.values()) {
        if (!p.sent) {
          ws.send(p.frame);
          p.sent = true;
        }
      }
    };
    ws.onmessage = (ev) => {
      if (this.ws === ws) this.handleFrame(ev.data);
    };
    ws.onerror = () => {
      /* a close event follows */
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      // Requests already sent may or may not have run: fail them rather than repeat them.
      for (const [id, p] of this.pending) {
        if (p.sent) {
          this.pending.delete(id);
          p.reject(new ApiError('disconnected', 'Connection to the Layerwise host was lost'));
        }
      }
      if (opened) this.scheduleReconnect();
      else void this.probeThenReconnect();
    };
  }

  /** After a failed attempt: stop for good when the host refuses the token (HTTP 401), else retry. */
  private async probeThenReconnect(): Promise<void> {
    const status = await (this.opts.probe ?? (() => defaultProbe(this.url)))().catch(() => null);
    if (this.disposed) return;
    if (status === 401) {
      for (const p of this.pending.values()) p.reject(new ApiError('disconnected', UNAUTHORIZED));
      this.pending.clear();
      this.setState('unauthorized');
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.disposed) return;
    this.setState('reconnecting');
    const base = this.opts.initialDelayMs ?? 250;
    const max = this.opts.maxDelayMs ?? 8000;
    const delay = Math.min(max, base * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  private handleFrame(data: unknown): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      console.error('[layerwise] unreadable frame from host');
      return;
    }
    if (typeof msg.event === 'string') {
      this.listeners.fire(msg.event, msg.payload);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error && typeof msg.error === 'object') {
      const e = msg.error as ApiErrorShape;
      p.reject(new ApiError(e.code ?? 'internal', String(e.message ?? 'Request failed'), e.field));
    } else {
      p.resolve(msg.result);
    }
  }

  call<N extends RequestName>(name: N, params: Params<N>): Promise<Result<N>> {
    if (this.disposed) return Promise.reject(new ApiError('disconnected', 'Client closed'));
    if (this._state === 'unauthorized') return Promise.reject(new ApiError('disconnected', UNAUTHORIZED));
    const id = this.nextId++;
    const req: WireRequest = { id, method: name, params };
    const frame = JSON.stringify(req);
    return new Promise<Result<N>>((resolve, reject) => {
      const p: Pending = { resolve: resolve as (v: unknown) => void, reject, frame, sent: false };
      this.pending.set(id, p);
      if (this.ws && this.ws.readyState === OPEN) {
        this.ws.send(frame);
        p.sent = true;
      }
    });
  }

  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    return this.listeners.add(event, listener as Listener);
  }

  imageUrl(hash: string, kind: 'thumb' | 'full'): string {
    const q = this.opts.token ? `?token=${encodeURIComponent(this.opts.token)}` : '';
    return `${this.opts.httpBase ?? ''}/image/${kind}/${encodeURIComponent(hash)}${q}`;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    ws?.close();
    for (const p of this.pending.values()) p.reject(new ApiError('disconnected', 'Client closed'));
    this.pending.clear();
    this.listeners.clear();
    this.setState('closed');
  }
}

/** True when a value looks like a WireResponse envelope ({id?, result} or {id?, error}). */
function isEnvelope(v: unknown): v is { result?: unknown; error?: ApiErrorShape } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  if (!keys.every((k) => k === 'id' || k === 'result' || k === 'error')) return false;
  return keys.includes('result') || keys.includes('error');
}

/** Electron transport: the preload bridge. Accepts plain results or WireResponse envelopes. */
export class IpcClient implements ApiClient {
  readonly transport = 'ipc' as const;
  readonly state: ConnectionState = 'open';
  constructor(private readonly bridge: LayerwiseBridge) {}

  async call<N extends RequestName>(name: N, params: Params<N>): Promise<Result<N>> {
    let value: unknown;
    try {
      value = await this.bridge.call(name, params);
    } catch (e) {
      throw toApiError(e);
    }
    if (isEnvelope(value)) {
      if (value.error) throw toApiError(value.error);
      return value.result as Result<N>;
    }
    return value as Result<N>;
  }

  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    return this.bridge.on(event, listener as Listener);
  }

  imageUrl(hash: string, kind: 'thumb' | 'full'): string {
    return `layerwise://image/${kind}/${encodeURIComponent(hash)}`;
  }

  onState(): () => void {
    return () => undefined;
  }

  dispose(): void {
    /* the bridge belongs to the preload */
  }
}

/** The page's access token: `?token=` in the URL (before the hash, or inside it). */
export function pageToken(loc: Pick<Location, 'search' | 'hash'>): string | null {
  const fromSearch = new URLSearchParams(loc.search).get('token');
  if (fromSearch) return fromSearch;
  const q = loc.hash.indexOf('?');
  return q >= 0 ? new URLSearchParams(loc.hash.slice(q + 1)).get('token') : null;
}

/** `ws(s)://<same host>/api[?token=…]` for a page location (token: the page's unless given). */
export function apiSocketUrl(loc: Pick<Location, 'protocol' | 'host' | 'search' | 'hash'>, token: string | null = pageToken(loc)): string {
  const scheme = loc.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${loc.host}/api${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

/** The page's URL without its `token` parameter (before the hash or inside it). */
export function urlWithoutToken(href: string): string {
  const u = new URL(href);
  u.searchParams.delete('token');
  const q = u.hash.indexOf('?');
  if (q >= 0) {
    const inner = new URLSearchParams(u.hash.slice(q + 1));
    inner.delete('token');
    const rest = inner.toString();
    u.hash = u.hash.slice(0, q) + (rest ? `?${rest}` : '');
  }
  return u.toString();
}

const TOKEN_KEY = 'layerwise.token';

/**
 * The access token of the headless host, like Jupyter's: taken from the URL the host printed
 * (`?token=…`), remembered for this tab (sessionStorage; the host also set a cookie) and removed
 * from the address bar so it does not end up in bookmarks, screenshots or shared links.
 * Null when the page has none (a host started with `--no-token`, or the cookie alone).
 */
export function takePageToken(win: Pick<Window, 'location' | 'history'> & { sessionStorage?: Storage }): string | null {
  const fromUrl = pageToken(win.location);
  let store: Storage | null = null;
  try {
    store = win.sessionStorage ?? null;
  } catch {
    store = null; // storage disabled
  }
  if (fromUrl) {
    store?.setItem(TOKEN_KEY, fromUrl);
    try {
      win.history.replaceState(win.history.state, '', urlWithoutToken(win.location.href));
    } catch {
      // not fatal: the token simply stays visible
    }
    return fromUrl;
  }
  return store?.getItem(TOKEN_KEY) ?? null;
}

/** Pick the transport for this window: the preload bridge under Electron, else the host's WebSocket. */
export function createApiClient(win: Window = window): ApiClient {
  if (win.layerwise) return new IpcClient(win.layerwise);
  const token = takePageToken(win);
  return new WsClient(apiSocketUrl(win.location, token), { token });
}
