import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, harness, startTabs, type WaitView } from './support/tabs';

/**
 * A seeded random walk over tabs of one browser context: waits opened, aborted and remounted as React
 * StrictMode does, tabs closed and
 * reloaded, jobs registered, progressed, completed and failed, the context taken offline and back.
 * After every step:
 * - every live wait whose job finished settles within 5 s (of the job's end, the wait's start, or
 *   the context coming back online, whichever is last) with that job's outcome;
 * - after a handover has had 1 s to settle, at most one stream per job is open in the context;
 * - once no wait is live, no job lock is held or asked for.
 * A failure names its seed: JOBCAST_TAB_SEEDS=<seed> npx vitest run --project e2e-hibernate tabs-random
 * The client does not know the waiting mode, so the walk runs in the default mode only.
 */
const SEEDS = process.env.JOBCAST_TAB_SEEDS?.split(',').map(Number) ?? [2, 4, 5, 6, 7];
/**
 * Seeds that failed before the client let a lock go that was granted to a wait already aborted
 * (StrictMode's mount, clean-up, mount): 1 left a remounted wait live after its job ended, 3 left the
 * lock held with no wait live.
 */
const REGRESSIONS = process.env.JOBCAST_TAB_SEEDS ? [] : [1, 3];
const STEPS = Number(process.env.JOBCAST_TAB_STEPS ?? 200);
const TABS = 4;
const SETTLE_MS = 5_000;
const HANDOVER_MS = 1_000;

let tabs: Awaited<ReturnType<typeof startTabs>>;
beforeAll(async () => {
  tabs = await startTabs({ notFoundTimeoutMs: 20_000 });
}, 120_000);
afterAll(async () => {
  await tabs?.stop();
});

/** mulberry32: small, seedable, good enough to pick steps. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Job {
  id: string;
  registered: boolean;
  outcome?: { status: 'result'; moveUrl: string } | { status: 'failed'; error: string };
  endedAt?: number;
}
interface Tab {
  page: Page;
  /** When each wait of this page load started, and whether the walk aborted it. */
  waits: Array<{ id: string; startedAt: number; aborted: boolean }>;
}

