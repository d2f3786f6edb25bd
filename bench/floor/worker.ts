import { DurableObject } from 'cloudflare:workers';

interface Env {
  FLOOR: DurableObjectNamespace;
  /**
   * "true": write the result to a SQLite table and wait until it is durable before sending it (floor +
   * storage); "kv": the same through the synchronous key-value API (same database, no SQL statement).
   * Either way registering reaches the object, which makes its table and a pending row durably, as
   * jobcast's register does, so the completion writes one row into a table that exists.
   */
  PERSIST?: string;
  /**
   * "own": the worker sends the object a request of its own (the URL, and the body for a POST) instead
   * of handing it the incoming request, as jobcast's worker does. A diagnostic of the floor itself.
   */
  FORWARD?: string;
  /**
   * "object": registering a job reaches its object, which makes the object, as jobcast's register
   * does; otherwise (and PERSIST unset) the worker answers it alone and the object is first made by
   * the stream's connect, which the floor's connects/s then pays for.
   */
  REGISTER?: string;
}

const encoder = new TextEncoder();
const CONNECT = encoder.encode('retry: 1000\nevent: connect\ndata: {"status":"connect","moveUrl":""}\n\n');

export class FloorObject extends DurableObject<Env> {
  streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  tableReady = false;

  override async fetch(request: Request): Promise<Response> {
    if (request.method === 'PUT') {
      if (this.env.PERSIST === 'kv') this.ctx.storage.kv.put('result', '');
      else if (this.env.PERSIST === 'true') this.write('');
      if (this.env.PERSIST) await this.ctx.storage.sync();
      return Response.json({ created: true }, { status: 201 });
    }
    if (request.method === 'GET') {
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
      controller.enqueue(CONNECT);
      this.streams.add(controller);
      return new Response(body, { headers: { 'Content-Type': 'text/event-stream; charset=utf-8' } });
    }
    const { moveUrl } = (await request.json()) as { moveUrl: string };
    if (this.env.PERSIST === 'kv') {
      this.ctx.storage.kv.put('result', moveUrl);
      await this.ctx.storage.sync();
    } else if (this.env.PERSIST === 'true') {
      this.write(moveUrl);
      await this.ctx.storage.sync();
    }
    const frame = encoder.encode(`id: 1\nevent: result\ndata: ${JSON.stringify({ status: 'result', moveUrl })}\n\n`);
    let delivered = 0;
    for (const controller of this.streams) {
      try {
        controller.enqueue(frame);
        controller.close();
        delivered++;
      } catch {
        // gone
      }
    }
    this.streams.clear();
    return Response.json({ eventId: 1, delivered });
  }

  /** One row; the table is made by the object's first write (register's, with REGISTER=object). */
  write(moveUrl: string): void {
    if (!this.tableReady) this.ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS result (id INTEGER PRIMARY KEY, move_url TEXT)');
    this.tableReady = true;
    this.ctx.storage.sql.exec('INSERT OR REPLACE INTO result VALUES (1, ?)', moveUrl);
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/healthz') return Response.json({ ok: true });
    const match = /^\/(?:sse\/connect|jobs)\/([^/]+)(\/complete)?$/.exec(url.pathname);
    if (!match) return new Response('not found', { status: 404 });
    if (request.method === 'PUT' && env.REGISTER !== 'object' && !env.PERSIST) return Response.json({ id: match[1] }, { status: 201 });
    const stub = env.FLOOR.get(env.FLOOR.idFromName(match[1]));
    if (env.FORWARD !== 'own') return stub.fetch(request);
    const body = request.method === 'POST' ? await request.arrayBuffer() : undefined;
    return stub.fetch(`https://floor.internal${url.pathname}`, { method: request.method, body });
  },
};
