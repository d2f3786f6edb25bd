import { ANSWERED_CLOSE, closeSocket } from './socket-listeners';
import { SSE_HEADERS } from './sse';
import { HEARTBEAT, MAX_BUFFERED_BYTES } from './stream-listeners';

export interface RelayTimings {
  heartbeatMs: number;
  streamMaxMs: number;
}

const encoder = new TextEncoder();

/**
 * The hibernate mode's browser stream, held by the worker: what the job's object sends over `socket`
 * is written to the SSE response byte for byte, and `: ping` after `heartbeatMs` of silence and the
 * clean end after `streamMaxMs` come from one timer of the worker's own, so the object keeps none. A
 * browser that left is noticed at the next write (the stream is cancelled or the write throws) and
 * its socket closed, which is how the object forgets it. When the object closes the socket (the job finished or
 * was deleted, or the object was reset), the stream ends cleanly and EventSource resumes with
 * `Last-Event-ID`.
 */
export function relay(socket: WebSocket, timings: RelayTimings): Response {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let open = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastWriteAt = Date.now();
  const endsAt = lastWriteAt + timings.streamMaxMs;

  /** Stops the timer and closes the socket; false if that was done already. */
  const stop = (reason: string): boolean => {
    if (!open) return false;
    open = false;
    clearTimeout(timer);
    closeSocket(socket, 1000, reason);
    return true;
  };
  const end = (reason: string) => {
    if (stop(reason)) controller.close();
  };
  // One timer for both the heartbeat and the end, due at whichever comes first, and re-armed when it
  // fires rather than on every write: it pings only after a full heartbeat of silence.
  const arm = () => {
    timer = setTimeout(tick, Math.min(lastWriteAt + timings.heartbeatMs, endsAt) - Date.now());
  };
  const tick = () => {
    const now = Date.now();
    if (now >= endsAt) return end('max_age');
    if (now - lastWriteAt >= timings.heartbeatMs) write(HEARTBEAT);
    if (open) arm();
  };
  const write = (bytes: Uint8Array) => {
    if (!open) return;
    try {
      controller.enqueue(bytes);
    } catch {
      stop('departed');
      return;
    }
    if ((controller.desiredSize ?? 0) < 0) {
      controller.error(new Error('the reader fell too far behind'));
      stop('overflow');
      return;
    }
    lastWriteAt = Date.now();
  };

  const body = new ReadableStream<Uint8Array>(
    { start: (c) => void (controller = c), cancel: () => void stop('departed') },
    { highWaterMark: MAX_BUFFERED_BYTES, size: (chunk) => chunk.byteLength },
  );
  // Listeners first: accept() delivers the messages the object sent before the upgrade was answered.
  // The object sends text frames (a binary one would arrive as a Blob, read asynchronously).
  socket.addEventListener('message', ({ data }) => write(encoder.encode(data as string)));
  socket.addEventListener('close', () => end(ANSWERED_CLOSE));
  socket.addEventListener('error', () => end(ANSWERED_CLOSE));
  socket.accept();
  arm();
  return new Response(body, { headers: SSE_HEADERS });
}
