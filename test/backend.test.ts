import { describe, expect, it, vi } from 'vitest';
import { backend, call, complete, connect, fail, json, newJobId, progress, register, sleep } from './support/http';

describe('PUT /jobs/:id registers a job', () => {
  it('answers 201 with urls and an expiry the first time, 200 with the same job after', async () => {
    const id = newJobId();
    const before = Date.now();
    const created = await register(id);
    expect(created.status).toBe(201);
    const body = await json(created);
    expect(body).toEqual({
      id,
      status: 'pending',
      subscribeUrl: `/sse/connect/${id}`,
      statusUrl: `/jobs/${id}`,
      expiresAt: expect.any(String),
    });
    const expiresAt = Date.parse(body.expiresAt as string);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 86_400_000 - 1000);
    const again = await register(id, { ttlSeconds: 5 });
    expect(again.status).toBe(200);
    expect(await json(again)).toEqual(body);
  });

  it('reads a percent-encoded id as the id it encodes, on every route', async () => {
    const id = `${newJobId()}-x`;
    const encoded = id.replace(/-x$/, '%2Dx');
    expect((await json(await register(encoded))).id).toBe(id);
    const stream = await connect(encoded);
    expect(stream.response.status).toBe(200);
    expect((await backend('POST', `/jobs/${encoded}/complete`, { moveUrl: '/b' })).status).toBe(200);
    expect((await stream.until((frame) => frame.event === 'result')).at(-1)?.event).toBe('result');
    expect((await json(await call(`/jobs/${id}`))).status).toBe('result');
  });

  it('takes ttlSeconds for the expiry', async () => {
    const id = newJobId();
    const before = Date.now();
    const body = await json(await register(id, { ttlSeconds: 60 }));
    const expiresAt = Date.parse(body.expiresAt as string);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 59_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 61_000);
  });

  it('reports a finished job as finished', async () => {
    const id = newJobId();
    await complete(id, { moveUrl: '/b' });
    const response = await register(id);
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ status: 'result' });
  });
});

describe('POST /jobs/:id/progress', () => {
  it('answers 202 with the event id and the streams it reached', async () => {
    const id = newJobId();
    await register(id);
    const stream = await connect(id);
    const response = await progress(id, { progress: 0.25, message: 'Queued' });
    expect(response.status).toBe(202);
    expect(await json(response)).toEqual({ eventId: 1, delivered: 1 });
    expect(await json(await progress(id, { progress: 1 }))).toEqual({ eventId: 2, delivered: 1 });
    await stream.cancel();
  });

  it('answers 404 job_not_found for a job never registered, and creates nothing', async () => {
    const id = newJobId();
    const response = await progress(id, { progress: 0.5 });
    expect(response.status).toBe(404);
    expect(await json(response)).toMatchObject({ error: 'job_not_found' });
    expect((await call(`/jobs/${id}`)).status).toBe(404);
  });

  it('answers 409 job_finished once the job is terminal', async () => {
    const id = newJobId();
    await register(id);
    await complete(id, { moveUrl: '/b' });
    const response = await progress(id, { progress: 0.9 });
    expect(response.status).toBe(409);
    // Regression: it used to say "finished with a different result", a sentence about completions.
    expect(await json(response)).toEqual({ error: 'job_finished', message: 'The job has already finished; it takes no more progress.' });
  });
});

