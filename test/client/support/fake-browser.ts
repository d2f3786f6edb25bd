/** Just enough of EventSource and fetch to drive public/jobcast.js without a server. */
type Listener = (event: { data: string; lastEventId: string }) => void;

export class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static instances: FakeEventSource[] = [];

  readyState = FakeEventSource.CONNECTING;
  readonly #listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }

  static reset(): void {
    FakeEventSource.instances = [];
  }

  static get latest(): FakeEventSource {
    const last = FakeEventSource.instances.at(-1);
    if (!last) throw new Error('no EventSource was opened');
    return last;
  }

  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.readyState = FakeEventSource.CLOSED;
  }

  open(): void {
    this.readyState = FakeEventSource.OPEN;
    this.#emit('open', '', '');
  }

  emit(type: string, data: unknown, lastEventId = ''): void {
    this.#emit(type, JSON.stringify(data), lastEventId);
  }

  /** What a non-200 answer does: EventSource closes for good and fires `error`. */
  failForGood(): void {
    this.readyState = FakeEventSource.CLOSED;
    this.#emit('error', '', '');
  }

  /** What a clean end from the server does: EventSource will reconnect by itself. */
  endByServer(): void {
    this.readyState = FakeEventSource.CONNECTING;
    this.#emit('error', '', '');
  }

  #emit(type: string, data: string, lastEventId: string): void {
    for (const listener of this.#listeners.get(type) ?? []) listener({ data, lastEventId });
  }
}

/** A status route whose answers the test sets; records every URL asked. */
export function fakeStatus(initial: { status: number; body?: unknown }) {
  let answer = initial;
  const urls: string[] = [];
  const fetch = (async (url: string) => {
    urls.push(url);
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), { status: answer.status });
  }) as unknown as typeof globalThis.fetch;
  return {
    fetch,
    urls,
    set(next: { status: number; body?: unknown }) {
      answer = next;
    },
  };
}

/**
 * A Web Locks stand-in, as browsers behave: a free lock is granted when it is asked for, and its
 * callback runs a moment later; an abort takes a request out of line, but is ignored once granted.
 */
export function fakeLocks() {
  const lines = new Map<string, Array<() => void>>();
  const held = new Set<string>();
  const release = (name: string) => {
    held.delete(name);
    const next = lines.get(name)?.shift();
    next?.();
  };
  return {
    held,
    lines,
    request(name: string, options: { signal?: AbortSignal }, callback: () => unknown): Promise<unknown> {
      return new Promise((resolve, reject) => {
        const grant = () => {
          held.add(name);
          queueMicrotask(() => {
            Promise.resolve(callback()).then(resolve, reject).finally(() => release(name));
          });
        };
        if (!held.has(name)) return grant();
        const line = lines.get(name) ?? [];
        line.push(grant);
        lines.set(name, line);
        options.signal?.addEventListener('abort', () => {
          const index = line.indexOf(grant);
          if (index < 0) return;
          line.splice(index, 1);
          reject(options.signal?.reason);
        });
      });
    },
  };
}
