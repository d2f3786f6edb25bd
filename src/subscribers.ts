/**
 * Who is listening to one job: open, write, broadcast, close. A subscriber whose stream was cancelled
 * or whose write throws is dropped at once, and one that falls more than `maxBufferedBytes` behind is
 * ended, so a departed or stalled client holds no entry, timer or buffer.
 *
 * Workers reveal a departed client only through a failed write or a cancelled stream (the response
 * pump notices the closed socket when it next has bytes to send), so callers keep writing heartbeats.
 */
export type DropReason = 'departed' | 'overflow';

interface Subscriber {
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** The last event its first bytes held. Subscribers opened later never hold less. */
  seenThrough: number;
  openedAt: number;
  lastWriteAt: number;
}

export interface Sweep {
  /** Streams that reached their maximum age and were closed. */
  ended: number;
  /** Streams that were written a heartbeat. */
  pinged: number;
  /** When the next stream is due for a heartbeat or its end; null when none is open. */
  nextDueAt: number | null;
}

export class SubscriberSet {
  /** Insertion order is last-write order: the first entry is the longest idle. */
  readonly #byLastWrite = new Set<Subscriber>();
  /** Insertion order is open order: the first entry is the oldest. */
  readonly #byOpened = new Set<Subscriber>();

  constructor(
    private readonly maxBufferedBytes: number,
    private readonly onDrop: (reason: DropReason) => void,
  ) {}

  get size(): number {
    return this.#byOpened.size;
  }

  /** A response stream that starts with `first`, which holds every event up to `seenThrough`. */
  open(now: number, first: Uint8Array, seenThrough = 0): ReadableStream<Uint8Array> {
    let subscriber: Subscriber | undefined;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          subscriber = { controller, seenThrough, openedAt: now, lastWriteAt: now };
          controller.enqueue(first);
        },
        cancel: () => {
          if (subscriber) this.#drop(subscriber, 'departed');
        },
      },
      { highWaterMark: this.maxBufferedBytes, size: (chunk) => chunk.byteLength },
    );
    if (!subscriber) throw new Error('ReadableStream did not run start() synchronously');
    this.#byLastWrite.add(subscriber);
    this.#byOpened.add(subscriber);
    return stream;
  }

  /**
   * Writes event `eventId` to every open stream that has not seen it (all of them by default): a
   * stream opened after the event was stored got it in its replay. Returns how many took it.
   */
  broadcast(chunk: Uint8Array, now: number, eventId = Infinity): number {
    let delivered = 0;
    let skipped = false;
    for (const subscriber of this.#byOpened) {
      if (subscriber.seenThrough >= eventId) {
        skipped = true;
        break;
      }
      if (this.#write(subscriber, chunk)) {
        subscriber.lastWriteAt = now;
        delivered++;
      }
    }
    if (!skipped) return delivered; // every survivor has the same lastWriteAt: still in order
    // Those written to are now the most recently written: move them behind the ones skipped.
    for (const subscriber of this.#byOpened) {
      if (subscriber.seenThrough >= eventId) break;
      this.#byLastWrite.delete(subscriber);
      this.#byLastWrite.add(subscriber);
    }
    return delivered;
  }

  /** Ends every stream cleanly, after what was already written. */
  closeAll(): void {
    for (const subscriber of this.#byOpened) {
      try {
        subscriber.controller.close();
      } catch {
        // Already cancelled by the client: nothing left to end.
      }
    }
    this.#byOpened.clear();
    this.#byLastWrite.clear();
  }

  /**
   * Closes streams older than `maxAgeMs` and writes `heartbeat` to streams idle for `idleMs` or
   * more. A stream that would come due within `slackMs` is handled now too, so streams opened close
   * together share one timer tick.
   */
  sweep(now: number, heartbeat: Uint8Array, idleMs: number, maxAgeMs: number, slackMs: number): Sweep {
    let ended = 0;
    for (const subscriber of this.#byOpened) {
      if (subscriber.openedAt + maxAgeMs > now + slackMs) break;
      this.#remove(subscriber);
      try {
        subscriber.controller.close();
        ended++;
      } catch {
        this.onDrop('departed');
      }
    }
    let pinged = 0;
    const due: Subscriber[] = [];
    for (const subscriber of this.#byLastWrite) {
      if (subscriber.lastWriteAt + idleMs > now + slackMs) break;
      due.push(subscriber);
    }
    for (const subscriber of due) {
      if (!this.#write(subscriber, heartbeat)) continue;
      subscriber.lastWriteAt = now;
      this.#byLastWrite.delete(subscriber);
      this.#byLastWrite.add(subscriber);
      pinged++;
    }
    return { ended, pinged, nextDueAt: this.#nextDueAt(idleMs, maxAgeMs) };
  }

  #nextDueAt(idleMs: number, maxAgeMs: number): number | null {
    const idlest = this.#byLastWrite.values().next();
    const oldest = this.#byOpened.values().next();
    if (idlest.done || oldest.done) return null;
    return Math.min(idlest.value.lastWriteAt + idleMs, oldest.value.openedAt + maxAgeMs);
  }

  #write(subscriber: Subscriber, chunk: Uint8Array): boolean {
    try {
      subscriber.controller.enqueue(chunk);
    } catch {
      this.#drop(subscriber, 'departed');
      return false;
    }
    if ((subscriber.controller.desiredSize ?? 0) < 0) {
      subscriber.controller.error(new Error('subscriber fell too far behind'));
      this.#drop(subscriber, 'overflow');
      return false;
    }
    return true;
  }

  #drop(subscriber: Subscriber, reason: DropReason): void {
    if (this.#remove(subscriber)) this.onDrop(reason);
  }

  #remove(subscriber: Subscriber): boolean {
    this.#byLastWrite.delete(subscriber);
    return this.#byOpened.delete(subscriber);
  }
}