describe('POST /jobs/:id/complete and /fail', () => {
  it('completes a registered job with 200, its event id and the streams reached', async () => {
    const id = newJobId();
    await register(id);
    const stream = await connect(id);
    const response = await complete(id, { moveUrl: '/done?id=42', data: { invoice: 'A-1' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('application/json');
    // The object's delivered count for the log stays between the object and the worker.
    expect([...response.headers.keys()].filter((name) => name.startsWith('x-jobcast'))).toEqual([]);
    expect(await json(response)).toEqual({ eventId: 1, delivered: 1 });
    await stream.rest();
  });

  it('logs the call with the delivered count the object reported, once per call', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    try {
      const id = newJobId();
      await register(id);
      const streams = [await connect(id), await connect(id)];
      expect(await json(await complete(id, { moveUrl: '/b' }))).toEqual({ eventId: 1, delivered: 2 });
      await Promise.all(streams.map((stream) => stream.rest()));
      const records = lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((entry) => entry.msg === 'backend call' && entry.job === id && entry.route === 'complete');
      expect(records).toEqual([{ level: 'info', msg: 'backend call', route: 'complete', job: id, status: 200, ms: expect.any(Number), delivered: 2 }]);
    } finally {
      spy.mockRestore();
    }
  });

  it('keeps a completion that arrives before the job was registered', async () => {
    const id = newJobId();
    expect(await json(await complete(id, { moveUrl: '/b' }))).toEqual({ eventId: 1, delivered: 0 });
    const frames = await (await connect(id)).rest();
    expect(frames.at(-1)).toEqual({ id: '1', event: 'result', data: '{"status":"result","moveUrl":"/b"}' });
  });

  it('answers a repeated identical completion with the same event id, duplicate and no second event', async () => {
    const id = newJobId();
    await register(id);
    const body = { moveUrl: '/b', data: { a: 1, b: [1, 2] } };
    await complete(id, body);
    const repeat = await complete(id, { data: { b: [1, 2], a: 1 }, moveUrl: '/b' });
    expect(repeat.status).toBe(200);
    expect(await json(repeat)).toEqual({ eventId: 1, delivered: 0, duplicate: true });
    expect(await json(await call(`/jobs/${id}`))).toMatchObject({ lastEventId: 1 });
  });

  it('answers 409 job_finished to a different completion and keeps the first', async () => {
    const id = newJobId();
    await complete(id, { moveUrl: '/first' });
    for (const [send, body] of [
      [complete, { moveUrl: '/second' }],
      [complete, { moveUrl: '/first', data: { x: 1 } }],
      [fail, { moveUrl: '/first' }],
    ] as const) {
      const response = await send(id, body);
      expect(response.status).toBe(409);
      expect(await json(response)).toMatchObject({ error: 'job_finished' });
    }
    expect(await json(await call(`/jobs/${id}`))).toMatchObject({ status: 'result', moveUrl: '/first', lastEventId: 1 });
  });

  it('fails a job with the given moveUrl and error, idempotently', async () => {
    const id = newJobId();
    await register(id);
    expect(await json(await fail(id, { error: 'timeout' }))).toEqual({ eventId: 1, delivered: 0 });
    expect(await json(await fail(id, { error: 'timeout' }))).toEqual({ eventId: 1, delivered: 0, duplicate: true });
    expect((await fail(id, { error: 'other' })).status).toBe(409);
    expect(await json(await call(`/jobs/${id}`))).toMatchObject({ status: 'failed', error: 'timeout' });
  });
});

describe('GET /jobs/:id', () => {
  it('shows a pending job with its latest progress', async () => {
    const id = newJobId();
    await register(id);
    await progress(id, { progress: 0.5, message: 'Halfway' });
    const response = await call(`/jobs/${id}`);
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toEqual({
      id,
      status: 'pending',
      progress: 0.5,
      message: 'Halfway',
      lastEventId: 1,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      listeners: 0,
    });
  });

  it('counts the open streams in listeners, and forgets one that left at its next heartbeat', async () => {
    const id = newJobId();
    await register(id);
    const [a, b] = [await connect(id), await connect(id)];
    await Promise.all([a.next(), b.next()]);
    expect(await json(await call(`/jobs/${id}`))).toMatchObject({ listeners: 2 });
    await a.cancel();
    await expect.poll(async () => (await json(await call(`/jobs/${id}`))).listeners, { timeout: 3000 }).toBe(1);
    await b.cancel();
  });

  it('shows a finished job with its result and finishedAt', async () => {
    const id = newJobId();
    await register(id);
    await complete(id, { moveUrl: '/b', data: { n: 1 } });
    expect(await json(await call(`/jobs/${id}`))).toMatchObject({
      status: 'result',
      moveUrl: '/b',
      data: { n: 1 },
      lastEventId: 1,
      finishedAt: expect.any(String),
    });
  });

  it('answers 404 job_not_found for an unknown job', async () => {
    const response = await call(`/jobs/${newJobId()}`);
    expect(response.status).toBe(404);
    expect(await json(response)).toMatchObject({ error: 'job_not_found' });
  });
});

describe('DELETE /jobs/:id', () => {
  it('removes the job, ends its open streams, and later connects get 404', async () => {
    const id = newJobId();
    await register(id);
    const stream = await connect(id);
    const response = await backend('DELETE', `/jobs/${id}`);
    expect(response.status).toBe(204);
    expect(await stream.rest()).toEqual([{ retry: 1000, event: 'connect', data: '{"status":"connect","moveUrl":""}' }]);
    expect((await call(`/sse/connect/${id}`)).status).toBe(404);
    expect((await call(`/jobs/${id}`)).status).toBe(404);
  });

  it('answers 204 for an unknown job', async () => {
    expect((await backend('DELETE', `/jobs/${newJobId()}`)).status).toBe(204);
  });

  it('lets the id be registered again afresh', async () => {
    const id = newJobId();
    await complete(id, { moveUrl: '/old' });
    await backend('DELETE', `/jobs/${id}`);
    expect((await register(id)).status).toBe(201);
    expect(await json(await call(`/jobs/${id}`))).toMatchObject({ status: 'pending', lastEventId: 0 });
  });
});

describe('API tokens', () => {
  it('accepts every token in API_TOKENS', async () => {
    expect((await backend('PUT', `/jobs/${newJobId()}`, undefined, 'test-token-a')).status).toBe(201);
    expect((await backend('PUT', `/jobs/${newJobId()}`, undefined, 'test-token-b')).status).toBe(201);
  });

  it('answers 401 unauthorized with WWW-Authenticate to a missing or wrong token, and changes nothing', async () => {
    const id = newJobId();
    for (const headers of [{}, { Authorization: 'Bearer nope' }, { Authorization: 'Basic dGVzdA==' }, { Authorization: 'test-token-a' }] as Record<string, string>[]) {
      const response = await call(`/jobs/${id}/complete`, { method: 'POST', headers, body: '{"moveUrl":"/b"}' });
      expect(response.status).toBe(401);
      expect(response.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
      const body = await json(response);
      expect(body).toMatchObject({ error: 'unauthorized' });
      expect(JSON.stringify(body)).not.toContain('test-token');
    }
    expect((await call(`/jobs/${id}`)).status).toBe(404);
  });
});

describe('routing', () => {
  it('answers GET /healthz', async () => {
    const response = await call('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it('answers 404 not_found as JSON for an unknown route', async () => {
    const response = await call('/nope');
    expect(response.status).toBe(404);
    expect(response.headers.get('Content-Type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ error: 'not_found', message: expect.any(String) });
  });

  const wrongMethods: [string, string, string][] = [
    ['POST', '/sse/connect/x', 'GET'],
    ['POST', '/jobs/x', 'GET, PUT, DELETE'],
    ['GET', '/jobs/x/complete', 'POST'],
    ['PUT', '/jobs/x/progress', 'POST'],
    ['DELETE', '/jobs/x/fail', 'POST'],
    ['POST', '/healthz', 'GET'],
  ];
  for (const [method, path, allow] of wrongMethods) {
    it(`answers ${method} ${path} with 405 and Allow: ${allow}`, async () => {
      const response = await call(path, { method });
      expect(response.status).toBe(405);
      expect(response.headers.get('Allow')).toBe(allow);
      expect(await response.json()).toMatchObject({ error: 'method_not_allowed' });
    });
  }
});
