import { DurableObject } from 'cloudflare:workers';
import { readConfig, type Config, type Env } from './config';
import { errorResponse, JOB_REFUSALS } from './errors';
import { readConnect, type JobCalls, type Outcome, type Registration } from './job-protocol';
import {
  EVENT_HISTORY,
  eventsToReplay,
  isPastEnd,
  isSameTerminal,
  parseLastEventId,
  progressPayload,
  terminalEvent,
  terminalPayload,
  toView,
  type JobRecord,
  type StoredEvent,
  type Terminal,
} from './job-state';
import { JobStore } from './job-store';
import { logError, logInfo, logWarn } from './log';
import { metrics } from './metrics';
import { deliver, notificationBody, retryAt, tentativeVacancy, type Outgoing } from './notifications';
import type { JobView, ProgressRequest, Published } from './schemas';
import { ANSWERED_CLOSE, closeSocket, SocketListeners } from './socket-listeners';
import { formatMessage, SSE_HEADERS } from './sse';
import { StreamListeners } from './stream-listeners';
import type { NotificationType } from './webhook-signature';

/** What a pending job that reaches its ttl fails with. */
const EXPIRED: Terminal = { status: 'failed', error: 'expired' };

/**
 * How long a finished job's listeners are kept after its result was sent, before their clean end,
 * when it has more than one. Ending a stream costs the runtime more than writing to it (in hibernate
 * mode it is a close on each side of a socket), so ending each one straight after its result put the
 * ends ahead of the other streams' results: with 1,000 streams on one job the last result arrived 2.5
 * times later in hibernate mode, 1.4 times in the default mode. A lone listener is ended at once:
 * there is no other result to let through, and a timer would keep a hibernate-mode object (and its
 * bill) awake for nothing.
 */
const END_AFTER_RESULT_MS = 250;

/** How soon an alarm that found the settings unreadable runs again. */
const CONFIG_RETRY_MS = 60_000;

/**
 * One job: its persisted record and event history, and the browsers waiting on it, as response
 * streams it holds (the default mode) or as hibernatable WebSockets from the worker (HIBERNATE=true).
 * Every call runs without awaiting between reading and writing state, so calls to one job never
 * interleave.
 */
export class JobObject extends DurableObject<Env> implements JobCalls {
  readonly #config: Config;
  /** Why the settings could not be read, when they could not: the object then only waits for a fix. */
  readonly #configError: string | null = null;
  readonly #store: JobStore;
  readonly #streams: StreamListeners;
  readonly #sockets: SocketListeners;
  #job: JobRecord | null;
  #history: StoredEvent[];
  /** Backend notifications still to deliver, oldest first (only read when notifications are on). */
  #outbox: Outgoing[];
  /** The stored grace of the last departure (see `tentativeVacancy`), which the next one replaces. */
  #vacancy: Outgoing | null;
  /** When the running grace ends, or null when none runs (none started, or the job was watched again). */
  #graceEndsAt: number | null;
  /**
   * The last status read by a waiting page (subscribe token, or no API token in open mode): it counts
   * as a listener for VACATED_AFTER_MS. Kept in memory only, so a poll writes nothing: a page that
   * polls every few seconds keeps the object loaded (an idle object is evicted after about 10 s), and
   * an object evicted since had no poll in that long.
   */
  #lastPolledAt = -Infinity;
  /** The newest job's `createdAt`, its incarnation: a job registered again after a delete gets a later one. */
  #lastCreatedAt: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // The worker refuses every call while a setting cannot be read, so only an alarm gets here then;
    // it must not throw, or the runtime gives the alarm up after a few retries and a job would
    // neither expire nor deliver its notifications once the setting is fixed.
    try {
      this.#config = readConfig(env);
    } catch (error) {
      this.#configError = String(error);
      this.#config = readConfig({ JOBS: env.JOBS });
    }
    this.#store = new JobStore(ctx.storage);
    this.#job = this.#store.loadJob();
    this.#history = this.#job ? this.#store.loadProgressEvents() : [];
    const terminal = this.#job ? terminalEvent(this.#job) : null;
    if (terminal) this.#history.push(terminal);
    const stored = this.#config.webhook ? this.#store.loadOutbox() : [];
    this.#outbox = stored.filter((outgoing) => !outgoing.tentative);
    this.#vacancy = stored.find((outgoing) => outgoing.tentative) ?? null;
    this.#graceEndsAt = this.#job?.status === 'pending' ? (this.#vacancy?.nextAt ?? null) : null;
    this.#lastCreatedAt = this.#job?.createdAt ?? 0;
    this.#streams = new StreamListeners(this.#config, () => this.#job?.id ?? null, () => this.#departed());
    this.#sockets = new SocketListeners(ctx);
    if (this.#config.logLevel === 'debug') logInfo('job object loaded', { job: this.#job?.id ?? null, sockets: this.#sockets.size });
  }

