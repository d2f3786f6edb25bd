import { env } from 'cloudflare:workers';
import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { JobObject, JobStub } from '../src/job-object';
import { isEvent } from './support/sse-client';
import { call, complete, connect, newJobId, progress, register } from './support/http';

function stubFor(id: string) {
  return env.JOBS.get(env.JOBS.idFromName(id));
}

describe('JobObject state', () => {
  it('persists the record before it is announced, and reloads it after eviction', async () => {
    const id = newJobId();
    await register(id);
    await progress(id, { progress: 0.5, message: 'Halfway' });
    await complete(id, { moveUrl: '/b', data: { k: 'v' } });
    const stub = stubFor(id);
    const stored = await runInDurableObject(stub, (_instance: JobObject, state) =>
      state.storage.sql.exec<{ id: number; name: string }>('SELECT id, name FROM events ORDER BY id').toArray(),
    );
    expect(stored).toEqual([{ id: 1, name: 'progress' }, { id: 2, name: 'result' }]);

    await evictDurableObject(stub);
    const frames = await (await connect(id)).rest();
    expect(frames.map((f) => [f.id, f.event])).toEqual([[undefined, 'connect'], ['1', 'progress'], ['2', 'result']]);
    expect(await (await call(`/jobs/${id}`)).json()).toMatchObject({ status: 'result', data: { k: 'v' }, lastEventId: 2 });
  });

  it('delivers the result to a client that reconnects after the object was reset mid-stream', async () => {
    const id = newJobId();
    await register(id);
    const first = await connect(id);
    await first.next();
    // evictDurableObject waits for open requests, and a stream stays open; abort is what a restart does.
    await abortAllDurableObjects();
    await first.rest().catch(() => []);
    await complete(id, { moveUrl: '/after-eviction' });
    const again = await connect(id);
    const frames = await again.until(isEvent('result'));
    expect(frames.at(-1)?.data).toBe('{"status":"result","moveUrl":"/after-eviction"}');
  });

  it('delivers the result exactly once to each of several clients that reconnect after a reset', async () => {
    const id = newJobId();
    await register(id);
    await progress(id, { progress: 0.5 });
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(id)));
    await Promise.all(clients.map((client) => client.until(isEvent('progress'))));
    await abortAllDurableObjects();
    await Promise.all(clients.map((client) => client.rest().catch(() => [])));
    await complete(id, { moveUrl: '/once' });
    const again = await Promise.all(clients.map(() => connect(id, { 'Last-Event-ID': '1' })));
    for (const client of again) {
      const results = (await client.rest()).filter((f) => f.event === 'result');
      expect(results).toEqual([{ id: '2', event: 'result', data: '{"status":"result","moveUrl":"/once"}' }]);
    }
  });

  it('keeps the event ids counting on after eviction', async () => {
    const id = newJobId();
    await register(id);
    await progress(id, { progress: 0.1 });
    await evictDurableObject(stubFor(id));
    const response = await progress(id, { progress: 0.2 });
    expect(await response.json()).toMatchObject({ eventId: 2 });
  });

  it('keeps only the latest 100 events in storage', async () => {
    const id = newJobId();
    const stub = stubFor(id) as unknown as JobStub;
    await stub.register(id, undefined);
    for (let i = 0; i < 130; i++) await stub.progress(id, i / 130, undefined);
    const ids = await runInDurableObject(stubFor(id), (_i: JobObject, state) =>
      state.storage.sql.exec<{ lo: number; hi: number; n: number }>('SELECT min(id) lo, max(id) hi, count(*) n FROM events').one(),
    );
    expect(ids).toEqual({ lo: 31, hi: 130, n: 100 });
  });

  it('leaves no storage behind for a job that was only asked about', async () => {
    const id = newJobId();
    expect((await call(`/jobs/${id}`)).status).toBe(404);
    expect((await call(`/sse/connect/${id}`)).status).toBe(404);
    const tables = await runInDurableObject(stubFor(id), (_i: JobObject, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('job', 'events')").toArray(),
    );
    expect(tables).toEqual([]);
  });
});

describe('expiry through the alarm', () => {
  it('deletes a pending job at its ttl and ends its open streams', async () => {
    const id = newJobId();
    await register(id, { ttlSeconds: 1 });
    const stream = await connect(id);
    await stream.next();
    // Time cannot be moved inside workerd: the alarm fires by itself one second on and ends the stream.
    const started = Date.now();
    expect((await stream.rest(3000)).filter((f) => f.comment === undefined)).toEqual([]);
    expect(Date.now() - started).toBeGreaterThan(500);
    expect(await runDurableObjectAlarm(stubFor(id))).toBe(false);
    expect((await call(`/sse/connect/${id}`)).status).toBe(404);
    expect((await call(`/jobs/${id}`)).status).toBe(404);
    const left = await runInDurableObject(stubFor(id), (_i: JobObject, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('job', 'events')").toArray(),
    );
    expect(left).toEqual([]);
  });

  it('re-arms instead of deleting when the alarm runs before the job is due', async () => {
    const id = newJobId();
    await register(id, { ttlSeconds: 3600 });
    expect(await runDurableObjectAlarm(stubFor(id))).toBe(true);
    expect((await call(`/jobs/${id}`)).status).toBe(200);
    const alarm = await runInDurableObject(stubFor(id), (_i: JobObject, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + 3_500_000);
  });

  it('arms the alarm for JOB_TTL_SECONDS on register and RESULT_TTL_SECONDS on completion', async () => {
    const id = newJobId();
    await register(id);
    const pendingAlarm = await runInDurableObject(stubFor(id), (_i: JobObject, s) => s.storage.getAlarm());
    expect(pendingAlarm! - Date.now()).toBeGreaterThan(86_400_000 - 5_000);
    await complete(id, { moveUrl: '/b' });
    const finishedAlarm = await runInDurableObject(stubFor(id), (_i: JobObject, s) => s.storage.getAlarm());
    expect(finishedAlarm! - Date.now()).toBeGreaterThan(3_600_000 - 5_000);
    expect(finishedAlarm! - Date.now()).toBeLessThanOrEqual(3_600_000);
  });

  it('treats a job past its expiry as gone even before the alarm has run', async () => {
    const id = newJobId();
    await register(id, { ttlSeconds: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await call(`/jobs/${id}`)).status).toBe(404);
    expect((await register(id)).status).toBe(201);
  });
});
