// jobcast backend SDK: register, report progress, complete or fail a job, read or delete it, and
// mint subscribe tokens without a round trip. Node 20+ or any runtime with fetch and WebCrypto.
// Retries network errors and 5xx: every call is idempotent. The request and answer types are the
// service's own zod schemas (src/schemas.ts), and the token and the backoff the service's own code,
// so the SDK cannot drift from what the service accepts.
import { backoffDelay } from '../../public/backoff.js';
import type { CompleteRequest, FailRequest, JobView as JobViewFields, Published, RegisterRequest, Registered } from '../schemas.ts';
import { mintSubscribeToken } from '../subscribe-token.ts';

export type { CompleteRequest, FailRequest, Published, RegisterRequest, Registered };
type Common = Omit<JobViewFields, 'status' | 'moveUrl' | 'data' | 'error'>;
/**
 * A job as `GET /jobs/:id` shows it, narrowed on `status` as the browser client's outcome is: a
 * result always has its `moveUrl`, only a result has `data`, only a failure has `error`.
 */
export type JobView =
  | (Common & { status: 'pending' })
  | (Common & { status: 'result'; moveUrl: string; data?: JobViewFields['data'] })
  | (Common & { status: 'failed'; error?: string; moveUrl?: string });
/** The subscribe token jobcast itself would return for a job (docs/api.md, "Subscribe tokens"); `expiresAt` in Unix seconds. */
export { mintSubscribeToken };
export { JobcastWebhookError, verifyWebhook, type Notification, type NotificationType, type VerifyOptions, type WebhookFailure } from './webhook.ts';

/** An error answer from jobcast, with the contract's error code (`job_finished`, `unauthorized`, …). */
export class JobcastApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'JobcastApiError';
    this.status = status;
    this.code = code;
  }
}

export interface ClientOptions {
  /** Where jobcast runs, e.g. https://jobs.example.com */
  baseUrl: string;
  /** An API token (one of API_TOKENS). */
  token: string;
  /** Attempts after the first, on network errors and 5xx. Default 3. */
  retries?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export class JobcastClient {
  readonly baseUrl: string;
  readonly #token: string;
  readonly #retries: number;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, '');
    this.#token = options.token;
    this.#retries = options.retries ?? 3;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  register(id: string, body: RegisterRequest = {}): Promise<Registered> {
    return this.#call('PUT', jobPath(id), body);
  }

  progress(id: string, progress: number, message?: string): Promise<Published> {
    return this.#call('POST', `${jobPath(id)}/progress`, { progress, message });
  }

  complete(id: string, body: CompleteRequest): Promise<Published> {
    return this.#call('POST', `${jobPath(id)}/complete`, body);
  }

  fail(id: string, body: FailRequest = {}): Promise<Published> {
    return this.#call('POST', `${jobPath(id)}/fail`, body);
  }

  status(id: string): Promise<JobView> {
    return this.#call('GET', jobPath(id));
  }

  async remove(id: string): Promise<void> {
    await this.#call('DELETE', jobPath(id));
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.#fetch(`${this.baseUrl}${path}`, {
          method,
          headers: { Authorization: `Bearer ${this.#token}`, 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        if (attempt >= this.#retries) throw error;
        await this.#sleep(retryDelay(attempt));
        continue;
      }
      if (response.status >= 500 && attempt < this.#retries) {
        await this.#sleep(retryDelay(attempt));
        continue;
      }
      if (response.status === 204) return undefined as T;
      const text = await response.text();
      let json: { error?: string; message?: string } | null = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: a proxy's page
      }
      if (response.ok) return json as T;
      throw new JobcastApiError(response.status, json?.error ?? 'http_error', json?.message ?? `HTTP ${response.status}`);
    }
  }
}

function jobPath(id: string): string {
  return `/jobs/${encodeURIComponent(id)}`;
}

/** Half a second at most for the first retry, doubling to 10 s: a backend call is worth waiting for, not for long. */
function retryDelay(attempt: number): number {
  return backoffDelay(attempt + 1, Math.random, { firstMs: 250, maxMs: 10_000 });
}