  /** Open listeners, of both kinds: for the cap, and for tests. */
  get listenerCount(): number {
    return this.#streams.size + this.#sockets.size;
  }

  /** A browser's connect (see `connectRequest`): its stream, or a socket for the worker to relay. */
  override async fetch(request: Request): Promise<Response> {
    const { jobId, lastEventId, socket } = readConnect(request);
    const job = this.#current(jobId);
    if (!job) return errorResponse('job_not_found', JOB_REFUSALS.job_not_found);
    const resumeFrom = parseLastEventId(lastEventId);
    if (isPastEnd(job, resumeFrom)) return new Response(null, { status: 204 });

    let first = formatMessage({ retry: this.#config.reconnectMs, event: 'connect', data: JSON.stringify({ status: 'connect', moveUrl: '' }) });
    for (const event of eventsToReplay(job, this.#history, resumeFrom)) first += frame(event);
    if (job.status !== 'pending') return new Response(first, { headers: SSE_HEADERS });

    const { maxSubscribersPerJob } = this.#config;
    if (this.listenerCount >= maxSubscribersPerJob) {
      return errorResponse('too_many_subscribers', `This job already has ${maxSubscribersPerJob} open streams; close one or try again later.`);
    }
    metrics.streamOpened(this.env, jobId, socket ? 'hibernate' : 'stream', resumeFrom !== null);
    if (socket) return new Response(null, { status: 101, webSocket: this.#sockets.accept(first, job.lastEventId, job.createdAt) });
    return new Response(this.#streams.open(first, job.lastEventId), { headers: SSE_HEADERS });
  }

  register(jobId: string, ttlSeconds: number | undefined): Registration {
    const existing = this.#current(jobId);
    if (existing) return { created: false, job: existing };
    const now = Date.now();
    const job: JobRecord = {
      id: jobId,
      status: 'pending',
      createdAt: this.#newIncarnation(now),
      expiresAt: now + (ttlSeconds ?? this.#config.jobTtlSeconds) * 1000,
      lastEventId: 0,
    };
    this.#store.saveJob(job);
    this.#job = job;
    this.#history = [];
    this.#graceEndsAt = null;
    this.#lastPolledAt = -Infinity;
    void this.#arm(now);
    return { created: true, job };
  }

  async progress(jobId: string, { progress, message }: ProgressRequest): Promise<Outcome<Published>> {
    const job = this.#current(jobId);
    if (!job) return { ok: false, error: 'job_not_found' };
    if (job.status !== 'pending') return { ok: false, error: 'job_finished' };
    const event: StoredEvent = { id: job.lastEventId + 1, name: 'progress', data: progressPayload(progress, message) };
    const next: JobRecord = { ...job, progress, message, lastEventId: event.id };
    this.#store.appendProgress(event);
    this.#remember(next, event);
    return this.#announce(event, false);
  }

  /** Completes or fails the job, creating it finished if it was never registered. */
  async finish(jobId: string, terminal: Terminal): Promise<Outcome<Published>> {
    const now = Date.now();
    const job = this.#current(jobId);
    if (job && job.status !== 'pending') {
      if (!isSameTerminal(job, terminal)) return { ok: false, error: 'job_finished' };
      return { ok: true, eventId: job.lastEventId, delivered: 0, duplicate: true };
    }
    const event = this.#conclude(job ?? { id: jobId, status: 'pending', createdAt: this.#newIncarnation(now), expiresAt: now, lastEventId: 0 }, terminal, now);
    // A registered job's alarm is already due by the new expiry (see #nextAlarm); one made by this
    // call has none yet.
    if (!job) void this.#arm(now);
    return this.#announce(event, true);
  }

  /** Stores `terminal` as the job's end, in one row: its event is rebuilt from the record on load. */
  #conclude(job: JobRecord, terminal: Terminal, now: number): StoredEvent {
    const event: StoredEvent = { id: job.lastEventId + 1, name: 'result', data: terminalPayload(terminal) };
    // A finished job is never vacated: a stored grace stays until the job's storage goes.
    this.#graceEndsAt = null;
    const next: JobRecord = { ...job, ...terminal, finishedAt: now, expiresAt: now + this.#config.resultTtlSeconds * 1000, lastEventId: event.id };
    this.#store.saveJob(next);
    this.#remember(next, event);
    return event;
  }

  /**
   * A pending job at its ttl fails as if the backend had sent `fail {"error":"expired"}`: every
   * listener gets that result and is ended, and the result is kept RESULT_TTL_SECONDS like any other.
   */
  async #expire(job: JobRecord, now: number): Promise<void> {
    if (this.#config.logLevel !== 'warn') logInfo('job expired', { job: job.id });
    const event = this.#conclude(job, EXPIRED, now);
    this.#notify('job.expired', job.id, now);
    void this.#arm(now);
    const announced = await this.#announce(event, true);
    if (announced.ok) metrics.expired(this.env, job.id, announced.delivered);
  }

  /**
   * Persist before announce: sends `event`, already written and remembered, to the listeners once the
   * write is durable. A stream's bytes are not held by the output gate (a JavaScript stream's
   * `enqueue` is not gated; test/faults/output-gate.test.ts), so the wait is ours. If the write fails,
   * the object is reset and nobody sees the event. Listeners that joined during the wait got the event
   * in their replay already, so only those that joined before it are sent it.
   */
  async #announce(event: StoredEvent, last: boolean): Promise<Outcome<Published>> {
    await this.ctx.storage.sync();
    const text = frame(event);
    const delivered = this.#streams.send(event.id, text) + this.#sockets.send(event.id, text);
    if (last && this.listenerCount > 1) setTimeout(() => this.#endListeners(), END_AFTER_RESULT_MS);
    else if (last) this.#endListeners();
    return { ok: true, eventId: event.id, delivered };
  }

  /** The job's view; `waiting` when a page read it (it then counts as a listener for VACATED_AFTER_MS). */
  status(jobId: string, waiting = false): JobView | null {
    const job = this.#current(jobId);
    if (job?.status === 'pending' && waiting) this.#lastPolledAt = Date.now();
    return job ? toView(job, this.listenerCount) : null;
  }

  async remove(): Promise<void> {
    await this.#purge();
  }

  /**
   * The one alarm, for whatever comes due first: the job's expiry (a pending job fails as expired, a
   * finished one is deleted), the end of a vacancy's grace, and the next notification to deliver.
   * It is then armed again for the next of them.
   */
  override async alarm(): Promise<void> {
    if (this.#configError !== null) {
      logError('configuration rejected', { error: this.#configError });
      await this.ctx.storage.setAlarm(Date.now() + CONFIG_RETRY_MS);
      return;
    }
    const now = Date.now();
    const job = this.#job;
    if (job && job.expiresAt <= now) {
      if (job.status === 'pending') await this.#expire(job, now);
      else await this.#purge();
    } else if (job?.status === 'pending' && this.#graceEndsAt !== null && this.#graceEndsAt <= now) {
      this.#endGrace(job, now);
    }
    await this.#deliverDue();
    await this.#arm(Date.now());
  }

  /** A relaying worker closed its socket: its browser left, or its stream reached its end. */
  override webSocketClose(socket: WebSocket, code: number, reason: string): void {
    closeSocket(socket, code, reason);
    if (this.#config.logLevel === 'debug') logInfo('stream ended', { job: this.#job?.id ?? null, reason: reason || 'closed' });
    // A relay answering a close of ours (a finished or deleted job, whose id may be registered again
    // by now) is no departure; with notifications off no departure matters, so the sockets are not
    // scanned for each one.
    if (reason === ANSWERED_CLOSE || !this.#config.webhook) return;
    // A socket of an earlier incarnation of this id (deleted and registered again since) left that
    // job, not this one, whatever its close says.
    if (incarnationOf(socket) !== undefined && incarnationOf(socket) !== this.#job?.createdAt) return;
    if (!this.ctx.getWebSockets().some((other) => other !== socket && other.readyState === WebSocket.OPEN)) this.#departed();
  }

  override webSocketError(socket: WebSocket): void {
    this.webSocketClose(socket, 1011, 'error');
  }

  /**
   * The last open stream of a pending job ended (its browser left, or its stream reached
   * STREAM_MAX_MS and it may come back): with notifications on, the job is vacated after
   * VACATED_AFTER_MS unless a stream is open by then. An alarm, not a timer, so that a hibernating
   * object is not kept awake for the grace.
   */
  #departed(): void {
    const job = this.#job;
    if (!this.#config.webhook || !job || job.status !== 'pending') return;
    const now = Date.now();
    const endsAt = now + this.#config.vacatedAfterMs;
    this.#graceEndsAt = endsAt;
    // The grace is stored as the notification it may become, one row that a later departure replaces.
    this.#vacancy = this.#vacancy ? { ...this.#vacancy, firstAt: endsAt, nextAt: endsAt } : tentativeVacancy(this.#nextSeq(), endsAt);
    this.#store.saveOutgoing(this.#vacancy);
    void this.#arm(now);
  }

  /**
   * The grace is over. A job watched again (a stream, or a page that polled within VACATED_AFTER_MS)
   * is not vacated, and nothing is written: its stored grace waits for the next departure to replace
   * it. Otherwise the grace becomes the `job.vacated` to deliver, in place, with its id.
   */
  #endGrace(job: JobRecord, now: number): void {
    const endsAt = this.#graceEndsAt ?? now;
    const vacancy = this.#vacancy;
    this.#graceEndsAt = null;
    if (!vacancy || this.listenerCount > 0) return;
    const polledUntil = this.#lastPolledAt + this.#config.vacatedAfterMs;
    if (polledUntil > now) {
      this.#graceEndsAt = polledUntil;
      return;
    }
    this.#vacancy = null;
    metrics.vacated(this.env, job.id);
    const { body } = notificationBody('job.vacated', job.id, endsAt, vacancy.id);
    const outgoing: Outgoing = { seq: vacancy.seq, id: vacancy.id, type: vacancy.type, body, attempts: 0, firstAt: now, nextAt: now };
    this.#outbox.push(outgoing);
    // First in line, it is sent now and its row deleted once it lands (rewritten only if it fails);
    // behind another, it is stored as what it is now.
    if (this.#outbox.length > 1) this.#store.saveOutgoing(outgoing);
  }

  /** Stores a notification to deliver (in the same commit as what it tells), if notifications are on. */
  #notify(type: NotificationType, jobId: string, now: number): void {
    if (!this.#config.webhook) return;
    const { id, body } = notificationBody(type, jobId, now);
    const outgoing: Outgoing = { seq: this.#nextSeq(), id, type, body, attempts: 0, firstAt: now, nextAt: now };
    this.#store.saveOutgoing(outgoing);
    this.#outbox.push(outgoing);
  }

  #nextSeq(): number {
    return Math.max(0, this.#vacancy?.seq ?? 0, ...this.#outbox.map((outgoing) => outgoing.seq)) + 1;
  }

  /** A `createdAt` later than any this object gave before, so that each incarnation has its own. */
  #newIncarnation(now: number): number {
    this.#lastCreatedAt = Math.max(now, this.#lastCreatedAt + 1);
    return this.#lastCreatedAt;
  }

  /**
   * Delivers the notifications that are due, oldest first: a job's notifications arrive in order, so
   * one that fails holds the later ones back until it lands or is given up. Runs only in the alarm,
   * which never blocks a backend call or a stream (the object takes other calls while it waits).
   */
  async #deliverDue(): Promise<void> {
    const webhook = this.#config.webhook;
    const had = this.#outbox.length > 0;
    while (webhook && this.#outbox.length > 0 && this.#outbox[0].nextAt <= Date.now()) {
      const outgoing = this.#outbox[0];
      // The retries' 10 minutes run from the first attempt, not from when it was stored (it may have
      // waited behind an earlier one of the job, or for a late alarm).
      if (outgoing.attempts === 0) outgoing.firstAt = Date.now();
      const { ok, status } = await deliver(webhook, outgoing, Date.now());
      const attempt = outgoing.attempts + 1;
      const fields = { job: this.#jobIdOf(outgoing), type: outgoing.type, id: outgoing.id, status, attempt };
      metrics.notification(this.env, fields.job, fields.type, status, attempt, ok);
      if (ok && this.#config.logLevel !== 'warn') logInfo('notification', fields);
      if (!ok) logWarn('notification', fields);
      const nextAt = ok ? null : retryAt(attempt, outgoing.firstAt, Date.now());
      if (nextAt === null) {
        if (!ok) logWarn('notification given up', fields);
        this.#store.dequeue(outgoing.seq);
        this.#outbox.shift();
        continue;
      }
      outgoing.attempts = attempt;
      outgoing.nextAt = nextAt;
      this.#store.saveOutgoing(outgoing);
    }
    if (had && !this.#job && this.#outbox.length === 0) await this.#purge();
  }

  #jobIdOf(outgoing: Outgoing): string {
    return (JSON.parse(outgoing.body) as { job: string }).job;
  }

  /** Arms the one alarm for the first of: the job's next alarm, the vacancy's end, the next delivery. */
  async #arm(now: number): Promise<void> {
    const job = this.#job;
    const due = [
      job ? this.#nextAlarm(job, now) : Infinity,
      job?.status === 'pending' ? (this.#graceEndsAt ?? Infinity) : Infinity,
      this.#outbox[0]?.nextAt ?? Infinity,
    ];
    const next = Math.min(...due);
    if (next !== Infinity) await this.ctx.storage.setAlarm(next);
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

  #current(jobId: string): JobRecord | null {
    const job = this.#job;
    if (!job) return null;
    if (job.id !== jobId) throw new Error(`object for job ${job.id} was asked about ${jobId}`);
    const now = Date.now();
    if (job.expiresAt > now) return job;
    // The alarm is late or has not run yet; expiry is what the record says, not when the alarm fires.
    if (job.status === 'pending') {
      void this.#expire(job, now);
      return this.#job;
    }
    void this.#purge();
    return null;
  }

  #remember(job: JobRecord, event: StoredEvent): void {
    this.#job = job;
    this.#history.push(event);
    if (this.#history.length > EVENT_HISTORY) this.#history.shift();
  }

  #endListeners(): void {
    this.#streams.endAll();
    this.#sockets.endAll();
  }

  /** Deletes the job; notifications still to deliver are kept, and the rest goes once they are. */
  async #purge(): Promise<void> {
    this.#job = null;
    this.#history = [];
    this.#graceEndsAt = null;
    this.#endListeners();
    const vacancy = this.#vacancy;
    this.#vacancy = null;
    if (this.#outbox.length > 0) {
      this.#store.forgetJob();
      if (vacancy) this.#store.dequeue(vacancy.seq);
      return this.#arm(Date.now());
    }
    // With this compatibility date (2026-02-24 or later) it deletes the alarm too: one call, not two.
    await this.ctx.storage.deleteAll();
  }
}

/** The incarnation (job `createdAt`) a socket was accepted for; undefined for one accepted by an earlier release. */
function incarnationOf(socket: WebSocket): number | undefined {
  return (socket.deserializeAttachment() as { incarnation?: number } | null)?.incarnation;
}

function frame(event: StoredEvent): string {
  return formatMessage({ id: event.id, event: event.name, data: event.data });
}
