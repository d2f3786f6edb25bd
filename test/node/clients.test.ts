import { EventSource } from 'eventsource';
import { fetchEventSource, EventStreamContentType } from '@microsoft/fetch-event-source';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from './support/dev-server';
import { openRaw } from './support/raw-sse';

/**
 * The clients pages really use, against `wrangler dev`: the npm `eventsource` package (the WHATWG
 * EventSource for Node, which stops for good on any status but 200 and 204) and
 * `@microsoft/fetch-event-source` (the fetch-based client many single-page apps use).
 */
const HEARTBEAT_MS = 500;
const STREAM_MAX_MS = 3000;
const MAX = 5;
const TOKEN = 'dev-api-token';
let server: DevServer;

beforeAll(async () => {
  server = await startDevServer({ HEARTBEAT_MS: String(HEARTBEAT_MS), STREAM_MAX_MS: String(STREAM_MAX_MS), MAX_SUBSCRIBERS_PER_JOB: String(MAX) });
});
afterAll(async () => {
  await server?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jobId = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2)}`;
const backend = (method: string, path: string, body?: unknown) =>
  fetch(`${server.url}${path}`, { method, headers: { Authorization: `Bearer ${TOKEN}` }, body: body === undefined ? undefined : JSON.stringify(body) });

/** A spec EventSource on the job, with every request it makes counted and every event kept. */
function watch(id: string) {
  let requests = 0;
  const events: { type: string; data: string }[] = [];
  const source = new EventSource(`${server.url}/sse/connect/${id}`, {
    fetch: (input, init) => {
      requests++;
      return fetch(input, init);
    },
  });
  for (const type of ['connect', 'progress', 'result']) source.addEventListener(type, (event) => events.push({ type, data: event.data }));
  const result = new Promise<{ status: string; moveUrl?: string; error?: string }>((done) =>
    source.addEventListener('result', (event) => done(JSON.parse(event.data))),
  );
  return { source, events, result, requests: () => requests };
}

/** After the result: the clean end brings one reconnect, answered 204, and nothing more. */
async function expectStoppedForGood(page: ReturnType<typeof watch>): Promise<void> {
  await until(() => page.source.readyState === EventSource.CLOSED, 5000);
  await sleep(1500);
  expect(page.requests()).toBe(2);
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

describe('the npm eventsource package (a spec EventSource)', () => {
  it('gets a live result, and after it stops by itself: one reconnect, answered 204', async () => {
    const id = jobId('es-live');
    await backend('PUT', `/jobs/${id}`);
    const page = watch(id);
    await until(() => page.events.some((e) => e.type === 'connect'), 5000);
    await backend('POST', `/jobs/${id}/complete`, { moveUrl: '/done' });
    expect(await page.result).toEqual({ status: 'result', moveUrl: '/done' });
    await expectStoppedForGood(page);
  });

  it('gets the result after the server ended its stream, with progress in order', async () => {
    const id = jobId('es-late');
    await backend('PUT', `/jobs/${id}`);
    const page = watch(id);
    await sleep(STREAM_MAX_MS + 1500);
    for (const progress of [0.25, 0.5, 0.75]) await backend('POST', `/jobs/${id}/progress`, { progress });
    await backend('POST', `/jobs/${id}/complete`, { moveUrl: '/done' });
    expect(await page.result).toMatchObject({ status: 'result' });
    const progress = page.events.filter((e) => e.type === 'progress').map((e) => JSON.parse(e.data).progress);
    expect(progress).toEqual([0.25, 0.5, 0.75]);
    page.source.close();
  });

  it('gets the failed result of a job that expires while it waits, then stops', async () => {
    const id = jobId('es-expire');
    await backend('PUT', `/jobs/${id}`, { ttlSeconds: 2 });
    const registeredAt = Date.now();
    const page = watch(id);
    expect(await page.result).toEqual({ status: 'failed', error: 'expired' });
    expect(Date.now() - registeredAt).toBeLessThan(3500);
    await expectStoppedForGood(page);
  });

  it('comes back by itself when turned away by the stream cap, and gets the result', async () => {
    const id = jobId('es-cap');
    await backend('PUT', `/jobs/${id}`);
    const others = await Promise.all(Array.from({ length: MAX }, () => openRaw(`${server.url}/sse/connect/${id}`)));
    await Promise.all(others.map((stream) => stream.waitFor('event: connect')));
    const page = watch(id);
    await until(() => page.requests() >= 1, 5000);
    await sleep(500);
    expect(page.events).toEqual([]); // turned away: no connect frame
    others[0].destroy(); // a tab closes; the slot frees at its next heartbeat
    await until(() => page.events.some((e) => e.type === 'connect'), 10_000);
    expect(page.requests()).toBeGreaterThanOrEqual(2);
    await backend('POST', `/jobs/${id}/complete`, { moveUrl: '/done' });
    expect(await page.result).toEqual({ status: 'result', moveUrl: '/done' });
    page.source.close();
    for (const stream of others) stream.destroy();
  });
});

describe('@microsoft/fetch-event-source, used as its README shows', () => {
  beforeAll(() => {
    // A browser library: it schedules retries with window.setTimeout and unhooks document's visibility
    // listener when it stops, so Node needs those two stand-ins.
    const page = globalThis as { window?: unknown; document?: unknown };
    page.window ??= globalThis;
    page.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };
  });

  it('gets the result, and a handler that parses every message sees no empty one across heartbeats', async () => {
    const id = jobId('fes');
    await backend('PUT', `/jobs/${id}`);
    const parsed: { event: string; status: string }[] = [];
    const stop = new AbortController();
    class Retriable extends Error {}
    class Fatal extends Error {}
    const done = fetchEventSource(`${server.url}/sse/connect/${id}`, {
      signal: stop.signal,
      openWhenHidden: true,
      async onopen(response) {
        if (response.status === 204) throw new Fatal('the job is over'); // the recipe in the README
        if (response.ok && response.headers.get('content-type') === EventStreamContentType) return;
        if (response.status >= 400 && response.status < 500 && response.status !== 429) throw new Fatal();
        throw new Retriable();
      },
      onmessage(message) {
        parsed.push({ event: message.event, status: JSON.parse(message.data).status }); // throws on an empty message
        if (message.event === 'result') stop.abort();
      },
      onclose() {
        throw new Retriable(); // the server ended the stream: reopen (with Last-Event-ID)
      },
      onerror(error) {
        if (error instanceof Fatal || error instanceof SyntaxError) throw error;
      },
    });
    await sleep(STREAM_MAX_MS + 1000); // several heartbeats, and the server's end of the first stream
    await backend('POST', `/jobs/${id}/complete`, { moveUrl: '/done' });
    await until(() => parsed.some((m) => m.event === 'result'), 5000);
    await done.catch((error) => {
      if (!stop.signal.aborted) throw error;
    });
    // Every message parsed (none empty); the stream was reopened after the server ended it; one result.
    expect(parsed.filter((m) => m.event === 'connect').length).toBeGreaterThanOrEqual(2);
    expect(parsed.filter((m) => m.event !== 'connect')).toEqual([{ event: 'result', status: 'result' }]);
  });

  it('takes a retry answer (the stream cap) without an empty message, comes back, and gets the result', async () => {
    const id = jobId('fes-cap');
    await backend('PUT', `/jobs/${id}`);
    const others = await Promise.all(Array.from({ length: MAX }, () => openRaw(`${server.url}/sse/connect/${id}`)));
    await Promise.all(others.map((stream) => stream.waitFor('event: connect')));
    const parsed: string[] = [];
    let opened = 0;
    const stop = new AbortController();
    class Retriable extends Error {}
    const done = fetchEventSource(`${server.url}/sse/connect/${id}`, {
      signal: stop.signal,
      openWhenHidden: true,
      async onopen(response) {
        opened++;
        if (response.ok && response.headers.get('content-type') === EventStreamContentType) return;
        throw new Retriable();
      },
      onmessage(message) {
        parsed.push(JSON.parse(message.data).status); // throws on an empty message
        if (message.event === 'result') stop.abort();
      },
      onclose() {
        throw new Retriable();
      },
      onerror(error) {
        if (error instanceof SyntaxError) throw error; // an empty message: fail the test
      },
    });
    const failed = done.then(() => null, (error) => (stop.signal.aborted ? null : error));
    await until(() => opened >= 1, 5000);
    await sleep(500);
    expect(parsed).toEqual([]); // turned away: no connect frame, and no empty message
    others[0].destroy(); // a slot frees at its next heartbeat; the client comes back after `retry:`
    await until(() => parsed.includes('connect'), 15_000);
    expect(opened).toBeGreaterThanOrEqual(2);
    await backend('POST', `/jobs/${id}/complete`, { moveUrl: '/done' });
    await until(() => parsed.includes('result'), 5000);
    expect(await failed).toBeNull();
    expect(parsed).toEqual(['connect', 'result']);
    for (const stream of others) stream.destroy();
  });
});
