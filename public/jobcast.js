// jobcast browser client: wait for a job over Server-Sent Events, with reconnects and a polling fallback.
// An ES module with JSDoc types; no build step. See docs/api.md for the HTTP side.

/**
 * @typedef {{ status: 'result', moveUrl: string, data?: Record<string, unknown> }} JobResult
 * @typedef {{ status: 'failed', error?: string, moveUrl?: string }} JobFailure
 * @typedef {JobResult | JobFailure} JobOutcome  Narrow on `status`: a result always has a `moveUrl`.
 */

/**
 * @typedef {object} JobProgress
 * @property {number} progress  From 0 to 1.
 * @property {string} [message]
 */

/**
 * Where a wait is, for a page that shows it ("reconnecting…"):
 * - `relayed`: another tab of this origin holds the job's stream and relays it here (this tab is in
 *   line to take over);
 * - `connecting`: a stream is opening, or reopening by itself after the service ended it;
 * - `streaming`: the stream is open;
 * - `offline`: the browser is offline, or the service could not be reached or refused the stream:
 *   waiting to try again;
 * - `polling`: asking the status route every `pollIntervalMs`, and now and then trying a stream;
 * - `settled`: resolved or rejected; the wait holds nothing any more.
 * @typedef {'relayed' | 'connecting' | 'streaming' | 'offline' | 'polling' | 'settled'} ConnectionState
 */

/**
 * @typedef {object} WaitOptions
 * @property {string} id  The job id.
 * @property {string} [token]  The subscribe token, when the service has SIGNING_KEY set.
 * @property {string} [baseUrl]  Where jobcast runs; the page's own origin when omitted.
 * @property {(progress: JobProgress) => void} [onProgress]
 * @property {(state: ConnectionState) => void} [onState]  Called on each change of state.
 * @property {AbortSignal} [signal]  Aborting stops all work and rejects with the signal's reason.
 * @property {number} [pollIntervalMs]  Polling period once polling is used. Default 2000.
 * @property {number} [maxStreamFailures]  Streams that fail in a row before polling instead. Default 3.
 * @property {number} [notFoundTimeoutMs]  How long a job may stay unknown to the service (not yet
 *   registered, or deleted after its result expired) before the wait rejects with `job_not_found`.
 *   Default 60000.
 * @property {boolean} [shareAcrossTabs]  One stream per job for all tabs of this origin. Default true.
 * @property {typeof EventSource | null} [EventSource]  Override, or null to poll only.
 * @property {typeof fetch} [fetch]  Override.
 */

import { backoffDelay } from './backoff.js';

export { backoffDelay };

/** While polling, a stream is tried again at least this often. */
const STREAM_AGAIN_MS = 30_000;
/** Network failures in a row for this long are worth one console warning. */
const UNREACHABLE_WARN_MS = 30_000;

/** An error with the service's error code (`invalid_token`, `job_not_found`). */
export class JobcastError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = 'JobcastError';
    this.code = code;
  }
}

/**
 * Resolves once, with the job's terminal outcome (`status` is `result` or `failed`).
 * @param {WaitOptions} options
 * @returns {Promise<JobOutcome>}
 */
export function waitForJob(options) {
  return new Promise((resolve, reject) => new Wait(options, resolve, reject).start());
}

/**
 * One wait, as a state machine (see ConnectionState). Its transitions:
 *
 *   relayed    → connecting  this tab was granted the job's lock (the holding tab left)
 *   connecting → streaming   the stream opened
 *   streaming  → connecting  the service ended the stream; EventSource reopens it by itself
 *   streaming  → offline     the same with the browser offline: it reopens at `online`
 *   connecting, streaming → offline   EventSource gave up (a non-200 answer, no network); the status
 *                            route is asked, which may settle the wait
 *   offline    → connecting  after a jittered backoff, or at once when the browser is back online,
 *                            the tab is shown again, or the page comes back from the back-forward cache
 *   offline    → polling     after `maxStreamFailures` failed streams in a row, or with no EventSource
 *   polling    → connecting  the job turned up after `job_not_found`, STREAM_AGAIN_MS passed, or as
 *                            from offline
 *   any        → settled     a result or failure (heard, or relayed by another tab), a refused token,
 *                            `job_not_found` for `notFoundTimeoutMs`, or the signal's abort
 *
 * Entering a state ends what the previous one started: its EventSource and its timer; and an `await`
 * that returns into a state since left does nothing (`#epoch`). Settling also releases what the wait
 * holds for its whole life: the tab lock or its place in line, the channel, listeners, requests.
 */
