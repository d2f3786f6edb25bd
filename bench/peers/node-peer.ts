// The original in-memory design on Node: Hono on @hono/node-server, a map of open streams per job.
// With REDIS_URL, completions go through Redis Pub/Sub so several such processes share them.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createClient } from 'redis';

const port = Number(process.env.PORT);
const heartbeatMs = Number(process.env.HEARTBEAT_MS ?? 15000);
const encoder = new TextEncoder();
const CONNECT = encoder.encode('retry: 1000\nevent: connect\ndata: {"status":"connect","moveUrl":""}\n\n');
const PING = encoder.encode(': ping\n\n');
const streams = new Map<string, Set<ReadableStreamDefaultController<Uint8Array>>>();

function deliver(id: string, payload: string): number {
  const open = streams.get(id);
  if (!open) return 0;
  const frame = encoder.encode(`id: 1\nevent: result\ndata: ${payload}\n\n`);
  let delivered = 0;
  for (const controller of open) {
    try {
      controller.enqueue(frame);
      controller.close();
      delivered++;
    } catch {
      // gone
    }
  }
  streams.delete(id);
  return delivered;
}

let publish: ((id: string, payload: string) => Promise<void>) | null = null;
if (process.env.REDIS_URL) {
  const publisher = createClient({ url: process.env.REDIS_URL });
  const subscriber = publisher.duplicate();
  await Promise.all([publisher.connect(), subscriber.connect()]);
  await subscriber.pSubscribe('job:*', (message, channel) => void deliver(channel.slice(4), message));
  publish = async (id, payload) => void (await publisher.publish(`job:${id}`, payload));
}

setInterval(() => {
  for (const open of streams.values()) {
    for (const controller of open) {
      try {
        controller.enqueue(PING);
      } catch {
        open.delete(controller);
      }
    }
  }
}, heartbeatMs);

const app = new Hono();
app.get('/healthz', (c) => c.json({ ok: true }));
app.put('/jobs/:id', (c) => c.json({ id: c.req.param('id') }, 201));
app.get('/sse/connect/:id', (c) => {
  const id = c.req.param('id');
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    cancel: () => void streams.get(id)?.delete(controller),
  });
  controller.enqueue(CONNECT);
  let open = streams.get(id);
  if (!open) streams.set(id, (open = new Set()));
  open.add(controller);
  return new Response(body, { headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' } });
});
app.post('/jobs/:id/complete', async (c) => {
  const id = c.req.param('id');
  const { moveUrl } = await c.req.json<{ moveUrl: string }>();
  const payload = JSON.stringify({ status: 'result', moveUrl });
  if (publish) {
    await publish(id, payload);
    return c.json({ eventId: 1 });
  }
  return c.json({ eventId: 1, delivered: deliver(id, payload) });
});

serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
