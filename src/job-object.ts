import { DurableObject } from 'cloudflare:workers';
import { readConfig, type Config, type Env } from './config';
import { errorResponse, JOB_REFUSALS } from './errors';
import {
  EVENT_HISTORY,
  eventsToReplay,
  isPastEnd,
  parseLastEventId,
  progressPayload,
  isSameTerminal,
  terminalEvent,
  terminalPayload,
  toView,
  type JobRecord,
  type JobView,
  type StoredEvent,
  type Terminal,
} from './job-state';
import { logInfo, logWarn } from './log';
import { formatComment, formatMessage } from './sse';
import { SubscriberSet, type DropReason } from './subscribers';
import { JobStore } from './job-store';

export const JOB_ID_HEADER = 'x-jobcast-job-id';
export const LAST_EVENT_ID_HEADER = 'x-jobcast-last-event-id';
/**
 * The object's answer to a backend call, as the contract's JSON body; the response itself has no body
 * (see `callJob` in app.ts). Never passed on to the caller.
 */
export const ANSWER_HEADER = 'x-jobcast-answer';

/** A slow reader may fall this far behind before its stream is ended. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
} as const;

export type Outcome<T> = ({ ok: true } & T) | { ok: false; error: 'job_not_found' | 'job_finished' };
export type Published = { eventId: number; delivered: number; duplicate?: true };

/**
 * What the worker may call on a job's stub. Spelled out because the runtime's inferred RPC types
 * recurse without end over the JSON `data` type.
 */
type Remote<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never };
export type JobStub = Remote<Pick<JobObject, 'register' | 'progress' | 'finish' | 'status' | 'remove'>> &
  Pick<Fetcher, 'fetch'>;

const encoder = new TextEncoder();

/**
 * One job: its persisted record and event history, and the browsers waiting on it. Every method runs
 * without awaiting between reading and writing state, so calls to one job never interleave.
 */
