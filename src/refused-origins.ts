import type { Config } from './config';
import { corsHeaders } from './cors';
import { logWarn } from './log';

const ONCE_PER_MS = 60_000;
const MAX_ORIGINS = 100;
const MAX_LOGGED_LENGTH = 200;

/**
 * A page whose origin is missing from ALLOWED_ORIGINS waits for ever: the browser hides the refused
 * answers from it. So the service names such an origin in its log, once a minute per origin per
 * isolate. Origins are the sender's to choose, so both the memory (MAX_ORIGINS entries) and the log
 * (MAX_ORIGINS lines a minute) stay bounded under a flood of made-up ones; what a full minute leaves
 * out is counted in the next line.
 */
export class RefusedOrigins {
  readonly #loggedAt = new Map<string, number>();
  readonly #now: () => number;
  #unlogged = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** How many origins are remembered now: never more than MAX_ORIGINS. */
  get tracked(): number {
    return this.#loggedAt.size;
  }

  /** Called for every request on a browser route. */
  note(origin: string | null, requestUrl: string, config: Config): void {
    if (origin === null || corsHeaders(origin, config) !== null || isSameOrigin(origin, requestUrl)) return;
    const now = this.#now();
    const last = this.#loggedAt.get(origin);
    if (last !== undefined && now - last < ONCE_PER_MS) return;
    this.#loggedAt.delete(origin);
    if (this.#loggedAt.size >= MAX_ORIGINS) {
      // Entries are kept in the order they were logged, so the first is the oldest.
      const [oldest, oldestAt] = this.#loggedAt.entries().next().value!;
      if (now - oldestAt < ONCE_PER_MS) {
        this.#unlogged++;
        return;
      }
      this.#loggedAt.delete(oldest);
    }
    this.#loggedAt.set(origin, now);
    logWarn('origin refused', {
      origin: origin.slice(0, MAX_LOGGED_LENGTH),
      hint: 'a page on this origin cannot read jobcast answers; add it to ALLOWED_ORIGINS if it is yours',
      otherOriginsUnlogged: this.#unlogged || undefined,
    });
    this.#unlogged = 0;
  }
}

function isSameOrigin(origin: string, requestUrl: string): boolean {
  return new URL(requestUrl).origin === origin;
}

/** The isolate's one log of refused origins. */
export const refusedOrigins = new RefusedOrigins();
