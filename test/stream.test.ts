import { describe, expect, it } from 'vitest';
import { TEST_BINDINGS } from './support/bindings';
import { isEvent } from './support/sse-client';
import { call, complete, connect, fail, newJobId, progress, register, sleep } from './support/http';

const HEARTBEAT_MS = Number(TEST_BINDINGS.HEARTBEAT_MS);
const STREAM_MAX_MS = Number(TEST_BINDINGS.STREAM_MAX_MS);
const CONNECT_FRAME = 'retry: 1000\nevent: connect\ndata: {"status":"connect","moveUrl":""}\n\n';

describe('GET /sse/connect/:id', () => {
  it('answers a registered job with the SSE headers and the connect frame first', async () => {
    const id = newJobId();
    await register(id);
    const stream = await connect(id);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('Content-Type')).toBe('text/event-stream');
    expect(stream.response.headers.get('Cache-Control')).toBe('no-cache, no-transform');
    expect(stream.response.headers.get('X-Accel-Buffering')).toBe('no');
    expect(stream.response.headers.get('Content-Encoding')).toBeNull();
    await stream.next();
    expect(stream.raw).toBe(CONNECT_FRAME);
    await stream.cancel();
  });

  it('delivers live progress and result with ids counting up from 1, then ends the stream', async () => {
    const id = newJobId();
    await register(id);
    const stream = await connect(id);
    await stream.next();
    await progress(id, { progress: 0.5, message: 'Rendering' });
    await complete(id, { moveUrl: '/done?id=42', data: { invoice: 'A-1' } });
    expect(await stream.rest()).toEqual([
      { id: '1', event: 'progress', data: '{"status":"progress","progress":0.5,"message":"Rendering"}' },
      { id: '2', event: 'result', data: '{"status":"result","moveUrl":"/done?id=42","data":{"invoice":"A-1"}}' },
    ]);
    expect(stream.raw).toBe(
      CONNECT_FRAME +
        'id: 1\nevent: progress\ndata: {"status":"progress","progress":0.5,"message":"Rendering"}\n\n' +
        'id: 2\nevent: result\ndata: {"status":"result","moveUrl":"/done?id=42","data":{"invoice":"A-1"}}\n\n',
    );
  });

  it('ends a lone stream right after its result, and several a quarter of a second after all have it', async () => {
    // Milliseconds from reading the result on the first stream to that stream's end.
    const endAfterResult = async (streams: number) => {
      const id = newJobId();
      await register(id);
      const readers = await Promise.all(Array.from({ length: streams }, () => connect(id)));
      await Promise.all(readers.map((reader) => reader.next()));
      await complete(id, { moveUrl: '/b' });
      await readers[0].until(isEvent('result'));
      const resultAt = Date.now();
      await readers[0].rest();
      return Date.now() - resultAt;
    };
    expect(await endAfterResult(1)).toBeLessThan(150);
    expect(await endAfterResult(3)).toBeGreaterThanOrEqual(200);
  });

  it('sends a failed job as a result event with status "failed" and ends the stream', async () => {
    const id = newJobId();
    await register(id);
    const stream = await connect(id);
    await stream.next();
    await fail(id, { moveUrl: '/oops', error: 'card declined' });
    expect(await stream.rest()).toEqual([
      { id: '1', event: 'result', data: '{"status":"failed","moveUrl":"/oops","error":"card declined"}' },
    ]);
  });

  it('gives a first join the latest progress only, not the whole history', async () => {
    const id = newJobId();
    await register(id);
    for (const p of [0.1, 0.2, 0.3]) await progress(id, { progress: p });
    const stream = await connect(id);
    expect(await stream.next()).toMatchObject({ event: 'connect' });
    expect(await stream.next()).toEqual({ id: '3', event: 'progress', data: '{"status":"progress","progress":0.3}' });
    await stream.cancel();
  });

  it('gives a first join of a finished job the latest progress and the result, then ends', async () => {
    const id = newJobId();
    await register(id);
    await progress(id, { progress: 0.4 });
    await progress(id, { progress: 0.9 });
    await complete(id, { moveUrl: '/b' });
    const stream = await connect(id);
    const frames = await stream.rest();
    expect(frames.map((f) => [f.event, f.id])).toEqual([
      ['connect', undefined],
      ['progress', '2'],
      ['result', '3'],
    ]);
  });

  it('replays every event after Last-Event-ID', async () => {
    const id = newJobId();
    await register(id);
    for (const p of [0.1, 0.2, 0.3, 0.4]) await progress(id, { progress: p });
    const stream = await connect(id, { 'Last-Event-ID': '2' });
    const frames = [await stream.next(), await stream.next(), await stream.next()];
    expect(frames.map((f) => f?.id)).toEqual([undefined, '3', '4']);
    await stream.cancel();
  });

  it('treats the lastEventId query like the header, and prefers the header when both are sent', async () => {
    const id = newJobId();
    await register(id);
    for (const p of [0.1, 0.2, 0.3]) await progress(id, { progress: p });
    const byQuery = await connect(id, {}, '?lastEventId=1');
    await byQuery.next();
    expect((await byQuery.next())?.id).toBe('2');
    await byQuery.cancel();
    const both = await connect(id, { 'Last-Event-ID': '2' }, '?lastEventId=0');
    await both.next();
    expect((await both.next())?.id).toBe('3');
    await both.cancel();
  });

  it('answers a resume from an id the job never reached, or a malformed one, as a first join', async () => {
    const id = newJobId();
    await register(id);
    await progress(id, { progress: 0.1 });
    await progress(id, { progress: 0.2 });
    for (const lastEventId of ['99', 'abc', '-1']) {
      const stream = await connect(id, { 'Last-Event-ID': lastEventId });
      await stream.next();
      expect(await stream.next()).toMatchObject({ id: '2', event: 'progress' });
      await stream.cancel();
    }
  });

  it('answers a resume from further back than the kept history as a first join', async () => {
    const id = newJobId();
    await register(id);
    for (let i = 1; i <= 105; i++) await progress(id, { progress: i / 200 });
    const stream = await connect(id, { 'Last-Event-ID': '2' });
    await stream.next();
    expect(await stream.next()).toMatchObject({ id: '105' });
    await stream.cancel();
    const inside = await connect(id, { 'Last-Event-ID': '100' });
    await inside.next();
    expect((await inside.next())?.id).toBe('101');
    await inside.cancel();
  });

  it('answers 204 to a resume at or past the terminal event', async () => {
    const id = newJobId();
    await register(id);
    await complete(id, { moveUrl: '/b' });
    for (const lastEventId of ['1', '7']) {
      const response = await call(`/sse/connect/${id}`, { headers: { 'Last-Event-ID': lastEventId } });
      expect(response.status).toBe(204);
      expect(await response.text()).toBe('');
    }
    const byQuery = await call(`/sse/connect/${id}?lastEventId=1`);
    expect(byQuery.status).toBe(204);
  });

  it('resumes a finished job from before the result with the result, then ends', async () => {
    const id = newJobId();
    await register(id);
    await progress(id, { progress: 0.5 });
    await complete(id, { moveUrl: '/b' });
    const stream = await connect(id, { 'Last-Event-ID': '1' });
    expect((await stream.rest()).map((f) => f.event)).toEqual(['connect', 'result']);
  });

  it('writes a ": ping" comment after HEARTBEAT_MS without other writes', async () => {
    const id = newJobId();
    await register(id);
    const stream = await connect(id);
    await stream.next();
    const started = Date.now();
    expect(await stream.next(HEARTBEAT_MS * 5)).toEqual({ comment: 'ping' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(HEARTBEAT_MS * 0.9);
    expect(stream.raw.endsWith('\n\n: ping\n')).toBe(true);
    await stream.cancel();
  });

  it('ends the stream cleanly after STREAM_MAX_MS', async () => {
    const id = newJobId();
    await register(id);
    const stream = await connect(id);
    const started = Date.now();
    const frames = await stream.rest(STREAM_MAX_MS * 3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(STREAM_MAX_MS * 0.9);
    expect(frames.every((f) => f.comment === 'ping' || f.event === 'connect')).toBe(true);
    expect(stream.ended).toBe(true);
  });

  it('keeps the result for a browser that reconnects after the server ended its stream', async () => {
    const id = newJobId();
    await register(id);
    const first = await connect(id);
    await first.rest(STREAM_MAX_MS * 3);
    await complete(id, { moveUrl: '/b' });
    const again = await connect(id);
    const frames = await again.until(isEvent('result'));
    expect(JSON.parse(frames.at(-1)!.data!)).toEqual({ status: 'result', moveUrl: '/b' });
  });

  it('answers 404 job_not_found for a job never registered', async () => {
    const response = await call(`/sse/connect/${newJobId()}`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'job_not_found' });
  });
});
