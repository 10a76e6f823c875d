/** An in-memory LayerwiseApi for component tests: canned handlers, recorded calls, emitted events. */
import type { EventName, EventPayload, LayerwiseApi, Params, RequestName, Result } from '../../src/shared/api';

type Handler<N extends RequestName> = (params: Params<N>) => Result<N> | Promise<Result<N>>;

export class FakeApi implements LayerwiseApi {
  calls: { name: RequestName; params: unknown }[] = [];
  private handlers = new Map<RequestName, Handler<any>>();
  private listeners = new Map<string, Set<(p: unknown) => void>>();

  handle<N extends RequestName>(name: N, h: Handler<N>): this {
    this.handlers.set(name, h);
    return this;
  }

  async call<N extends RequestName>(name: N, params: Params<N>): Promise<Result<N>> {
    this.calls.push({ name, params });
    const h = this.handlers.get(name);
    if (!h) throw Object.assign(new Error(`no handler for ${name}`), { code: 'internal' });
    return h(params);
  }

  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (p: unknown) => void);
    return () => void set.delete(listener as (p: unknown) => void);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const l of this.listeners.get(event) ?? []) l(payload);
  }

  imageUrl(hash: string, kind: 'thumb' | 'full'): string {
    return `/image/${kind}/${hash}`;
  }
}

export function flush(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}