async function walk(seed: number): Promise<number> {
  const pick = random(seed);
  const choose = <T>(items: T[]): T => items[Math.floor(pick() * items.length)];
  const log: string[] = [];
  const fail = (message: string): never => {
    throw new Error(`seed ${seed}: ${message}\nlast steps:\n${log.slice(-15).join('\n')}`);
  };
  let serial = 0;
  const newJob = (): Job => ({ id: `walk-${seed}-${serial++}-${Math.random().toString(36).slice(2, 6)}`, registered: false });
  const jobs: Job[] = [newJob(), newJob(), newJob()];
  const known = new Map(jobs.map((job) => [job.id, job]));
  const open: Tab[] = [];
  for (let i = 0; i < TABS; i++) open.push({ page: await tabs.open(), waits: [] });
  let onlineSince = Date.now();
  const settled = new Set<string>();
  let offline = false;

  const views = async (tab: Tab): Promise<WaitView[]> => harness(tab.page).waits();
  /** After each step; `last`: the walk is over, so every wait that can settle must be seen to. */
  const check = async (last = false): Promise<void> => {
    for (;;) {
      let unsettled = 0;
      for (const tab of open) {
        const seen = await views(tab);
        seen.forEach((view, index) => {
          const wait = tab.waits[index];
          const job = known.get(view.id)!;
          if (view.status === 'settled') {
            if (!job.outcome) fail(`wait ${index} for ${view.id} settled before its job ended: ${JSON.stringify(view.outcome)}`);
            const { status, moveUrl, error } = view.outcome!;
            const expected = job.outcome!;
            if (status !== expected.status || (expected.status === 'result' ? moveUrl !== expected.moveUrl : error !== expected.error)) {
              fail(`wait for ${view.id} settled with ${JSON.stringify(view.outcome)}, the job ended with ${JSON.stringify(expected)}`);
            }
            settled.add(`${seed}/${view.id}/${index}/${open.indexOf(tab)}`);
          }
          if (view.status === 'rejected' && !(wait.aborted && view.error === 'aborted') && !(view.error === 'job_not_found' && !job.registered && !job.outcome)) {
            fail(`wait for ${view.id} rejected with ${view.error}`);
          }
          if (view.status === 'live' && job.outcome && !offline) {
            unsettled++;
            const due = Math.max(job.endedAt!, wait.startedAt, onlineSince) + SETTLE_MS;
            if (Date.now() > due) fail(`wait ${index} in tab ${open.indexOf(tab)} for ${view.id} still live ${Date.now() - due + SETTLE_MS} ms after it could settle`);
          }
        });
      }
      if (!last || unsettled === 0) break;
      await new Promise((next) => setTimeout(next, 100));
    }
    // One stream per job, once a handover has had its second.
    const handover = Date.now() + HANDOVER_MS;
    for (;;) {
      const streams = (await Promise.all(open.map((tab) => harness(tab.page).streams()))).flat();
      const doubled = streams.find((id, i) => streams.indexOf(id) !== i);
      if (!doubled) break;
      if (Date.now() > handover) fail(`${streams.filter((id) => id === doubled).length} streams open for ${doubled}`);
      await new Promise((next) => setTimeout(next, 50));
    }
    // No lock once nothing waits.
    const live = (await Promise.all(open.map(views))).flat().some((view) => view.status === 'live');
    if (!live) {
      const released = Date.now() + HANDOVER_MS;
      for (;;) {
        const locks = await harness(open[0].page).locks();
        if (locks.length === 0) break;
        if (Date.now() > released) fail(`no wait is live, yet the origin holds or asks for ${locks.join(', ')}`);
        await new Promise((next) => setTimeout(next, 50));
      }
    }
  };

  const steps: Array<[number, () => Promise<void>]> = [
    [30, async () => {
      const tab = choose(open);
      const job = choose(jobs);
      tab.waits.push({ id: job.id, startedAt: Date.now(), aborted: false });
      await harness(tab.page).start(job.id);
      log.push(`open a wait for ${job.id} in tab ${open.indexOf(tab)}`);
    }],
    [10, async () => {
      const tab = choose(open);
      const job = choose(jobs);
      tab.waits.push({ id: job.id, startedAt: Date.now(), aborted: true }, { id: job.id, startedAt: Date.now(), aborted: false });
      await harness(tab.page).remount(job.id);
      log.push(`mount, clean up and mount a wait for ${job.id} in tab ${open.indexOf(tab)} (StrictMode)`);
    }],
    [10, async () => {
      const tab = choose(open);
      const live = (await views(tab)).flatMap((view, index) => (view.status === 'live' ? [index] : []));
      if (live.length === 0) return;
      const index = choose(live);
      tab.waits[index].aborted = true;
      await harness(tab.page).abort(index);
      log.push(`abort wait ${index} in tab ${open.indexOf(tab)}`);
    }],
    [4, async () => {
      if (offline) return; // a page cannot load offline
      const index = Math.floor(pick() * open.length);
      await open[index].page.close();
      open[index] = { page: await tabs.open(), waits: [] };
      log.push(`close tab ${index} and open another`);
    }],
    [4, async () => {
      if (offline) return;
      const tab = choose(open);
      await tab.page.reload();
      await tab.page.waitForFunction(() => 'harness' in window);
      tab.waits = [];
      log.push(`reload tab ${open.indexOf(tab)}`);
    }],
    [12, async () => {
      const index = Math.floor(pick() * jobs.length);
      if (jobs[index].outcome) {
        jobs[index] = newJob();
        known.set(jobs[index].id, jobs[index]);
      }
      const job = jobs[index];
      const answer = await backend(tabs.server, 'PUT', `/jobs/${job.id}`);
      if (answer.status !== 201 && answer.status !== 200) fail(`register ${job.id}: ${answer.status}`);
      job.registered = true;
      log.push(`register ${job.id}`);
    }],
    [12, async () => {
      const job = choose(jobs);
      if (!job.registered || job.outcome) return;
      await backend(tabs.server, 'POST', `/jobs/${job.id}/progress`, { progress: pick() });
      log.push(`progress ${job.id}`);
    }],
    [8, async () => {
      const job = choose(jobs);
      if (job.outcome) return;
      const moveUrl = `/done/${job.id}`;
      const answer = await backend(tabs.server, 'POST', `/jobs/${job.id}/complete`, { moveUrl });
      if (answer.status !== 200) fail(`complete ${job.id}: ${answer.status}`);
      Object.assign(job, { outcome: { status: 'result', moveUrl }, endedAt: Date.now() });
      log.push(`complete ${job.id}`);
    }],
    [5, async () => {
      const job = choose(jobs);
      if (job.outcome) return;
      const error = `failed-${job.id}`;
      const answer = await backend(tabs.server, 'POST', `/jobs/${job.id}/fail`, { error });
      if (answer.status !== 200) fail(`fail ${job.id}: ${answer.status}`);
      Object.assign(job, { outcome: { status: 'failed', error }, endedAt: Date.now() });
      log.push(`fail ${job.id}`);
    }],
    [4, async () => {
      offline = !offline;
      await tabs.context.setOffline(offline);
      if (!offline) onlineSince = Date.now();
      log.push(offline ? 'take the context offline' : 'bring the context back online');
    }],
  ];
  const total = steps.reduce((sum, [weight]) => sum + weight, 0);
  for (let step = 0; step < STEPS; step++) {
    let roll = pick() * total;
    const [, act] = steps.find(([weight]) => (roll -= weight) < 0) ?? steps[0];
    await act();
    await check();
  }
  // The end: online again, every job ended, then every wait must settle and let go of its lock.
  if (offline) {
    await tabs.context.setOffline(false);
    offline = false;
    onlineSince = Date.now();
  }
  for (const job of jobs.filter((job) => !job.outcome)) {
    await backend(tabs.server, 'POST', `/jobs/${job.id}/complete`, { moveUrl: `/done/${job.id}` });
    Object.assign(job, { outcome: { status: 'result', moveUrl: `/done/${job.id}` }, endedAt: Date.now() });
  }
  for (const tab of open) {
    for (const [index, view] of (await views(tab)).entries()) {
      const job = known.get(view.id)!;
      if (view.status === 'live' && !job.outcome) {
        tab.waits[index].aborted = true;
        await harness(tab.page).abort(index);
      }
    }
  }
  await check(true);
  return settled.size;
}

describe('tabs of one browser, at random', () => {
  for (const seed of [...REGRESSIONS, ...SEEDS]) {
    it(`seed ${seed}: every wait settles with its job's outcome, one stream per job, no lock left`, async () => {
      const settled = await walk(seed).finally(() => Promise.all(tabs.context.pages().map((page) => page.close())));
      expect(settled).toBeGreaterThan(10); // the walk did wait for jobs that ended
      expect(tabs.errors).toEqual([]);
    }, 240_000);
  }
});
