/// <reference types="vite/client" />
import type { EventName } from '../shared/api';

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

/** What the Electron preload exposes (absent under the headless host). */
export interface LayerwiseBridge {
  call(method: string, params: unknown): Promise<unknown>;
  on(event: EventName, listener: (payload: unknown) => void): () => void;
}

declare global {
  interface Window {
    layerwise?: LayerwiseBridge;
  }
}
