/**
 * The preload (sandboxed, CommonJS): exposes the typed API to the renderer as
 * `window.layerwise` through contextBridge, and nothing else.
 *
 *   window.layerwise.call(method, params) → Promise<result>; rejects with a plain
 *     object { message, code, field? } (ApiErrorShape: Error objects lose their fields
 *     when crossing the context bridge).
 *   window.layerwise.on(event, listener) → unsubscribe function.
 *   window.layerwise.imageUrl(hash, 'thumb' | 'full') → layerwise://image/<kind>/<hash>.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ApiErrorShape, WireEvent } from '../shared/api';

type CallReply = { ok: true; result: unknown } | { ok: false; error: ApiErrorShape };

const api = {
  call(method: string, params: unknown): Promise<unknown> {
    return (ipcRenderer.invoke('layerwise:call', String(method), params ?? {}) as Promise<CallReply>).then((reply) => {
      if (reply.ok) return reply.result;
      return Promise.reject({ ...reply.error });
    });
  },
  on(event: string, listener: (payload: unknown) => void): () => void {
    const handler = (_e: IpcRendererEvent, msg: WireEvent): void => {
      if (msg && msg.event === event) listener(msg.payload);
    };
    ipcRenderer.on('layerwise:event', handler);
    return () => void ipcRenderer.removeListener('layerwise:event', handler);
  },
  imageUrl(hash: string, kind: 'thumb' | 'full'): string {
    return `layerwise://image/${kind === 'full' ? 'full' : 'thumb'}/${encodeURIComponent(hash)}`;
  },
};

contextBridge.exposeInMainWorld('layerwise', api);
