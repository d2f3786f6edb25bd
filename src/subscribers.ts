/**
 * Who is listening to one job: open, write, broadcast, close. A subscriber whose stream was cancelled
 * or whose write fails is dropped at once, and one that falls more than `maxBufferedBytes` behind is
 * ended, so a departed or stalled client holds no entry, timer or buffer.
 *
 * Workers reveal a departed client only through a write (the response pump notices the closed socket
 * when it next has bytes to send, and cancels the stream), so callers keep writing heartbeats.
 *
 * The object writes each stream through the writable side of an `IdentityTransformStream`. That kind
 * of stream is the runtime's own, and the runtime holds every write to it behind the Durable Object's
 * output gate: bytes written in the same turn as a storage write leave only once that write is
 * durable, and never if it fails (workerd `src/workerd/api/streams/internal.c++`: each queued write
 * carries `waitForOutputLocksIfNecessary()`; a JavaScript stream's `enqueue()` has no such wait). So
 * "persist before announce" needs no `await` between the write and the broadcast, and covers progress
 * events as well as results; `test/output-gate.test.ts` proves the ordering against the runtime.
 *
 * The response body is a thin JavaScript stream that pulls from the identity stream's readable side:
 * the runtime tells only a JavaScript stream's `cancel` that the pump has given up on a client (the
 * writable side of an identity stream would learn it on some later write), and that is the moment
 * a departure must be counted.
 */
export type DropReason = 'departed' | 'overflow';

interface Subscriber {
  writer: WritableStreamDefaultWriter<Uint8Array>;
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

  /** A response stream that starts with `first` and stays open for later writes. */
  open(now: number, first: Uint8Array): ReadableStream<Uint8Array> {
    const { readable, writable } = new IdentityTransformStream({ highWaterMark: this.maxBufferedBytes });
    const subscriber: Subscriber = { writer: writable.getWriter(), openedAt: now, lastWriteAt: now };
    const source = readable.getReader();
    const body = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          const { done, value } = await source.read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        cancel: (reason) => {
          this.#drop(subscriber, 'departed');
          return source.cancel(reason);
        },
      },
      // Nothing is buffered here: bytes wait on the gated side until the response pump asks.
      { highWaterMark: 0 },
    );
    this.#byLastWrite.add(subscriber);
    this.#byOpened.add(subscriber);
    this.#write(subscriber, first);
    return body;
  }

  /** Writes the same bytes to every open stream; returns how many took them. */
  broadcast(chunk: Uint8Array, now: number): number {
    let delivered = 0;
    for (const subscriber of this.#byOpened) {
      if (this.#write(subscriber, chunk)) {
        subscriber.lastWriteAt = now;
        delivered++;
      }
    }
    // Every survivor now has the same lastWriteAt, so #byLastWrite is still in order.
    return delivered;
  }

  /** Ends every stream cleanly, after what was already written. */
  closeAll(): void {
    for (const subscriber of this.#byOpened) void subscriber.writer.close().catch(() => {});
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
      if (subscriber.writer.desiredSize === null) {
        // Its client is known to be gone: nothing left to end.
        this.onDrop('departed');
        continue;
      }
      void subscriber.writer.close().catch(() => {});
      ended++;
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
    const { writer } = subscriber;
    // null: the stream has errored (aborted, or its reader is gone).
    if (writer.desiredSize === null) {
      this.#drop(subscriber, 'departed');
      return false;
    }
    // A failed write means the stream is gone; `cancel` above has counted it, or does so now.
    writer.write(chunk).catch(() => this.#drop(subscriber, 'departed'));
    if ((writer.desiredSize ?? 0) < 0) {
      void writer.abort(new Error('subscriber fell too far behind')).catch(() => {});
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
