import type { Listeners } from './stream-listeners';

/**
 * Listeners as WebSockets from the worker (frames go as text: a binary message reaches the worker as
 * a Blob, read asynchronously), accepted through the hibernation API (the hibernate
 * waiting mode): the runtime holds the sockets, so the object keeps no timer and no list of its own
 * and may be evicted from memory while they wait. The worker at the other end holds the browser's
 * stream, its heartbeats and its end (src/relay.ts).
 */
export class SocketListeners implements Listeners {
  /**
   * The last event each socket's first message held, for sockets accepted in this incarnation. It
   * matters only for an event being made durable while the socket was accepted, which is always this
   * incarnation's: a socket from before the object was evicted has seen none of the events to come.
   */
  readonly #seenThrough = new WeakMap<WebSocket, number>();

  constructor(private readonly ctx: DurableObjectState) {}

  get size(): number {
    return this.ctx.getWebSockets().length;
  }

  /**
   * Accepts a socket whose first message is `first`, which holds every event up to `seenThrough`, for
   * the job's `incarnation` (its `createdAt`), kept with the socket through hibernation: a close that
   * arrives after the job was deleted and registered again is then known to be the old job's.
   */
  accept(first: string, seenThrough: number, incarnation: number): WebSocket {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ incarnation });
    this.#seenThrough.set(server, seenThrough);
    server.send(first);
    return client;
  }

  send(eventId: number, frame: string): number {
    let delivered = 0;
    for (const socket of this.ctx.getWebSockets()) {
      if ((this.#seenThrough.get(socket) ?? 0) >= eventId) continue;
      try {
        socket.send(frame);
        delivered++;
      } catch {
        // Closing: its close reaches webSocketClose.
      }
    }
    return delivered;
  }

  endAll(): void {
    for (const socket of this.ctx.getWebSockets()) closeSocket(socket, 1000, 'ended');
  }
}

/**
 * The reason a relay closes its socket with when the object closed it first (the job finished or was
 * deleted) or it failed: not a departure, so the object does not start a vacancy for it.
 */
export const ANSWERED_CLOSE = 'closed';

/** Closes `socket`, answering a peer's close; reserved codes may not be sent back, so they become 1000. */
export function closeSocket(socket: WebSocket, code: number, reason: string): void {
  try {
    socket.close(code === 1005 || code === 1006 || code === 1015 ? 1000 : code, reason);
  } catch {
    // Already closed.
  }
}
