import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readConfig } from '../src/config';
import { JobObject } from '../src/job-object';
import { connectRequest } from '../src/job-protocol';
import { newJobId } from './support/http';
import { Meter, total, type Tally } from './support/meter';

/**
 * Rows written over one standard wait, counted as Cloudflare bills them (test/support/meter.ts cites
 * the pricing page: https://developers.cloudflare.com/durable-objects/platform/pricing/). The wait
 * is driven through the object's own calls with a clock of the test's, so its alarms (the result's
 * expiry an hour on) run now. This file runs in both waiting modes; to see the detail per case:
 *   npx vitest run --project workers-hibernate --project workers-no-hibernate test/billing.test.ts --silent=false
 * BENCHMARKS.md's cost model takes its row counts from these lines.
 */
const HIBERNATE = readConfig(env).hibernate;
const MODE = HIBERNATE ? 'HIBERNATE=true' : 'HIBERNATE=false';
const WEBHOOK = { WEBHOOK_URL: 'https://backend.example/hooks', WEBHOOK_SECRET: 'billing-test-secret-0123456789abcdef' };
/** The targets of issue 30, in billed rows written. */
const TARGETS = { standardWait: 7, deliveredNotification: 2, departureAndGrace: 3 };

let clock = 0;
afterEach(() => vi.restoreAllMocks());

function startClock(): void {
  clock = Date.now();
  vi.spyOn(Date, 'now').mockImplementation(() => clock);
}

/** Runs every alarm the object arms, each at its time, until none is left. */
async function runAlarms(job: JobObject, state: DurableObjectState, until = Infinity): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const at = await state.storage.getAlarm();
    if (at === null || at > until) return;
    clock = Math.max(clock, at);
    await job.alarm();
  }
  throw new Error('the object kept arming alarms');
}

/** One browser on the job, as the object sees it in this mode; `leave` is its departure. */
async function watch(job: JobObject, state: DurableObjectState, id: string) {
  const response = await job.fetch(connectRequest(id, '', HIBERNATE));
  if (HIBERNATE) {
    const client = response.webSocket!;
    client.accept();
    const server = state.getWebSockets().at(-1)!;
    // What a relay does when its browser leaves: it closes its end, which the object hears of.
    return {
      leave: async () => {
        client.close(1001, 'departed');
        await new Promise((resolve) => setTimeout(resolve, 20));
        job.webSocketClose(server, 1001, 'departed');
      },
    };
  }
  const reader = response.body!.getReader();
  await reader.read();
  return { leave: () => reader.cancel() };
}

/** The rest of a standard wait: two progress events and the result, 20 s apart. */
async function progressAndFinish(job: JobObject, id: string): Promise<void> {
  clock += 20_000;
  await job.progress(id, { progress: 0.3 });
  clock += 20_000;
  await job.progress(id, { progress: 0.6, message: 'Almost' });
  clock += 20_000;
  await job.finish(id, { status: 'result', moveUrl: '/done' });
}

function describeTally(name: string, t: Tally): string {
  return `${MODE} ${name}: ${total(t)} billed rows written (sql ${t.sql}, kv ${t.kv}, setAlarm ${t.setAlarm}, deleteAlarm ${t.deleteAlarm}, deleteAll ${t.deleteAll})`;
}

async function measure(vars: Record<string, string>, steps: (job: JobObject, state: DurableObjectState, id: string, meter: Meter) => Promise<void>) {
  const id = newJobId('bill');
  const stub = env.JOBS.get(env.JOBS.idFromName(id));
  await runInDurableObject(stub, async (_runtime: JobObject, state) => {
    startClock();
    const meter = new Meter(state.storage);
    try {
      const job = new JobObject(state, { ...env, ...vars });
      await steps(job, state, id, meter);
      expect(await state.storage.getAlarm()).toBeNull();
    } finally {
      meter.stop();
    }
  });
}

describe(`rows written, ${MODE}`, () => {
  it(`stays within ${TARGETS.standardWait} over a standard wait, register to cleanup, with notifications off`, async () => {
    let tally!: Tally;
    await measure({}, async (job, state, id, meter) => {
      job.register(id, undefined);
      await watch(job, state, id);
      await progressAndFinish(job, id);
      await runAlarms(job, state);
      tally = meter.take();
    });
    console.log(describeTally('standard wait, notifications off', tally));
    expect(total(tally)).toBeLessThanOrEqual(TARGETS.standardWait);
  });

  it('stays within the targets for a departure, its grace alarm and its delivered notification', async () => {
    const delivered: string[] = [];
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (_url, init) => {
      delivered.push(String(init?.body));
      return new Response(null, { status: 204 });
    });
    const phases: Record<string, Tally> = {};
    await measure(WEBHOOK, async (job, state, id, meter) => {
      job.register(id, undefined);
      const browser = await watch(job, state, id);
      phases.register = meter.take();
      await browser.leave();
      await runAlarms(job, state, clock + 60_000); // the grace alarm, which sends job.vacated
      phases.departure = meter.take();
      await progressAndFinish(job, id);
      await runAlarms(job, state);
      phases.rest = meter.take();
    });
    expect(delivered.map((body) => JSON.parse(body).type)).toEqual(['job.vacated']);
    const notification = phases.departure.outbox;
    const departure = total(phases.departure) - notification;
    const whole = total(phases.register) + total(phases.departure) + total(phases.rest);
    console.log(describeTally('departure, grace alarm and notification', phases.departure));
    console.log(`${MODE} delivered notification: ${notification}; departure and its grace alarm: ${departure}; whole wait with notifications on: ${whole}`);
    expect(notification).toBeGreaterThan(0);
    expect(notification).toBeLessThanOrEqual(TARGETS.deliveredNotification);
    expect(departure).toBeLessThanOrEqual(TARGETS.departureAndGrace);
  });
});
