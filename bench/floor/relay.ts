import { DurableObject } from 'cloudflare:workers';

/**
 * The runtime's floor of jobcast's hibernate mode ("relay floor"): the worker answers
 * `GET /sse/connect/:id` itself with an SSE stream and relays a WebSocket to the job's Durable
 * Object, which accepted it with `ctx.acceptWebSocket` (the hibernation API) and sent the connect
 * bytes on it. Registering writes a pending row, a completion writes the result row and waits for
 * `storage.sync()` before the result frame goes on every socket (the durable write jobcast promises,
 * as in floor+storage). The streams end after the result as jobcast's do: at once if there is one,
 * else a quarter of a second after all were sent it. Nothing else: no checks, heartbeats, replay,
 * history or timers in the worker.
 */
interface Env {
  RELAY_FLOOR: DurableObjectNamespace;
}

const encoder = new TextEncoder();
const CONNECT = 'retry: 1000\nevent: connect\ndata: {"status":"connect","moveUrl":""}\n\n';

export class RelayFloorObject extends DurableObject<Env> {
  tableReady = false;

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('Upgrade') === 'websocket') {
      const { 0: client, 1: server } = new WebSocketPair();
      this.ctx.acceptWebSocket(server);
      server.send(CONNECT);
      return new Response(null, { status: 101, webSocket: client });
    }
    if (request.method === 'PUT') {
      this.write('');
      await this.ctx.storage.sync();
      return Response.json({ created: true }, { status: 201 });
    }
    const { moveUrl } = (await request.json()) as { moveUrl: string };
    this.write(moveUrl);
    await this.ctx.storage.sync();
    const frame = `id: 1\nevent: result\ndata: ${JSON.stringify({ status: 'result', moveUrl })}\n\n`;
    const sockets = this.ctx.getWebSockets();
    let delivered = 0;
    for (const socket of sockets) {
      try {
        socket.send(frame);
        delivered++;
      } catch {
        // closing
      }
    }
    if (sockets.length > 1) setTimeout(() => end(this.ctx.getWebSockets()), 250);
    else end(sockets);
    return Response.json({ eventId: 1, delivered });
  }

  override webSocketClose(socket: WebSocket): void {
    end([socket]);
  }

  write(moveUrl: string): void {
    if (!this.tableReady) this.ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS result (id INTEGER PRIMARY KEY, move_url TEXT)');
    this.tableReady = true;
    this.ctx.storage.sql.exec('INSERT OR REPLACE INTO result VALUES (1, ?)', moveUrl);
  }
}

function end(sockets: WebSocket[]): void {
  for (const socket of sockets) {
    try {
      socket.close(1000, 'ended');
    } catch {
      // already closed
    }
  }
}

/** The browser's stream, fed by the object's socket and ended when either side leaves. */
function relay(socket: WebSocket): Response {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c), cancel: () => end([socket]) });
  const close = () => {
    end([socket]);
    try {
      controller.close();
    } catch {
      // already ended
    }
  };
  socket.addEventListener('message', ({ data }) => {
    try {
      controller.enqueue(encoder.encode(data as string));
    } catch {
      end([socket]);
    }
  });
  socket.addEventListener('close', close);
  socket.addEventListener('error', close);
  socket.accept();
  return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/healthz') return Response.json({ ok: true });
    const match = /^\/(sse\/connect|jobs)\/([^/]+)(\/complete)?$/.exec(url.pathname);
    if (!match) return new Response('not found', { status: 404 });
    const stub = env.RELAY_FLOOR.get(env.RELAY_FLOOR.idFromName(match[2]));
    if (match[1] === 'jobs') return stub.fetch(request);
    const answer = await stub.fetch('https://job.internal/connect', { headers: { Upgrade: 'websocket' } });
    return answer.webSocket ? relay(answer.webSocket) : answer;
  },
};
