import { afterEach, describe, expect, it, vi } from 'vitest';
import { verifyWebhook } from '../src/sdk/webhook';
import { HIBERNATE, receiver, runAlarms, types, watch, WEBHOOK, withJobObject } from './support/job-harness';
import { Meter, total } from './support/meter';

/** job.vacated in this waiting mode, with notifications on and a grace of 5 s. */
const GRACE_MS = 5000;
const VARS = { ...WEBHOOK, VACATED_AFTER_MS: String(GRACE_MS) };
const MODE = HIBERNATE ? 'HIBERNATE=true' : 'HIBERNATE=false';

afterEach(() => vi.restoreAllMocks());

describe(`a page that polls, ${MODE}`, () => {
  it('is still waiting: no job.vacated while it polls every 2 s with its subscribe token, one after it stops', async () => {
    const got = receiver();
    await withJobObject(VARS, async (harness) => {
      const { job, id, clock } = harness;
      job.register(id, undefined);
      await (await watch(harness)).leave(); // the stream dropped; the client falls back to polling
      const meter = new Meter(harness.state.storage);
      let lastPoll = clock.now;
      for (let poll = 0; poll < 15; poll++) {
        await runAlarms(harness, clock.now + 2000);
        job.status(id, true);
        lastPoll = clock.now;
      }
      const whilePolling = meter.take();
      meter.stop();
      expect(types(got.bodies)).toEqual([]);
      // No row per poll: the polls live in memory, and the grace's end moves with the alarm only.
      expect(whilePolling.kv + whilePolling.sql).toBe(0);
      expect(total(whilePolling)).toBeLessThan(15);

      await runAlarms(harness, lastPoll + GRACE_MS - 1);
      expect(types(got.bodies)).toEqual([]);
      await runAlarms(harness, lastPoll + GRACE_MS + 1000);
      expect(types(got.bodies)).toEqual(['job.vacated']);
    });
  });

  it("does not count a backend's status read (API token) as a page", async () => {
    const got = receiver();
    await withJobObject(VARS, async (harness) => {
      const { job, id, clock } = harness;
      job.register(id, undefined);
      const leftAt = clock.now;
      await (await watch(harness)).leave();
      for (let poll = 0; poll < 4; poll++) {
        await runAlarms(harness, clock.now + 2000);
        job.status(id, false);
      }
      await runAlarms(harness, leftAt + GRACE_MS + 2000);
      expect(types(got.bodies)).toEqual(['job.vacated']);
    });
  });
});

describe(`a relay's close from an earlier incarnation, ${MODE}`, () => {
  it('never starts a grace on the job registered again under the same id', async () => {
    const got = receiver();
    await withJobObject(VARS, async (harness) => {
      const { job, id, clock, state } = harness;
      job.register(id, undefined);
      const old = await watch(harness);
      // The backend deletes the job and registers the id again at once; the old stream's close
      // (a browser that left, not the answer to the object's own close) lands after the PUT.
      await job.remove();
      const again = job.register(id, undefined);
      expect(again.created).toBe(true);
      await old.leave();
      expect([...state.storage.kv.list({ prefix: 'o:' })]).toEqual([]);
      await runAlarms(harness, clock.now + GRACE_MS * 3);
      expect(got.bodies).toEqual([]);

      // The control: a departure of the new incarnation does start one.
      await (await watch(harness)).leave();
      await runAlarms(harness, clock.now + GRACE_MS + 1000);
      expect(types(got.bodies)).toEqual(['job.vacated']);
    });
  });
});

describe(`a notification during a secret's rotation, ${MODE}`, () => {
  it('carries a second v1 signed with WEBHOOK_SECRET_PREVIOUS while it is set', async () => {
    const got = receiver();
    const previous = 'harness-previous-0123456789abcdef0123';
    await withJobObject({ ...VARS, WEBHOOK_SECRET_PREVIOUS: previous }, async (harness) => {
      harness.job.register(harness.id, undefined);
      await (await watch(harness)).leave();
      await runAlarms(harness, harness.clock.now + GRACE_MS + 1000);
    });
    const [body] = got.bodies;
    const [header] = got.signatures;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    for (const secret of [WEBHOOK.WEBHOOK_SECRET, previous]) {
      expect(await verifyWebhook(body, header, secret, { toleranceSeconds: 3600 })).toMatchObject({ type: 'job.vacated' });
    }
  });
});
