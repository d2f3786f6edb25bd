import { env } from 'cloudflare:workers';
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { JobObject } from '../src/job-object';
import { JobClient } from '../src/job-protocol';
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
    const stored = await runInDurableObject(stub, (_instance: JobObject, state) => ({
      events: [...state.storage.kv.list<{ id: number }>({ prefix: 'e:' })].map(([, event]) => event.id),
      record: state.storage.kv.get<Record<string, unknown>>('job'),
    }));
    // Progress events have rows of their own; the result is stored in the job's record only.
    expect(stored.events).toEqual([1]);
    expect(stored.record).toMatchObject({ status: 'result', moveUrl: '/b', data: { k: 'v' }, lastEventId: 2 });

    await evictDurableObject(stub);
    const frames = await (await connect(id)).rest();
    expect(frames.map((f) => [f.id, f.event])).toEqual([[undefined, 'connect'], ['1', 'progress'], ['2', 'result']]);
    expect(await (await call(`/jobs/${id}`)).json()).toMatchObject({ status: 'result', data: { k: 'v' }, lastEventId: 2 });
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
    const job = new JobClient(env.JOBS, id);
    await job.register();
    for (let i = 0; i < 130; i++) await job.progress({ progress: i / 130 });
    const ids = await runInDurableObject(stubFor(id), (_i: JobObject, state) =>
      [...state.storage.kv.list<{ id: number }>({ prefix: 'e:' })].map(([, event]) => event.id).sort((a, b) => a - b),
    );
    expect(ids).toEqual(Array.from({ length: 100 }, (_, n) => 31 + n));
    const replay = await (await connect(id, { 'Last-Event-ID': '30' })).next();
    expect(replay?.event).toBe('connect');
  });

  it('leaves no storage behind for a job that was only asked about', async () => {
    const id = newJobId();
    expect((await call(`/jobs/${id}`)).status).toBe(404);
    expect((await call(`/sse/connect/${id}`)).status).toBe(404);
    const stored = await runInDurableObject(stubFor(id), (_i: JobObject, state) => ({
      keys: [...state.storage.kv.list()].map(([key]) => key),
      tables: state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'").toArray(),
    }));
    expect(stored).toEqual({ keys: [], tables: [] });
  });
});

describe('expiry through the alarm', () => {
  it('fails a pending job at its ttl with "expired": open streams get that result and end, and it is kept', async () => {
    const id = newJobId();
    await register(id, { ttlSeconds: 1 });
    const stream = await connect(id);
    await stream.next();
    // Time cannot be moved inside workerd: the alarm fires by itself one second on.
    const started = Date.now();
    const events = (await stream.rest(3000)).filter((f) => f.comment === undefined);
    expect(Date.now() - started).toBeGreaterThan(500);
    expect(events).toEqual([{ id: '1', event: 'result', data: '{"status":"failed","error":"expired"}' }]);
    expect(await (await call(`/jobs/${id}`)).json()).toMatchObject({ status: 'failed', error: 'expired', lastEventId: 1 });
    const again = await connect(id);
    expect((await again.rest()).map((f) => f.event)).toEqual(['connect', 'result']);
    expect((await call(`/sse/connect/${id}`, { headers: { 'Last-Event-ID': '1' } })).status).toBe(204);
    expect(await (await complete(id, { moveUrl: '/late' })).json()).toMatchObject({ error: 'job_finished' });
    // Kept RESULT_TTL_SECONDS (an hour by default), like any result.
    const alarm = await runInDurableObject(stubFor(id), (_i: JobObject, state) => state.storage.getAlarm());
    expect(alarm! - Date.now()).toBeGreaterThan(3_600_000 - 5_000);
  });

  it('re-arms instead of deleting when the alarm runs before the job is due', async () => {
    const id = newJobId();
    await register(id, { ttlSeconds: 3600 });
    expect(await runDurableObjectAlarm(stubFor(id))).toBe(true);
    expect((await call(`/jobs/${id}`)).status).toBe(200);
    const alarm = await runInDurableObject(stubFor(id), (_i: JobObject, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + 3_500_000);
  });

  const alarmOf = (id: string) => runInDurableObject(stubFor(id), (_i: JobObject, s) => s.storage.getAlarm());
  const HOUR = 3_600_000; // RESULT_TTL_SECONDS by default

  it('wakes a pending job at least every RESULT_TTL_SECONDS, so completing it never moves the alarm', async () => {
    const id = newJobId();
    await register(id); // JOB_TTL_SECONDS: a day
    const pendingAlarm = (await alarmOf(id))! - Date.now();
    expect(pendingAlarm).toBeGreaterThan(HOUR - 5_000);
    expect(pendingAlarm).toBeLessThanOrEqual(HOUR);
    // An early wake of a pending job re-arms within RESULT_TTL_SECONDS and keeps the job.
    expect(await runDurableObjectAlarm(stubFor(id))).toBe(true);
    expect((await call(`/jobs/${id}`)).status).toBe(200);
    expect((await alarmOf(id))! - Date.now()).toBeLessThanOrEqual(HOUR);

    const before = (await alarmOf(id))!;
    await complete(id, { moveUrl: '/b' });
    // Completing did not write the alarm, and it already falls at or before the result's expiry.
    expect(await alarmOf(id)).toBe(before);
    const expiresAt = Date.parse(((await (await call(`/jobs/${id}`)).json()) as { finishedAt: string }).finishedAt) + HOUR;
    expect(before).toBeLessThanOrEqual(expiresAt);
    // That wake comes before the result is due: it keeps the result and re-arms for its expiry exactly.
    expect(await runDurableObjectAlarm(stubFor(id))).toBe(true);
    expect((await call(`/jobs/${id}`)).status).toBe(200);
    expect(Math.abs((await alarmOf(id))! - expiresAt)).toBeLessThan(1_000);
  });

  it('arms the alarm at the job ttl when it is shorter than RESULT_TTL_SECONDS', async () => {
    const id = newJobId();
    await register(id, { ttlSeconds: 600 });
    const alarm = (await alarmOf(id))! - Date.now();
    expect(alarm).toBeGreaterThan(600_000 - 5_000);
    expect(alarm).toBeLessThanOrEqual(600_000);
  });

  it('arms the alarm at the result expiry for a job completed without being registered', async () => {
    const id = newJobId();
    expect((await complete(id, { moveUrl: '/b' })).status).toBe(200);
    const alarm = (await alarmOf(id))! - Date.now();
    expect(alarm).toBeGreaterThan(HOUR - 5_000);
    expect(alarm).toBeLessThanOrEqual(HOUR);
  });

  it('fails a job past its ttl as expired even before the alarm has run', async () => {
    const id = newJobId();
    await register(id, { ttlSeconds: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await (await call(`/jobs/${id}`)).json()).toMatchObject({ status: 'failed', error: 'expired' });
    expect((await register(id)).status).toBe(200);
  });
});
