import { DurableObject } from 'cloudflare:workers';

/**
 * The runtime's floor: a Durable Object per job that holds the job's streams and sends the result,
 * with no checks, no history and no heartbeats. Registering reaches the job's object (making it), and
 * the streams end after the result as jobcast's do: at once if there is one, else a quarter of a
 * second after all were sent it. With PERSIST=true ("floor+storage") the register makes a table and
 * a pending row, and the result is written and made durable before it is sent, as jobcast promises:
 * the cost of the durable write alone, with no code of ours.
 */
interface Env {
  FLOOR: DurableObjectNamespace;
  PERSIST?: string;
}

const encoder = new TextEncoder();
const CONNECT = encoder.encode('retry: 1000\nevent: connect\ndata: {"status":"connect","moveUrl":""}\n\n');

export class FloorObject extends DurableObject<Env> {
  streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  tableReady = false;

  override async fetch(request: Request): Promise<Response> {
    const persist = this.env.PERSIST === 'true';
    if (request.method === 'PUT') {
      if (persist) {
        this.write('');
        await this.ctx.storage.sync();
      }
      return Response.json({ created: true }, { status: 201 });
    }
    if (request.method === 'GET') {
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
      controller.enqueue(CONNECT);
      this.streams.add(controller);
      return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
    }
    const { moveUrl } = (await request.json()) as { moveUrl: string };
    if (persist) {
      this.write(moveUrl);
      await this.ctx.storage.sync();
    }
    const frame = encoder.encode(`id: 1\nevent: result\ndata: ${JSON.stringify({ status: 'result', moveUrl })}\n\n`);
    let delivered = 0;
    for (const controller of this.streams) {
      try {
        controller.enqueue(frame);
        delivered++;
      } catch {
        // gone
      }
    }
    const streams = [...this.streams];
    this.streams.clear();
    if (streams.length > 1) setTimeout(() => end(streams), 250);
    else end(streams);
    return Response.json({ eventId: 1, delivered });
  }

  write(moveUrl: string): void {
    if (!this.tableReady) this.ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS result (id INTEGER PRIMARY KEY, move_url TEXT)');
    this.tableReady = true;
    this.ctx.storage.sql.exec('INSERT OR REPLACE INTO result VALUES (1, ?)', moveUrl);
  }
}

function end(streams: ReadableStreamDefaultController<Uint8Array>[]): void {
  for (const controller of streams) {
    try {
      controller.close();
    } catch {
      // gone
    }
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/healthz') return Response.json({ ok: true });
    const match = /^\/(?:sse\/connect|jobs)\/([^/]+)(\/complete)?$/.exec(url.pathname);
    if (!match) return new Response('not found', { status: 404 });
    return env.FLOOR.get(env.FLOOR.idFromName(match[1])).fetch(request);
  },
};
