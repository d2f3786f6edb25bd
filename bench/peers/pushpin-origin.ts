// The origin behind Pushpin (the GRIP proxy users pick for this): it answers a connect with GRIP
// instructions, so Pushpin holds the stream on channel `<job id>`, and turns a completion into one
// publish to Pushpin's HTTP publish endpoint. Pushpin holds the streams and fans out; this process
// holds none. Heartbeats are Pushpin's own (Grip-Keep-Alive).
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const port = Number(process.env.PORT);
const publishUrl = `${process.env.PUSHPIN_PUBLISH_URL}/publish/`;
const heartbeatSeconds = Math.max(1, Math.round(Number(process.env.HEARTBEAT_MS ?? 15000) / 1000));
const CONNECT = 'retry: 1000\nevent: connect\ndata: {"status":"connect","moveUrl":""}\n\n';

const app = new Hono();
app.get('/healthz', (c) => c.json({ ok: true }));
app.put('/jobs/:id', (c) => c.json({ id: c.req.param('id') }, 201));
app.get('/sse/connect/:id', (c) =>
  c.body(CONNECT, 200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    'Grip-Hold': 'stream',
    'Grip-Channel': c.req.param('id'),
    'Grip-Keep-Alive': `: ping\\n\\n; format=cstring; timeout=${heartbeatSeconds}`,
  }),
);
app.post('/jobs/:id/complete', async (c) => {
  const id = c.req.param('id');
  const { moveUrl } = await c.req.json<{ moveUrl: string }>();
  const content = `id: 1\nevent: result\ndata: ${JSON.stringify({ status: 'result', moveUrl })}\n\n`;
  // The result, then the end of the stream, in one publish (Pushpin keeps their order).
  const published = await fetch(publishUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      items: [
        { channel: id, formats: { 'http-stream': { content } } },
        { channel: id, formats: { 'http-stream': { action: 'close' } } },
      ],
    }),
  });
  if (!published.ok) return c.json({ error: `pushpin answered ${published.status}` }, 502);
  return c.json({ eventId: 1 });
});

serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