export class JobObject extends DurableObject<Env> {
  readonly #config: Config;
  readonly #store: JobStore;
  readonly #subscribers: SubscriberSet;
  readonly #heartbeat = encoder.encode(formatComment('ping'));
  #job: JobRecord | null;
  #history: StoredEvent[];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #timerDueAt = Infinity;
  #drops: Record<DropReason, number> = { departed: 0, overflow: 0 };
  #dropLogPending = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = readConfig(env);
    this.#store = new JobStore(ctx.storage);
    this.#job = this.#store.loadJob();
    this.#history = this.#job ? this.#store.loadProgressEvents() : [];
    const terminal = this.#job ? terminalEvent(this.#job) : null;
    if (terminal) this.#history.push(terminal);
    this.#subscribers = new SubscriberSet(MAX_BUFFERED_BYTES, (reason) => this.#countDrop(reason));
  }

  /**
   * The stream (`GET /connect`) and the hot backend calls (`POST /progress`, `POST /finish`, bodies
   * already checked by the worker). These come over fetch rather than RPC because that measured about
   * 0.6 ms less per call under wrangler dev (see BENCHMARKS.md); the RPC methods below stay for the rest.
   * The answer to a backend call is the contract's answer, in ANSWER_HEADER, with no body.
   */
  override async fetch(request: Request): Promise<Response> {
    const jobId = request.headers.get(JOB_ID_HEADER) ?? '';
    if (request.method === 'POST') {
      const path = new URL(request.url).pathname;
      if (path === '/finish') return answer(await this.finish(jobId, await request.json<Terminal>()), 200);
      if (path === '/progress') {
        const { progress, message } = await request.json<{ progress: number; message?: string }>();
        return answer(await this.progress(jobId, progress, message), 202);
      }
      return errorResponse('not_found', `No such call: POST ${path}`);
    }
    return this.#connect(jobId, request);
  }

  #connect(jobId: string, request: Request): Response {
    const job = this.#current(jobId);
    if (!job) return errorResponse('job_not_found', JOB_REFUSALS.job_not_found);
    const resumeFrom = parseLastEventId(request.headers.get(LAST_EVENT_ID_HEADER));
    if (isPastEnd(job, resumeFrom)) return new Response(null, { status: 204 });

    let first = formatMessage({
      retry: this.#config.reconnectMs,
      event: 'connect',
      data: JSON.stringify({ status: 'connect', moveUrl: '' }),
    });
    for (const event of eventsToReplay(job, this.#history, resumeFrom)) first += frame(event);
    const bytes = encoder.encode(first);
    if (job.status !== 'pending') return new Response(bytes, { headers: SSE_HEADERS });

    if (this.#subscribers.size >= this.#config.maxSubscribersPerJob) {
      return errorResponse(
        'too_many_subscribers',
        `This job already has ${this.#config.maxSubscribersPerJob} open streams; close one or try again later.`,
      );
    }
    const stream = this.#subscribers.open(Date.now(), bytes);
    if (this.#config.logLevel === 'debug') logInfo('stream opened', { job: job.id, streams: this.#subscribers.size });
    const now = Date.now();
    this.#armSweep(now + Math.min(this.#config.heartbeatMs - this.#slackMs(), this.#config.streamMaxMs), now);
    return new Response(stream, { headers: SSE_HEADERS });
  }

  register(jobId: string, ttlSeconds: number | undefined): { created: boolean; job: JobRecord } {
    const existing = this.#current(jobId);
    if (existing) return { created: false, job: existing };
    const now = Date.now();
    const job: JobRecord = {
      id: jobId,
      status: 'pending',
      createdAt: now,
      expiresAt: now + (ttlSeconds ?? this.#config.jobTtlSeconds) * 1000,
      lastEventId: 0,
    };
    this.#store.saveJob(job);
    this.#job = job;
    this.#history = [];
    void this.ctx.storage.setAlarm(this.#nextAlarm(job, now));
    return { created: true, job };
  }

  async progress(jobId: string, progress: number, message: string | undefined): Promise<Outcome<Published>> {
    const job = this.#current(jobId);
    if (!job) return { ok: false, error: 'job_not_found' };
    if (job.status !== 'pending') return { ok: false, error: 'job_finished' };
    const event: StoredEvent = { id: job.lastEventId + 1, name: 'progress', data: progressPayload(progress, message) };
    const next: JobRecord = { ...job, progress, message, lastEventId: event.id };
    this.#store.appendProgress(next, event, event.id - EVENT_HISTORY);
    this.#remember(next, event);
    return this.#announce(event, false);
  }

  /** Completes or fails the job, creating it finished if it was never registered. */
  async finish(jobId: string, terminal: Terminal): Promise<Outcome<Published>> {
    const now = Date.now();
    let job = this.#current(jobId);
    if (job && job.status !== 'pending') {
      if (!isSameTerminal(job, terminal)) return { ok: false, error: 'job_finished' };
      return { ok: true, eventId: job.lastEventId, delivered: 0, duplicate: true };
    }
    const registered = job !== null;
    job ??= { id: jobId, status: 'pending', createdAt: now, expiresAt: now, lastEventId: 0 };
    const event: StoredEvent = { id: job.lastEventId + 1, name: 'result', data: terminalPayload(terminal) };
    const next: JobRecord = {
      ...job,
      ...terminal,
      finishedAt: now,
      expiresAt: now + this.#config.resultTtlSeconds * 1000,
      lastEventId: event.id,
    };
    // One row: the terminal lives in the job's record, and its event is rebuilt from it on load.
    this.#store.saveJob(next);
    this.#remember(next, event);
    // A registered job's alarm is already due by the new expiry (see #nextAlarm); one made by this
    // call has none yet.
    if (!registered) void this.ctx.storage.setAlarm(next.expiresAt);
    return this.#announce(event, true);
  }

  /**
   * Persist before announce: sends `event`, already written and remembered, to the open streams once
   * the write is durable. A stream's bytes are not held by the output gate (a JavaScript stream's
   * `enqueue` is not gated; test/output-gate.test.ts), so the wait is ours. If the write fails, the
   * object is reset and nobody sees the event. Streams opened during the wait got the event in their
   * replay already, so only those opened before are written to.
   */
  async #announce(event: StoredEvent, last: boolean): Promise<Outcome<Published>> {
    const mark = this.#subscribers.mark;
    await this.ctx.storage.sync();
    const delivered = this.#subscribers.broadcast(encoder.encode(frame(event)), Date.now(), mark);
    if (last) this.#subscribers.closeAll();
    this.#flushDropLog();
    return { ok: true, eventId: event.id, delivered };
  }

  status(jobId: string): JobView | null {
    const job = this.#current(jobId);
    return job ? toView(job) : null;
  }

  async remove(): Promise<void> {
    await this.#purge();
  }

  /** The one alarm: the job's expiry. Anything not yet due re-arms it. */
  override async alarm(): Promise<void> {
    const job = this.#job;
    if (!job) return;
    if (job.expiresAt <= Date.now()) {
      if (this.#config.logLevel === 'debug') logInfo('job expired', { job: job.id, status: job.status });
      await this.#purge();
    } else {
      await this.ctx.storage.setAlarm(this.#nextAlarm(job, Date.now()));
    }
  }

  /**
   * When the alarm should next run for `job`. It runs at least every RESULT_TTL_SECONDS while the
   * job is pending, so whenever the job finishes the armed alarm already falls at or before the
   * result's expiry (finish time + RESULT_TTL_SECONDS): completing a job never has to move the
   * alarm, which keeps an alarm write off the completion path. Its only cost is an extra wake-up per
   * RESULT_TTL_SECONDS for a job that stays pending longer than that.
   */
  #nextAlarm(job: JobRecord, now: number): number {
    return job.status === 'pending' ? Math.min(job.expiresAt, now + this.#config.resultTtlSeconds * 1000) : job.expiresAt;
  }

  /** Open streams, for tests and diagnostics. */
  get streamCount(): number {
    return this.#subscribers.size;
  }

  #current(jobId: string | null): JobRecord | null {
    const job = this.#job;
    if (!job) return null;
    if (jobId !== null && job.id !== jobId) throw new Error(`object for job ${job.id} was asked about ${jobId}`);
    if (job.expiresAt > Date.now()) return job;
    // The alarm is late or has not run yet; expiry is what the record says, not when the alarm fires.
    void this.#purge();
    return null;
  }

  #remember(job: JobRecord, event: StoredEvent): void {
    this.#job = job;
    this.#history.push(event);
    if (this.#history.length > EVENT_HISTORY) this.#history.shift();
  }

  async #purge(): Promise<void> {
    this.#job = null;
    this.#history = [];
    this.#subscribers.closeAll();
    this.#clearTimer();
    this.#store.forget();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  /** Arms the stream timer for `dueAt`, unless it is already armed for earlier. */
  #armSweep(dueAt: number, now: number): void {
    if (this.#timer !== null && this.#timerDueAt <= dueAt) return;
    this.#clearTimer();
    this.#timerDueAt = dueAt;
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, dueAt - now));
  }

  #slackMs(): number {
    return Math.min(250, Math.floor(this.#config.heartbeatMs / 20));
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerDueAt = Infinity;
  }

  /** The one stream timer: heartbeats for idle streams and clean ends for old ones, then re-arm. */
  #sweep(): void {
    this.#timer = null;
    this.#timerDueAt = Infinity;
    const now = Date.now();
    const { heartbeatMs, streamMaxMs, logLevel } = this.#config;
    const slackMs = this.#slackMs();
    const sweep = this.#subscribers.sweep(now, this.#heartbeat, heartbeatMs, streamMaxMs, slackMs);
    if (logLevel === 'debug' && sweep.ended > 0) logInfo('streams ended', { job: this.#job?.id ?? null, ended: sweep.ended, reason: 'max_age' });
    this.#flushDropLog();
    if (sweep.nextDueAt !== null) this.#armSweep(Math.max(sweep.nextDueAt - slackMs, now + 1), now);
  }

  #countDrop(reason: DropReason): void {
    this.#drops[reason]++;
    if (this.#config.logLevel === 'debug') logInfo('stream ended', { job: this.#job?.id ?? null, reason });
    if (this.#dropLogPending) return;
    this.#dropLogPending = true;
    // Cancellations arrive one by one; one line per burst keeps logging off the per-stream path.
    setTimeout(() => this.#flushDropLog(), 0);
  }

  #flushDropLog(): void {
    this.#dropLogPending = false;
    const { departed, overflow } = this.#drops;
    if (departed === 0 && overflow === 0) return;
    this.#drops = { departed: 0, overflow: 0 };
    const fields = { job: this.#job?.id ?? null, departed, overflow, streams: this.#subscribers.size };
    if (overflow > 0) logWarn('streams dropped', fields);
    else logInfo('streams dropped', fields);
  }
}

/** The contract's answer to progress/complete/fail, in ANSWER_HEADER (always ASCII: numbers and `true`). */
function answer(outcome: Outcome<Published>, status: 200 | 202): Response {
  if (!outcome.ok) return errorResponse(outcome.error, JOB_REFUSALS[outcome.error]);
  const { ok: _ok, ...body } = outcome;
  return new Response(null, { status, headers: { [ANSWER_HEADER]: JSON.stringify(body) } });
}

function frame(event: StoredEvent): string {
  return formatMessage({ id: event.id, event: event.name, data: event.data });
}