class Wait {
  /** @type {ConnectionState | null} */
  state = null;
  /** Counts transitions, so that an async step can tell that its state has been left. */
  #epoch = 0;
  /** @type {EventSource | null} The state's stream. */
  #source = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} The state's timer. */
  #timer;
  /** @type {Array<() => void>} What the whole wait holds, released when it settles. */
  #held = [];
  #stop = new AbortController();
  /** @type {BroadcastChannel | null} */
  #channel = null;
  /** @type {string | null} */
  #lastEventId = null;
  #failures = 0;
  #streamAt = 0;
  /** @type {number | null} When the service first said it has no such job, since it last had it. */
  #missingSince = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #missingDeadline;
  /** @type {number | null} When network failures in a row began. */
  #downSince = null;
  #warned = false;

  /**
   * @param {WaitOptions} options
   * @param {(outcome: JobOutcome) => void} resolve
   * @param {(error: unknown) => void} reject
   */
  constructor(options, resolve, reject) {
    this.o = options;
    this.resolve = resolve;
    this.reject = reject;
    this.ES = options.EventSource === undefined ? globalThis.EventSource : options.EventSource;
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.base = (options.baseUrl ?? globalThis.location?.origin ?? '').replace(/\/$/, '');
    this.path = encodeURIComponent(options.id);
  }

