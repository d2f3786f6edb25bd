import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { JobObject } from '../src/job-object';
import { TEST_BINDINGS } from './support/bindings';
import { complete, connect, json, newJobId, register, sleep } from './support/http';
import { isEvent } from './support/sse-client';

const HEARTBEAT_MS = Number(TEST_BINDINGS.HEARTBEAT_MS);
const MAX = Number(TEST_BINDINGS.MAX_SUBSCRIBERS_PER_JOB);

function streamCount(id: string): Promise<number> {
  const stub = env.JOBS.get(env.JOBS.idFromName(id));
  return runInDurableObject(stub, (instance: JobObject) => instance.listenerCount);
}

describe('departed clients', () => {
  it('hold no stream once a heartbeat has passed, over many rounds of connect and drop', async () => {
    const id = newJobId();
    await register(id);
    const stayers = await Promise.all(Array.from({ length: 5 }, () => connect(id)));
    for (let round = 0; round < 4; round++) {
      // Fill the job to its limit, then drop everyone but the stayers: the limit only admits the
      // next round if the departed streams were really released.
      const leavers = await Promise.all(Array.from({ length: MAX - stayers.length }, () => connect(id)));
      expect(leavers.map((s) => s.response.status)).toEqual(leavers.map(() => 200));
      await Promise.all(leavers.map(async (s) => { await s.next(); await s.cancel(); }));
      await sleep(HEARTBEAT_MS * 2);
      expect(await streamCount(id)).toBe(stayers.length);
    }
    const response = await complete(id, { moveUrl: '/b' });
    expect(await json(response)).toMatchObject({ eventId: 1, delivered: stayers.length });
    for (const stayer of stayers) {
      expect((await stayer.until((f) => f.event === 'result')).at(-1)?.data).toContain('"moveUrl":"/b"');
    }
  });

  it('counts only live streams in delivered', async () => {
    const id = newJobId();
    await register(id);
    const streams = await Promise.all(Array.from({ length: 10 }, () => connect(id)));
    await Promise.all(streams.slice(0, 7).map(async (s) => { await s.next(); await s.cancel(); }));
    await sleep(HEARTBEAT_MS * 2);
    const response = await complete(id, { moveUrl: '/b' });
    expect(await json(response)).toMatchObject({ delivered: 3 });
    for (const live of streams.slice(7)) expect((await live.rest()).filter(isEvent('result'))).toHaveLength(1);
    expect(await streamCount(id)).toBe(0);
  });
});
