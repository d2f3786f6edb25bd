import { env } from 'cloudflare:workers';
import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobObject } from '../src/job-object';
import { call, complete, connect, json, newJobId, progress } from './support/http';
import { isEvent } from './support/sse-client';
import { HIBERNATE, receiver, runAlarms, types, WEBHOOK, withJobObject } from './support/job-harness';

/**
 * Objects whose storage the previous release wrote (SQLite tables job, events and outbox) load and
 * finish their job after the change. The DDL and rows are exactly what src/job-store.ts wrote then.
 */
const LEGACY_DDL = [
  'CREATE TABLE IF NOT EXISTS job (id TEXT PRIMARY KEY, record TEXT NOT NULL)',
  'CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL)',
  `CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL,
  attempts INTEGER NOT NULL, first_at INTEGER NOT NULL, next_at INTEGER NOT NULL
)`,
];
const MODE = HIBERNATE ? 'HIBERNATE=true' : 'HIBERNATE=false';

afterEach(() => vi.restoreAllMocks());

/** A pending job with two progress events, as the previous release stored it; `extra` goes in its record. */
function writeLegacyJob(storage: DurableObjectStorage, id: string, now: number, extra: object = {}): void {
  for (const ddl of LEGACY_DDL) storage.sql.exec(ddl);
  const record = { id, status: 'pending', createdAt: now - 60_000, expiresAt: now + 86_400_000, lastEventId: 2, progress: 0.6, message: 'Almost', ...extra };
  storage.sql.exec('INSERT INTO job (id, record) VALUES (?, ?)', id, JSON.stringify(record));
  storage.sql.exec("INSERT INTO events (id, name, data) VALUES (1, 'progress', ?)", JSON.stringify({ status: 'progress', progress: 0.3 }));
  storage.sql.exec("INSERT INTO events (id, name, data) VALUES (2, 'progress', ?)", JSON.stringify({ status: 'progress', progress: 0.6, message: 'Almost' }));
}

describe(`an object written by the previous release, ${MODE}`, () => {
  it('loads a job mid-wait, replays its events after Last-Event-ID, and finishes it', async () => {
    const id = newJobId('legacy');
    const stub = env.JOBS.get(env.JOBS.idFromName(id));
    await runInDurableObject(stub, async (_i: JobObject, state) => {
      writeLegacyJob(state.storage, id, Date.now());
      await state.storage.setAlarm(Date.now() + 3_600_000);
    });
    await evictDurableObject(stub);

    expect(await json(await call(`/jobs/${id}`))).toMatchObject({ status: 'pending', progress: 0.6, message: 'Almost', lastEventId: 2 });
    const resumed = await connect(id, { 'Last-Event-ID': '1' });
    expect((await resumed.until(isEvent('progress'))).filter((f) => f.event === 'progress').map((f) => f.id)).toEqual(['2']);
    expect(await json(await progress(id, { progress: 0.9 }))).toMatchObject({ eventId: 3 });
    expect(await json(await complete(id, { moveUrl: '/b' }))).toMatchObject({ eventId: 4, delivered: 1 });
    expect((await resumed.rest()).filter(isEvent('result')).map((f) => f.data)).toEqual(['{"status":"result","moveUrl":"/b"}']);

    const left = await runInDurableObject(stub, (_i: JobObject, state) =>
      state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('job', 'events', 'outbox')").toArray(),
    );
    expect(left).toEqual([]);
    await evictDurableObject(stub);
    const replay = await (await connect(id)).rest();
    expect(replay.map((f) => [f.id, f.event])).toEqual([[undefined, 'connect'], ['3', 'progress'], ['4', 'result']]);
  });

  it('delivers its pending notification with the same id, then its departure grace, and finishes the job', async () => {
    const got = receiver();
    let id = '';
    await withJobObject({ ...WEBHOOK, VACATED_AFTER_MS: '5000' }, async (harness) => {
      const { state, clock } = harness;
      id = harness.id;
      // A job.vacated refused once and due again, and a grace (vacantAt) that ends after it.
      const body = JSON.stringify({ id: 'ntf_legacy', type: 'job.vacated', job: id, at: new Date(clock.now - 9000).toISOString() });
      writeLegacyJob(state.storage, id, clock.now, { vacantAt: clock.now + 2000 });
      state.storage.sql.exec('INSERT INTO outbox (id, type, body, attempts, first_at, next_at) VALUES (?, ?, ?, 1, ?, ?)', 'ntf_legacy', 'job.vacated', body, clock.now - 8000, clock.now + 1000);
      await state.storage.setAlarm(clock.now + 1000);

      const job = new JobObject(state, { ...env, ...WEBHOOK, VACATED_AFTER_MS: '5000' });
      harness.job = job;
      expect(job.status(id)).toMatchObject({ status: 'pending', lastEventId: 2, progress: 0.6 });
      await runAlarms(harness, clock.now + 10_000);
      expect(got.bodies[0]).toBe(body);
      expect(types(got.bodies)).toEqual(['job.vacated', 'job.vacated']);
      expect(JSON.parse(got.bodies[1])).toMatchObject({ job: id });
      expect(JSON.parse(got.bodies[1]).id).not.toBe('ntf_legacy');

      expect(await job.finish(id, { status: 'result', moveUrl: '/b' })).toMatchObject({ ok: true, eventId: 3 });
      await runAlarms(harness);
      expect(job.status(id)).toBeNull();
      expect([...state.storage.kv.list()]).toEqual([]);
    });
    expect(id).not.toBe('');
  });
});
