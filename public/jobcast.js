// jobcast browser client: wait for a job over Server-Sent Events, with reconnects and a polling fallback.
// An ES module with JSDoc types; no build step. See docs/api.md for the HTTP side.

/**
 * @typedef {object} JobOutcome
 * @property {'result' | 'failed'} status
 * @property {string} [moveUrl]
 * @property {Record<string, unknown>} [data]
 * @property {string} [error]
 */

/**
 * @typedef {object} JobProgress
 * @property {number} progress  From 0 to 1.
 * @property {string} [message]
 */

/**
 * @typedef {object} WaitOptions
 * @property {string} id  The job id.
 * @property {string} [token]  The subscribe token, when the service has SIGNING_KEY set.
 * @property {string} [baseUrl]  Where jobcast runs; the page's own origin when omitted.
 * @property {(progress: JobProgress) => void} [onProgress]
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
  const { id, token, onProgress, signal } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 2000;
  const maxStreamFailures = options.maxStreamFailures ?? 3;
  const notFoundTimeoutMs = options.notFoundTimeoutMs ?? 60_000;
  const EventSourceImpl = options.EventSource === undefined ? globalThis.EventSource : options.EventSource;
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const base = (options.baseUrl ?? globalThis.location?.origin ?? '').replace(/\/$/, '');
  const path = encodeURIComponent(id);

  return new Promise((resolve, reject) => {
    /** @type {Set<() => void>} */
    const cleanups = new Set();
    let settled = false;
    /** @type {string | null} */
    let lastEventId = null;
    let failures = 0;
    /** @type {number | null} When the service first said it has no such job, since it last had it. */
    let notFoundSince = null;
    /** @type {BroadcastChannel | null} */
    let channel = null;

    const stop = () => {
      for (const cleanup of cleanups) cleanup();
      cleanups.clear();
    };
    const finish = (/** @type {JobOutcome} */ outcome, broadcast = true) => {
      if (settled) return;
      settled = true;
      if (broadcast) channel?.postMessage({ type: 'result', outcome });
      stop();
      resolve(outcome);
    };
    const abandon = (/** @type {unknown} */ error, broadcast = true) => {
      if (settled) return;
      settled = true;
      if (broadcast && error instanceof JobcastError && error.code === 'job_not_found') {
        channel?.postMessage({ type: 'error', code: error.code, message: error.message });
      }
      stop();
      reject(error);
    };
    const progress = (/** @type {JobProgress} */ update, broadcast = true) => {
      if (broadcast) channel?.postMessage({ type: 'progress', update, lastEventId });
      onProgress?.(update);
    };
    const later = (/** @type {() => void} */ run, /** @type {number} */ ms) => {
      const timer = setTimeout(() => {
        cleanups.delete(cancel);
        if (!settled) run();
      }, ms);
      const cancel = () => clearTimeout(timer);
      cleanups.add(cancel);
    };
    const query = (/** @type {Record<string, string | null | undefined>} */ params) => {
      const search = new URLSearchParams();
      for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
      const text = search.toString();
      return text ? `?${text}` : '';
    };

    if (signal?.aborted) return abandon(signal.reason);
    const onAbort = () => abandon(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    cleanups.add(() => signal?.removeEventListener('abort', onAbort));

    /**
     * The service has no such job: rejects once it has said so for `notFoundTimeoutMs` (a job is often
     * registered a moment after the page opens), and asks once more when that time is up.
     */
    const notFound = () => {
      const now = Date.now();
      if (notFoundSince === null) {
        notFoundSince = now;
        later(() => void checkStatus(), notFoundTimeoutMs);
        return false;
      }
      if (now - notFoundSince < notFoundTimeoutMs) return false;
      abandon(new JobcastError('job_not_found', `The service has no job ${id}: it was never registered, or it finished and was deleted.`));
      return true;
    };

    /** Asks the status route; resolves true when that settled the wait. */
    const checkStatus = async () => {
      let response;
      try {
        response = await fetchImpl(`${base}/jobs/${path}${query({ token })}`, { signal, cache: 'no-store' });
      } catch {
        return false; // offline or aborted: try again later
      }
      if (response.status === 401) {
        abandon(new JobcastError('invalid_token', 'The subscribe token was refused; ask the backend for a new one.'));
        return true;
      }
      if (response.status === 404) {
        // The service's own answer, not a proxy's page or a wrong baseUrl's 404.
        const body = await response.json().catch(() => null);
        return !settled && body?.error === 'job_not_found' && notFound();
      }
      if (!response.ok) return false; // 5xx or a proxy's page: transient
      notFoundSince = null;
      const job = await response.json().catch(() => null);
      if (!job || settled) return settled;
      if (job.status === 'result' || job.status === 'failed') {
        const { status, moveUrl, data, error } = job;
        finish({ status, moveUrl, data, error });
        return true;
      }
      if (typeof job.progress === 'number' && String(job.lastEventId) !== lastEventId) {
        lastEventId = String(job.lastEventId);
        progress({ progress: job.progress, message: job.message });
      }
      return false;
    };

    const poll = async () => {
      if (settled || (await checkStatus())) return;
      later(poll, Math.round(pollIntervalMs * (0.8 + Math.random() * 0.4)));
    };

    const openStream = () => {
      if (!EventSourceImpl || failures >= maxStreamFailures) return void poll();
      const source = new EventSourceImpl(`${base}/sse/connect/${path}${query({ token, lastEventId })}`);
      cleanups.add(() => source.close());
      source.addEventListener('open', () => {
        failures = 0;
        notFoundSince = null; // the service has the job
      });
      source.addEventListener('progress', (event) => {
        lastEventId = event.lastEventId || lastEventId;
        progress(JSON.parse(event.data));
      });
      source.addEventListener('result', (event) => {
        lastEventId = event.lastEventId || lastEventId;
        source.close();
        const { status, moveUrl, data, error } = JSON.parse(event.data);
        finish({ status, moveUrl, data, error });
      });
      source.addEventListener('error', async () => {
        // CONNECTING: the server ended the stream and EventSource reconnects by itself.
        // CLOSED: a non-200 answer (a proxy's 502, 401, 404, 429, 204) made it give up for good.
        if (source.readyState !== EventSourceImpl.CLOSED || settled) return;
        source.close();
        failures++;
        if (await checkStatus()) return;
        later(openStream, backoffDelay(failures));
      });
    };

    const start = () => {
      if (!settled) openStream();
    };
    const locks = globalThis.navigator?.locks;
    if (options.shareAcrossTabs === false || !locks || typeof BroadcastChannel === 'undefined') return start();

    // One tab holds the lock and the stream, and relays what it hears; when it closes, the next
    // tab in line takes over from the last event id it was told about.
    channel = new BroadcastChannel(`jobcast:${id}`);
    const shared = channel;
    cleanups.add(() => shared.close());
    shared.addEventListener('message', ({ data: message }) => {
      if (message?.type === 'result') finish(message.outcome, false);
      if (message?.type === 'error') abandon(new JobcastError(message.code, message.message), false);
      if (message?.type === 'progress') {
        lastEventId = message.lastEventId ?? lastEventId;
        progress(message.update, false);
      }
    });
    const released = new AbortController();
    cleanups.add(() => released.abort());
    locks
      .request(`jobcast:${id}`, { signal: released.signal }, () => {
        start();
        return new Promise((/** @type {(value?: unknown) => void} */ done) => cleanups.add(() => done()));
      })
      .catch(() => {}); // the wait ended while still in line
  });
}

/**
 * Waits for the job, then moves the page to its `moveUrl`. A failed job calls `onFailed` when given,
 * and otherwise goes to its `moveUrl` if it has one.
 * @param {WaitOptions & { onFailed?: (outcome: JobOutcome) => void, navigate?: (url: string) => void }} options
 * @returns {Promise<JobOutcome>}
 */
export async function redirectWhenDone(options) {
  const outcome = await waitForJob(options);
  const navigate = options.navigate ?? ((url) => globalThis.location.assign(url));
  if (outcome.status === 'failed' && options.onFailed) options.onFailed(outcome);
  else if (outcome.moveUrl) navigate(outcome.moveUrl);
  return outcome;
}
