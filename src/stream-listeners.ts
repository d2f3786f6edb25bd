import { logInfo, logWarn } from './log';
import { formatComment } from './sse';
import { SubscriberSet, type DropReason } from './subscribers';

/** Who is listening to one job: the operations the job's object needs, whatever holds the listeners. */
export interface Listeners {
  readonly size: number;
  /** Sends event `eventId`'s frame to every listener that joined before it was stored; returns how many took it. */
  send(eventId: number, frame: string): number;
  /** Ends every listener cleanly, after what was already sent. */
  endAll(): void;
}

export interface StreamTimings {
  heartbeatMs: number;
  streamMaxMs: number;
  logLevel: 'warn' | 'info' | 'debug';
}

/** A slow reader may fall this far behind before its stream is ended (in both waiting modes). */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
const encoder = new TextEncoder();
export const HEARTBEAT = encoder.encode(formatComment('ping'));

/**
 * Listeners as response streams held by the object (the default waiting mode): the object writes
 * their heartbeats and ends them after `streamMaxMs`, from one timer, and keeps a tally of the streams
 * that ended abnormally, logged one line per burst. While any stream is open the object stays in memory.
 */
export class StreamListeners implements Listeners {
  readonly #set = new SubscriberSet(MAX_BUFFERED_BYTES, (reason) => this.#countDrop(reason));
  #timer: ReturnType<typeof setTimeout> | null = null;
  #timerDueAt = Infinity;
  #drops: Record<DropReason, number> = { departed: 0, overflow: 0 };
  #dropLogPending = false;

  constructor(
    private readonly timings: StreamTimings,
    private readonly jobId: () => string | null,
    /** A departure or an end at `streamMaxMs` left no stream open. */
    private readonly onEmptied: () => void = () => {},
  ) {}

  get size(): number {
    return this.#set.size;
  }

  /** A response stream that starts with `first`, which holds every event up to `seenThrough`. */
  open(first: string, seenThrough: number): ReadableStream<Uint8Array> {
    const now = Date.now();
    const stream = this.#set.open(now, encoder.encode(first), seenThrough);
    if (this.timings.logLevel === 'debug') logInfo('stream opened', { job: this.jobId(), streams: this.size });
    this.#arm(now + Math.min(this.timings.heartbeatMs - this.#slackMs(), this.timings.streamMaxMs), now);
    return stream;
  }

  send(eventId: number, frame: string): number {
    if (this.size === 0) return 0;
    const delivered = this.#set.broadcast(encoder.encode(frame), Date.now(), eventId);
    this.#flushDropLog();
    return delivered;
  }

  endAll(): void {
    this.#set.closeAll();
    this.#clearTimer();
    this.#flushDropLog();
  }

  /** Arms the timer for `dueAt`, unless it is already armed for earlier. */
  #arm(dueAt: number, now: number): void {
    if (this.#timer !== null && this.#timerDueAt <= dueAt) return;
    this.#clearTimer();
    this.#timerDueAt = dueAt;
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, dueAt - now));
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerDueAt = Infinity;
  }

  /** Streams that come due within this much of each other share one tick. */
  #slackMs(): number {
    return Math.min(250, Math.floor(this.timings.heartbeatMs / 20));
  }

  /** The one timer: heartbeats for idle streams and clean ends for old ones, then re-arm. */
  #sweep(): void {
    this.#timer = null;
    this.#timerDueAt = Infinity;
    const now = Date.now();
    const { heartbeatMs, streamMaxMs, logLevel } = this.timings;
    const slackMs = this.#slackMs();
    const sweep = this.#set.sweep(now, HEARTBEAT, heartbeatMs, streamMaxMs, slackMs);
    if (logLevel === 'debug' && sweep.ended > 0) logInfo('streams ended', { job: this.jobId(), ended: sweep.ended, reason: 'max_age' });
    this.#flushDropLog();
    if (sweep.ended > 0 && this.size === 0) this.onEmptied();
    if (sweep.nextDueAt !== null) this.#arm(Math.max(sweep.nextDueAt - slackMs, now + 1), now);
  }

  #countDrop(reason: DropReason): void {
    this.#drops[reason]++;
    if (this.size === 0) this.onEmptied();
    if (this.timings.logLevel === 'debug') logInfo('stream ended', { job: this.jobId(), reason });
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
    const fields = { job: this.jobId(), departed, overflow, streams: this.size };
    if (overflow > 0) logWarn('streams dropped', fields);
    else if (this.timings.logLevel !== 'warn') logInfo('streams dropped', fields);
  }
}