  start() {
    const { signal, id } = this.o;
    if (signal?.aborted) return this.#abandon(signal.reason);
    this.#listen(signal, 'abort', () => this.#abandon(signal?.reason));
    for (const type of ['online', 'visibilitychange', 'pageshow']) this.#listen(globalThis, type, (event) => this.#wake(event));
    const locks = globalThis.navigator?.locks;
    if (this.o.shareAcrossTabs === false || !locks || typeof BroadcastChannel === 'undefined') return this.#connect();

    // One tab holds the lock and the stream, and relays what it hears; when it leaves, the next tab
    // in line takes over from the last event id it was told about.
    const channel = new BroadcastChannel(`jobcast:${id}`);
    this.#channel = channel;
    this.#held.push(() => channel.close());
    channel.onmessage = ({ data }) => this.#heard(data);
    const line = new AbortController();
    this.#held.push(() => line.abort());
    this.#to('relayed');
    locks
      .request(`jobcast:${id}`, { signal: line.signal }, () => {
        // A free lock is granted when it is asked for, so an abort right after the request is
        // ignored and this runs anyway: a wait that settled since must let the lock go at once.
        if (this.state === 'settled') return;
        this.#connect();
        return new Promise((release) => this.#held.push(() => release(undefined)));
      })
      .catch(() => {}); // the wait ended while still in line
  }

  /**
   * @param {ConnectionState} state
   * @param {EventSource | null} [source]  The stream the new state keeps, if any.
   */
  #to(state, source = null) {
    if (this.#source !== source) this.#source?.close();
    this.#source = source;
    clearTimeout(this.#timer);
    this.#epoch++;
    if (state === this.state) return;
    this.state = state;
    this.#tell(this.o.onState, state);
  }

  #connect() {
    const ES = this.ES;
    if (!ES) return void this.#poll();
    this.#streamAt = Date.now();
    let source;
    try {
      source = new ES(`${this.base}/sse/connect/${this.path}${this.#query(true)}`);
    } catch (error) {
      return void this.#abandon(error); // a baseUrl that is no URL
    }
    this.#to('connecting', source);
    source.addEventListener('open', () => {
      this.#failures = 0;
      this.#reached();
      this.#found();
      this.#to('streaming', source);
    });
    source.addEventListener('progress', (event) => this.#progress(JSON.parse(event.data), event.lastEventId));
    source.addEventListener('result', (event) => {
      this.#lastEventId = event.lastEventId || this.#lastEventId;
      this.#finish(outcomeOf(JSON.parse(event.data)));
    });
    source.addEventListener('error', async () => {
      // CONNECTING: the service ended the stream, or the network dropped, and EventSource reopens it
      // by itself (with no network it keeps trying: offline, until the browser is online again).
      // CLOSED: a non-200 answer (a proxy's 502, 401, 404, 429, 204) or a CORS refusal made it give up.
      if (source.readyState !== ES.CLOSED) return this.#to(globalThis.navigator?.onLine === false ? 'offline' : 'connecting', source);
      this.#failures++;
      this.#to('offline');
      const epoch = this.#epoch;
      if ((await this.#check()) === 'settled' || epoch !== this.#epoch) return;
      if (this.#failures >= (this.o.maxStreamFailures ?? 3)) this.#poll();
      else this.#later(() => this.#connect(), backoffDelay(this.#failures));
    });
  }

  async #poll() {
    this.#to('polling');
    const epoch = this.#epoch;
    if ((await this.#check()) === 'settled' || epoch !== this.#epoch) return;
    if (this.ES && Date.now() - this.#streamAt >= STREAM_AGAIN_MS) return this.#connect();
    const interval = this.o.pollIntervalMs ?? 2000;
    this.#later(() => this.#poll(), Math.round(interval * (0.8 + Math.random() * 0.4)));
  }

  /**
   * Asks the status route. Resolves 'settled' when that settled the wait, 'pending' or 'missing' for
   * what the service said of the job, undefined when there was no usable answer.
   * @returns {Promise<'settled' | 'pending' | 'missing' | undefined>}
   */
  async #check() {
    let response;
    try {
      response = await this.fetch(`${this.base}/jobs/${this.path}${this.#query(false)}`, { signal: this.#stop.signal, cache: 'no-store' });
    } catch {
      return this.state === 'settled' ? 'settled' : this.#unreachable();
    }
    this.#reached();
    if (response.status === 401) {
      return this.#abandon(new JobcastError('invalid_token', 'The subscribe token was refused; ask the backend for a new one.'));
    }
    const job = await response.json().catch(() => null);
    if (this.state === 'settled') return 'settled';
    // Only the service's own 404 says the job is missing, not a proxy's page or a wrong baseUrl's.
    if (response.status === 404) return job?.error === 'job_not_found' ? this.#missing() : undefined;
    if (!response.ok || !job) return; // 5xx or a proxy's page: transient
    if (job.status === 'result' || job.status === 'failed') return this.#finish(outcomeOf(job));
    this.#found();
    if (typeof job.progress === 'number' && String(job.lastEventId) !== this.#lastEventId) {
      this.#progress({ progress: job.progress, message: job.message }, String(job.lastEventId));
    }
    return 'pending';
  }

  /**
   * The service has no such job: rejects once it has said so for `notFoundTimeoutMs` (a job is often
   * registered a moment after the page opens), and asks once more when that time is up.
   * @returns {'settled' | 'missing'}
   */
  #missing() {
    const timeout = this.o.notFoundTimeoutMs ?? 60_000;
    if (this.#missingSince === null) {
      this.#missingSince = Date.now();
      this.#missingDeadline = setTimeout(() => void this.#check(), timeout);
    } else if (Date.now() - this.#missingSince >= timeout) {
      return this.#abandon(new JobcastError('job_not_found', `The service has no job ${this.o.id}: it was never registered, or it finished and was deleted.`));
    }
    return 'missing';
  }

  /** The service has the job. If polling began because it had not, a stream is worth a try now. */
  #found() {
    if (this.#missingSince === null) return;
    this.#missingSince = null;
    clearTimeout(this.#missingDeadline);
    if (this.state === 'polling' && this.ES) this.#connect();
  }

  /** @returns {undefined} */
  #unreachable() {
    this.#downSince ??= Date.now();
    if (this.#warned || Date.now() - this.#downSince < UNREACHABLE_WARN_MS) return;
    this.#warned = true;
    console.warn(
      `jobcast: ${this.base || 'the service'} has not answered for 30 s (still trying). If it is up, ` +
        `this page's origin (${globalThis.location?.origin}) may be missing from its ALLOWED_ORIGINS.`,
    );
  }

  #reached() {
    this.#downSince = null;
  }

  /** @param {Event} event */
  #wake(event) {
    const restored = event.type === 'pageshow' && /** @type {PageTransitionEvent} */ (event).persisted;
    if (event.type === 'pageshow' && !restored) return;
    if (event.type === 'visibilitychange' && globalThis.document?.visibilityState !== 'visible') return;
    const waiting = this.state === 'offline' || this.state === 'polling';
    if (waiting || (restored && this.state !== 'relayed' && this.state !== 'settled')) this.#connect();
  }

  /** @param {any} message */
  #heard(message) {
    if (message?.type === 'result') this.#finish(message.outcome, false);
    if (message?.type === 'error') this.#abandon(new JobcastError(message.code, message.message), false);
    if (message?.type === 'progress') this.#progress(message.update, message.lastEventId, false);
  }

  /** @param {JobProgress} update @param {string | null} lastEventId */
  #progress(update, lastEventId, broadcast = true) {
    this.#lastEventId = lastEventId || this.#lastEventId;
    if (broadcast) this.#channel?.postMessage({ type: 'progress', update, lastEventId: this.#lastEventId });
    this.#tell(this.o.onProgress, update);
  }

  /** @param {JobOutcome} outcome @returns {'settled'} */
  #finish(outcome, broadcast = true) {
    if (this.state !== 'settled') {
      if (broadcast) this.#channel?.postMessage({ type: 'result', outcome });
      this.#release();
      this.resolve(outcome);
    }
    return 'settled';
  }

  /** @param {unknown} error @returns {'settled'} */
  #abandon(error, broadcast = true) {
    if (this.state !== 'settled') {
      if (broadcast && error instanceof JobcastError && error.code === 'job_not_found') {
        this.#channel?.postMessage({ type: 'error', code: error.code, message: error.message });
      }
      this.#release();
      this.reject(error);
    }
    return 'settled';
  }

  #release() {
    this.#to('settled');
    clearTimeout(this.#missingDeadline);
    this.#stop.abort();
    for (const release of this.#held.splice(0)) release();
  }

  /** @param {() => void} run @param {number} ms */
  #later(run, ms) {
    this.#timer = setTimeout(run, ms);
  }

  /** @param {EventTarget | undefined} target @param {string} type @param {(event: Event) => void} listener */
  #listen(target, type, listener) {
    if (!target?.addEventListener) return;
    target.addEventListener(type, listener);
    this.#held.push(() => target.removeEventListener(type, listener));
  }

  /** @template T @param {((value: T) => void) | undefined} callback @param {T} value */
  #tell(callback, value) {
    try {
      callback?.(value);
    } catch (error) {
      // The page's own bug: reported as uncaught, without breaking the wait.
      setTimeout(() => {
        throw error;
      });
    }
  }

