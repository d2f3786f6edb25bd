import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, harness, startTabs } from './support/tabs';

/**
 * The browser client in Chromium, as front ends call it: every wait settles or holds a live stream or
 * poll, and a settled or aborted one holds nothing (no tab lock, no place in line, no stream).
 */
let tabs: Awaited<ReturnType<typeof startTabs>>;

beforeAll(async () => {
  tabs = await startTabs({ notFoundTimeoutMs: 30_000 });
}, 120_000);
afterAll(async () => {
  await tabs?.stop();
  expect(tabs?.errors ?? []).toEqual([]);
});

const jobId = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2)}`;

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((next) => setTimeout(next, 50));
  }
}

describe('a wait in Chromium', () => {
  it('aborted at once and started again, as React StrictMode does, settles and leaves no lock or stream', async () => {
    const page = await tabs.open();
    const tab = harness(page);
    const id = jobId('strict');
    expect((await backend(tabs.server, 'PUT', `/jobs/${id}`)).status).toBe(201);
    await page.evaluate((id) => {
      const { harness } = window as unknown as { harness: { start(id: string): number; abort(index: number): void } };
      harness.abort(harness.start(id)); // mount, clean-up…
      harness.start(id); // …mount again
    }, id);
    await until(tab.streams, (open) => open.length === 1);
    expect((await backend(tabs.server, 'POST', `/jobs/${id}/complete`, { moveUrl: '/b' })).status).toBe(200);
    const waits = await until(tab.waits, (all) => all[1].status !== 'live');
    expect(waits).toEqual([
      { id, status: 'rejected', error: 'aborted' },
      { id, status: 'settled', outcome: { status: 'result', moveUrl: '/b' } },
    ]);
    expect(await until(tab.locks, (held) => held.length === 0, 2_000)).toEqual([]);
    expect(await tab.streams()).toEqual([]);
    await page.close();
  });

  it('settled in three tabs at once leaves no lock, place in line or stream in any', async () => {
    const pages = await Promise.all([tabs.open(), tabs.open(), tabs.open()]);
    const id = jobId('tabs');
    expect((await backend(tabs.server, 'PUT', `/jobs/${id}`)).status).toBe(201);
    for (const page of pages) await harness(page).start(id);
    const streams = async () => (await Promise.all(pages.map((page) => harness(page).streams()))).flat();
    expect(await until(streams, (open) => open.length === 1)).toEqual([id]);
    expect(await harness(pages[0]).locks()).toEqual([`jobcast:${id}`, `jobcast:${id}`, `jobcast:${id}`]);
    expect((await backend(tabs.server, 'POST', `/jobs/${id}/fail`, { error: 'boom' })).status).toBe(200);
    for (const page of pages) {
      const [wait] = await until(harness(page).waits, (all) => all[0].status !== 'live');
      expect(wait).toEqual({ id, status: 'settled', outcome: { status: 'failed', error: 'boom' } });
    }
    expect(await until(harness(pages[2]).locks, (held) => held.length === 0, 2_000)).toEqual([]);
    expect(await streams()).toEqual([]);
    await Promise.all(pages.map((page) => page.close()));
  });

  it('opened before its job is registered, streams once the job exists instead of polling on', async () => {
    const page = await tabs.open();
    const tab = harness(page);
    const id = jobId('early');
    const states: string[] = [];
    page.on('request', (request) => states.push(new URL(request.url()).pathname.split('/')[1]));
    await tab.start(id);
    await new Promise((elapsed) => setTimeout(elapsed, 6_000)); // three refused streams: polling now
    expect(states.filter((kind) => kind === 'jobs').length).toBeGreaterThan(2);
    expect(await tab.streams()).toEqual([]);
    expect((await backend(tabs.server, 'PUT', `/jobs/${id}`)).status).toBe(201);
    expect(await until(tab.streams, (open) => open.length === 1, 3_000)).toEqual([id]);
    const polls = states.filter((kind) => kind === 'jobs').length;
    await new Promise((elapsed) => setTimeout(elapsed, 2_000));
    expect(states.filter((kind) => kind === 'jobs').length).toBe(polls); // polling stopped
    expect((await backend(tabs.server, 'POST', `/jobs/${id}/complete`, { moveUrl: '/b' })).status).toBe(200);
    const [wait] = await until(tab.waits, (all) => all[0].status !== 'live');
    expect(wait).toMatchObject({ status: 'settled', outcome: { moveUrl: '/b' } });
    await page.close();
  });
});
