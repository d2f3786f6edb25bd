// jobcast backend SDK: register, report progress, complete or fail a job, read or delete it, and
// mint subscribe tokens without a round trip. Plain ES module with JSDoc types; Node 18+ or any
// runtime with fetch and WebCrypto. Retries network errors and 5xx: every call is idempotent.

/** An error answer from jobcast, with the contract's error code (`job_finished`, `unauthorized`, …). */
export class JobcastApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.name = 'JobcastApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * @typedef {object} ClientOptions
 * @property {string} baseUrl  Where jobcast runs, e.g. https://jobs.example.com
 * @property {string} token  An API token (one of API_TOKENS).
 * @property {number} [retries]  Attempts after the first, on network errors and 5xx. Default 3.
 * @property {typeof fetch} [fetch]
 * @property {(ms: number) => Promise<void>} [sleep]
 */

export class JobcastClient {
  /** @param {ClientOptions} options */
  constructor(options) {
    this.baseUrl = options.baseUrl.replace(/\/$/, '');
    this.token = options.token;
    this.retries = options.retries ?? 3;
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** @param {string} id @param {{ ttlSeconds?: number }} [body] */
  register(id, body = {}) {
    return this.#call('PUT', `/jobs/${encodeURIComponent(id)}`, body);
  }

  /** @param {string} id @param {number} progress @param {string} [message] */
  progress(id, progress, message) {
    return this.#call('POST', `/jobs/${encodeURIComponent(id)}/progress`, { progress, message });
  }

  /** @param {string} id @param {{ moveUrl: string, data?: Record<string, unknown> }} body */
  complete(id, body) {
    return this.#call('POST', `/jobs/${encodeURIComponent(id)}/complete`, body);
  }

  /** @param {string} id @param {{ moveUrl?: string, error?: string }} [body] */
  fail(id, body = {}) {
    return this.#call('POST', `/jobs/${encodeURIComponent(id)}/fail`, body);
  }

  /** @param {string} id */
  status(id) {
    return this.#call('GET', `/jobs/${encodeURIComponent(id)}`);
  }

  /** @param {string} id */
  remove(id) {
    return this.#call('DELETE', `/jobs/${encodeURIComponent(id)}`);
  }

  /**
   * @param {string} method @param {string} path @param {unknown} [body]
   * @returns {Promise<any>}
   */
  async #call(method, path, body) {
    for (let attempt = 0; ; attempt++) {
      let response;
      try {
        response = await this.fetch(`${this.baseUrl}${path}`, {
          method,
          headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        if (attempt >= this.retries) throw error;
        await this.sleep(retryDelay(attempt));
        continue;
      }
      if (response.status >= 500 && attempt < this.retries) {
        await this.sleep(retryDelay(attempt));
        continue;
      }
      if (response.status === 204) return null;
      const text = await response.text();
      /** @type {any} */
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: a proxy's page
      }
      if (response.ok) return json;
      throw new JobcastApiError(response.status, json?.error ?? 'http_error', json?.message ?? `HTTP ${response.status}`);
    }
  }
}

/** @param {number} attempt */
function retryDelay(attempt) {
  const ceiling = Math.min(10_000, 250 * 2 ** attempt);
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

const encoder = new TextEncoder();

/**
 * The subscribe token jobcast itself would return for this job (see docs/api.md, "subscribe tokens").
 * @param {string} signingKey @param {string} jobId @param {number} expiresAt  Unix seconds.
 */
export async function mintSubscribeToken(signingKey, jobId, expiresAt) {
  const key = await crypto.subtle.importKey('raw', encoder.encode(signingKey), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(`jobcast-subscribe-v1\n${jobId}\n${expiresAt}`)));
  let binary = '';
  for (const byte of signature) binary += String.fromCharCode(byte);
  return `v1.${expiresAt}.${btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}
