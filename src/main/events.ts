/**
 * Typed events in the VS Code style: `onDidX(listener)` returns a disposer.
 */
import type { EventName, EventPayload } from '../shared/api';

export interface Disposable {
  dispose(): void;
}

export class Emitter<T> {
  private listeners = new Set<(value: T) => void>();
  /** Subscribe; the returned disposable unsubscribes (safe to call twice). */
  readonly event = (listener: (value: T) => void): Disposable => {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  };
  fire(value: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(value);
      } catch (err) {
        console.error('[layerwise] event listener failed:', err);
      }
    }
  }
  dispose(): void {
    this.listeners.clear();
  }
}

/** An API event as pushed to UI clients. */
export type ApiEvent = { [E in EventName]: { event: E; payload: EventPayload<E> } }[EventName];