  /** @param {boolean} stream */
  #query(stream) {
    const search = new URLSearchParams();
    if (this.o.token) search.set('token', this.o.token);
    if (stream && this.#lastEventId) search.set('lastEventId', this.#lastEventId);
    const text = search.toString();
    return text ? `?${text}` : '';
  }
}

/**
 * @param {{ status: string, moveUrl?: string, data?: Record<string, unknown>, error?: string }} payload
 * @returns {JobOutcome}
 */
function outcomeOf({ status, moveUrl, data, error }) {
  return status === 'result' ? { status, moveUrl: moveUrl ?? '', data } : { status: 'failed', error, moveUrl };
}

/**
 * Waits for the job, then moves the page to its `moveUrl`. A failed job calls `onFailed` when given,
 * and otherwise goes to its `moveUrl` if it has one.
 * @param {WaitOptions & { onFailed?: (outcome: JobFailure) => void, navigate?: (url: string) => void }} options
 * @returns {Promise<JobOutcome>}
 */
export async function redirectWhenDone(options) {
  const outcome = await waitForJob(options);
  const navigate = options.navigate ?? ((url) => globalThis.location.assign(url));
  if (outcome.status === 'failed' && options.onFailed) options.onFailed(outcome);
  else if (outcome.moveUrl) navigate(outcome.moveUrl);
  return outcome;
}
