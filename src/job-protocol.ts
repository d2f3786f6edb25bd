/**
 * The worker↔object seam: the calls a job's object answers (`JobCalls`, which `JobObject`
 * implements) and the one client that makes them (`JobClient`, used by the worker, the demo and the
 * tests). Nothing else knows how a call travels: the connect's internal headers, the stub's type and
 * the mapping of the object's refusals to the contract's errors all live here.
 */
import { ApiError, JOB_REFUSALS, PROGRESS_AFTER_FINISH } from './errors';
import type { JobRecord, Terminal } from './job-state';
import type { JobView, ProgressRequest, Published } from './schemas';

/** An answer the object may refuse with one of the contract's job errors. */
export type Outcome<T> = ({ ok: true } & T) | { ok: false; error: keyof typeof JOB_REFUSALS };
export type Registration = { created: boolean; job: JobRecord };

/** What a job's object answers over RPC. Every call names the job, which the object checks. */
export interface JobCalls {
  register(jobId: string, ttlSeconds: number | undefined): Registration | Promise<Registration>;
  progress(jobId: string, body: ProgressRequest): Promise<Outcome<Published>>;
  finish(jobId: string, terminal: Terminal): Promise<Outcome<Published>>;
  /** `waiting`: read by a waiting page, which then counts as a listener for VACATED_AFTER_MS. */
  status(jobId: string, waiting?: boolean): JobView | null;
  remove(): Promise<void>;
  /** The stream route: see `connectRequest` and `readConnect`. */
  fetch(request: Request): Promise<Response>;
}

/** The stub's type, spelled out: the runtime's inferred RPC types recurse without end over JSON `data`. */
type Remote<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never };

const JOB_ID = 'x-jobcast-job-id';
const RESUME_FROM = 'x-jobcast-last-event-id';

/** How a browser's connect reaches the object; with `socket`, as a WebSocket upgrade (hibernate mode). */
export function connectRequest(jobId: string, lastEventId: string, socket = false): Request {
  const headers: Record<string, string> = { [JOB_ID]: jobId, [RESUME_FROM]: lastEventId };
  if (socket) headers.Upgrade = 'websocket';
  return new Request('https://job.internal/connect', { headers });
}

/** The object's reading of `connectRequest`. */
export function readConnect(request: Request): { jobId: string; lastEventId: string | null; socket: boolean } {
  return {
    jobId: request.headers.get(JOB_ID) ?? '',
    lastEventId: request.headers.get(RESUME_FROM),
    socket: request.headers.get('Upgrade')?.toLowerCase() === 'websocket',
  };
}

export class JobClient {
  readonly #stub: Remote<JobCalls>;

  constructor(
    namespace: DurableObjectNamespace,
    readonly jobId: string,
  ) {
    this.#stub = namespace.get(namespace.idFromName(jobId)) as unknown as Remote<JobCalls>;
  }

  register(ttlSeconds?: number): Promise<Registration> {
    return this.#stub.register(this.jobId, ttlSeconds);
  }

  async progress(body: ProgressRequest): Promise<Published> {
    const outcome = await this.#stub.progress(this.jobId, body);
    if (!outcome.ok && outcome.error === 'job_finished') throw new ApiError('job_finished', PROGRESS_AFTER_FINISH);
    return accepted(outcome);
  }

  async finish(terminal: Terminal): Promise<Published> {
    return accepted(await this.#stub.finish(this.jobId, terminal));
  }

  async status(waiting = false): Promise<JobView> {
    const view = await this.#stub.status(this.jobId, waiting);
    if (!view) throw refusal('job_not_found');
    return view;
  }

  remove(): Promise<void> {
    return this.#stub.remove();
  }

  /** The object's answer to a browser's connect: its SSE stream, or (with `socket`) a WebSocket to relay. */
  connect(lastEventId: string, socket = false): Promise<Response> {
    return this.#stub.fetch(connectRequest(this.jobId, lastEventId, socket));
  }
}

export function refusal(error: keyof typeof JOB_REFUSALS): ApiError {
  return new ApiError(error, JOB_REFUSALS[error]);
}

function accepted<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw refusal(outcome.error);
  const { ok: _ok, ...answer } = outcome;
  return answer as T;
}
