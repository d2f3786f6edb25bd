import { afterEach, describe, expect, it, vi } from 'vitest';
import { HIBERNATE, receiver, runAlarms, types, watch, WEBHOOK, withJobObject, type Harness } from './support/job-harness';
import { Meter, total, type Tally } from './support/meter';

/**
 * Rows written over one standard wait, counted as Cloudflare bills them (test/support/meter.ts cites
 * the pricing page: https://developers.cloudflare.com/durable-objects/platform/pricing/). The wait
 * is driven through the object's own calls with a clock of the test's, so its alarms (the result's
 * expiry an hour on) run now. This file runs in both waiting modes; to see the detail per case:
 *   npx vitest run --project workers-hibernate --project workers-no-hibernate test/billing.test.ts --silent=false
 * BENCHMARKS.md's cost model takes its row counts from these lines.
 */
const MODE = HIBERNATE ? 'HIBERNATE=true' : 'HIBERNATE=false';
/** Dollars per row written, on Workers Paid past the included 50 million a month (the same page). */
const ROW_PRICE = 1.0;
/** The targets of issue 30, in billed rows written. */
const TARGETS = { standardWait: 7, deliveredNotification: 2, departureAndGrace: 3 };

afterEach(() => vi.restoreAllMocks());

/** The rest of a standard wait: two progress events and the result, 20 s apart. */
async function progressAndFinish({ job, id, clock }: Harness): Promise<void> {
  clock.now += 20_000;
  await job.progress(id, { progress: 0.3 });
  clock.now += 20_000;
  await job.progress(id, { progress: 0.6, message: 'Almost' });
  clock.now += 20_000;
  await job.finish(id, { status: 'result', moveUrl: '/done' });
}

function describeTally(name: string, t: Tally): string {
  return `${MODE} ${name}: ${total(t)} billed rows written (sql ${t.sql}, kv ${t.kv}, setAlarm ${t.setAlarm}, deleteAlarm ${t.deleteAlarm}, deleteAll ${t.deleteAll}): $${(total(t) * ROW_PRICE).toFixed(2)} in rows per million`;
}

/** Runs `steps` on a job's object with `vars`, metering its writes, and checks nothing is left armed. */
async function measure(vars: Record<string, string>, steps: (harness: Harness, meter: Meter) => Promise<void>): Promise<void> {
  await withJobObject(vars, async (harness) => {
    const meter = new Meter(harness.state.storage);
    try {
      await steps(harness, meter);
    } finally {
      meter.stop();
    }
    expect(await harness.state.storage.getAlarm()).toBeNull();
  });
}

describe(`rows written, ${MODE}`, () => {
  it(`stays within ${TARGETS.standardWait} over a standard wait, register to cleanup, with notifications off`, async () => {
    let tally!: Tally;
    await measure({}, async (harness, meter) => {
      harness.job.register(harness.id, undefined);
      await watch(harness);
      await progressAndFinish(harness);
      await runAlarms(harness);
      tally = meter.take();
    });
    console.log(describeTally('standard wait, notifications off', tally));
    expect(total(tally)).toBeLessThanOrEqual(TARGETS.standardWait);
  });

  it('stays within the targets for a departure, its grace alarm and its delivered notification', async () => {
    const delivered = receiver();
    const phases: Record<string, Tally> = {};
    await measure(WEBHOOK, async (harness, meter) => {
      harness.job.register(harness.id, undefined);
      const browser = await watch(harness);
      phases.register = meter.take();
      await browser.leave();
      await runAlarms(harness, harness.clock.now + 60_000); // the grace alarm, which sends job.vacated
      phases.departure = meter.take();
      await progressAndFinish(harness);
      await runAlarms(harness);
      phases.rest = meter.take();
    });
    expect(types(delivered.bodies)).toEqual(['job.vacated']);
    const notification = phases.departure.outbox;
    const departure = total(phases.departure) - notification;
    const whole = total(phases.register) + total(phases.departure) + total(phases.rest);
    console.log(describeTally('departure, grace alarm and notification', phases.departure));
    console.log(`${MODE} delivered notification: ${notification}; departure and its grace alarm: ${departure}; whole wait with notifications on: ${whole}`);
    expect(notification).toBeGreaterThan(0);
    expect(notification).toBeLessThanOrEqual(TARGETS.deliveredNotification);
    expect(departure).toBeLessThanOrEqual(TARGETS.departureAndGrace);
  });

  it(`stays within ${TARGETS.departureAndGrace} for a departure that a reconnect cancels, and its grace alarm`, async () => {
    const delivered = receiver();
    let tally!: Tally;
    await measure(WEBHOOK, async (harness, meter) => {
      harness.job.register(harness.id, undefined);
      const first = await watch(harness);
      meter.take();
      await first.leave(); // a stream's end at STREAM_MAX_MS looks the same
      await watch(harness);
      await runAlarms(harness, harness.clock.now + 60_000);
      tally = meter.take();
      await harness.job.finish(harness.id, { status: 'result', moveUrl: '/done' });
      await runAlarms(harness);
    });
    expect(delivered.bodies).toEqual([]);
    console.log(describeTally('departure cancelled by a reconnect, and its grace alarm', tally));
    expect(total(tally)).toBeLessThanOrEqual(TARGETS.departureAndGrace);
  });
});
