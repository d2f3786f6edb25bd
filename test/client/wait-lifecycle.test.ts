import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { waitForJob, type ConnectionState } from '../../public/jobcast.js';
import { FakeEventSource, fakeLocks, fakeStatus } from './support/fake-browser';

const ES = FakeEventSource as unknown as typeof EventSource;
const pending = { status: 200, body: { id: 'j', status: 'pending', lastEventId: 0 } };
const notFound = { status: 404, body: { error: 'job_not_found', message: 'No such job' } };
const base = { id: 'j', baseUrl: 'https://jobs.example', shareAcrossTabs: false, EventSource: ES };

/** The window's events (online, pageshow, visibilitychange) for a client running in Node. */
function fakeWindow() {
  const target = new EventTarget();
  vi.stubGlobal('addEventListener', target.addEventListener.bind(target));
  vi.stubGlobal('removeEventListener', target.removeEventListener.bind(target));
  vi.stubGlobal('document', { visibilityState: 'visible' });
  return target;
}

beforeEach(() => {
  FakeEventSource.reset();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('a wait that shares its stream across tabs', () => {
  it('settles the next wait for the job after one aborted between its lock grant and callback (StrictMode)', async () => {
    const locks = fakeLocks();
    vi.stubGlobal('navigator', { locks });
    const shared = { ...base, id: `strict-${Math.random()}`, shareAcrossTabs: true, fetch: fakeStatus(pending).fetch };
    const first = new AbortController();
    const aborted = waitForJob({ ...shared, signal: first.signal }).catch((error) => error);
    first.abort(new Error('unmounted')); // React's clean-up, before the granted lock's callback ran
    const second = waitForJob(shared);
    await vi.advanceTimersByTimeAsync(0);
    expect(await aborted).toMatchObject({ message: 'unmounted' });
    expect(FakeEventSource.instances).toHaveLength(1);
    FakeEventSource.latest.emit('result', { status: 'result', moveUrl: '/b' }, '1');
    expect(await second).toEqual({ status: 'result', moveUrl: '/b', data: undefined });
    await vi.advanceTimersByTimeAsync(0);
    expect(locks.held.size).toBe(0);
    expect([...locks.lines.values()].flat()).toHaveLength(0);
  });

  it('holds no lock, place in line, stream or timer once settled', async () => {
    const locks = fakeLocks();
    vi.stubGlobal('navigator', { locks });
    const shared = { ...base, id: `held-${Math.random()}`, shareAcrossTabs: true, fetch: fakeStatus(pending).fetch };
    const waits = [waitForJob(shared), waitForJob(shared), waitForJob(shared)];
    await vi.advanceTimersByTimeAsync(0);
    expect(locks.lines.get(`jobcast:${shared.id}`)).toHaveLength(2);
    FakeEventSource.latest.emit('result', { status: 'failed', error: 'boom' }, '1');
    for (const wait of waits) expect(await wait).toEqual({ status: 'failed', error: 'boom', moveUrl: undefined });
    await vi.advanceTimersByTimeAsync(0);
    expect(locks.held.size).toBe(0);
    expect([...locks.lines.values()].flat()).toHaveLength(0);
    expect(FakeEventSource.instances.every((source) => source.readyState === FakeEventSource.CLOSED)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('polling, with a way back to a stream', () => {
  it('opens a stream as soon as a poll finds the job that streams were refused for', async () => {
    const status = fakeStatus(notFound);
    void waitForJob({ ...base, fetch: status.fetch, pollIntervalMs: 2000 }).catch(() => {});
    for (let attempt = 0; attempt < 3; attempt++) {
      FakeEventSource.latest.failForGood();
      await vi.advanceTimersByTimeAsync(5_000);
    }
    expect(FakeEventSource.instances).toHaveLength(3);
    status.set(pending); // registered now
    await vi.advanceTimersByTimeAsync(2_500);
    expect(FakeEventSource.instances).toHaveLength(4);
    FakeEventSource.latest.open();
    const polls = status.urls.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(status.urls).toHaveLength(polls); // polling stopped once the stream opened
    expect(FakeEventSource.instances).toHaveLength(4);
  });

  it('tries a stream again every 30 s while polling for another reason', async () => {
    const status = fakeStatus(pending);
    void waitForJob({ ...base, fetch: status.fetch, maxStreamFailures: 1, pollIntervalMs: 2000 });
    FakeEventSource.latest.failForGood(); // a proxy's 502, say
    await vi.advanceTimersByTimeAsync(29_000);
    expect(FakeEventSource.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(FakeEventSource.instances).toHaveLength(2);
    FakeEventSource.latest.failForGood();
    await vi.advanceTimersByTimeAsync(32_000);
    expect(FakeEventSource.instances).toHaveLength(3);
  });
});

describe('connection state', () => {
  it('reports each change once: connecting, streaming, offline, connecting, streaming, settled', async () => {
    const states: ConnectionState[] = [];
    const done = waitForJob({ ...base, fetch: fakeStatus(pending).fetch, onState: (state) => states.push(state) });
    FakeEventSource.latest.open();
    FakeEventSource.latest.endByServer(); // reopens by itself
    FakeEventSource.latest.open();
    FakeEventSource.latest.failForGood();
    await vi.advanceTimersByTimeAsync(1_000);
    FakeEventSource.latest.open();
    FakeEventSource.latest.emit('result', { status: 'result', moveUrl: '/b' }, '1');
    await done;
    expect(states).toEqual(['connecting', 'streaming', 'connecting', 'streaming', 'offline', 'connecting', 'streaming', 'settled']);
  });

  it('starts relayed while another tab holds the stream', async () => {
    vi.stubGlobal('navigator', { locks: fakeLocks() });
    const shared = { ...base, id: `relay-${Math.random()}`, shareAcrossTabs: true, fetch: fakeStatus(pending).fetch };
    void waitForJob(shared);
    const states: ConnectionState[] = [];
    void waitForJob({ ...shared, onState: (state) => states.push(state) });
    await vi.advanceTimersByTimeAsync(0);
    expect(states).toEqual(['relayed']);
  });

  it('keeps waiting when the page throws from onState', async () => {
    const done = waitForJob({ ...base, fetch: fakeStatus(pending).fetch, onState: () => { throw new Error('page bug'); } });
    FakeEventSource.latest.emit('result', { status: 'result', moveUrl: '/b' }, '1');
    expect(await done).toMatchObject({ moveUrl: '/b' });
    await expect(vi.runAllTimersAsync()).rejects.toThrow('page bug');
  });
});

describe('coming back', () => {
  it.each([
    ['the browser is online again', (target: EventTarget) => target.dispatchEvent(new Event('online'))],
    ['the tab is shown again', (target: EventTarget) => target.dispatchEvent(new Event('visibilitychange'))],
    ['the page returns from the back-forward cache', (target: EventTarget) => target.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }))],
  ])('reconnects at once, not after its backoff, when %s', async (_name, wake) => {
    const target = fakeWindow();
    void waitForJob({ ...base, fetch: fakeStatus({ status: 502 }).fetch, maxStreamFailures: 10 });
    for (let attempt = 0; attempt < 5; attempt++) {
      FakeEventSource.latest.failForGood();
      await vi.advanceTimersByTimeAsync(40_000);
    }
    FakeEventSource.latest.failForGood(); // the next try is 8 to 16 s away
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeEventSource.instances).toHaveLength(6);
    wake(target);
    expect(FakeEventSource.instances).toHaveLength(7);
  });

  it('ignores a page shown fresh or a tab hidden', async () => {
    const target = fakeWindow();
    vi.stubGlobal('document', { visibilityState: 'hidden' });
    void waitForJob({ ...base, fetch: fakeStatus({ status: 502 }).fetch });
    FakeEventSource.latest.failForGood();
    await vi.advanceTimersByTimeAsync(10);
    target.dispatchEvent(new Event('visibilitychange'));
    target.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: false }));
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it('removes its window listeners when settled', async () => {
    const target = fakeWindow();
    const done = waitForJob({ ...base, fetch: fakeStatus(pending).fetch });
    FakeEventSource.latest.emit('result', { status: 'result', moveUrl: '/b' }, '1');
    await done;
    FakeEventSource.reset();
    target.dispatchEvent(new Event('online'));
    expect(FakeEventSource.instances).toHaveLength(0);
  });
});

describe('an unreachable service', () => {
  it('warns once, naming its baseUrl and ALLOWED_ORIGINS, after 30 s of network failures, and keeps trying', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const urls: string[] = [];
    const fetch = (async (url: string) => {
      urls.push(url);
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof globalThis.fetch;
    void waitForJob({ ...base, fetch });
    /** Unreachable streams fail as well, each time one is tried. */
    const fail = async (ms: number) => {
      for (let spent = 0; spent < ms; spent += 1_000) {
        if (FakeEventSource.latest.readyState !== FakeEventSource.CLOSED) FakeEventSource.latest.failForGood();
        await vi.advanceTimersByTimeAsync(1_000);
      }
    };
    await fail(25_000);
    expect(warn).not.toHaveBeenCalled();
    await fail(120_000);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toContain('https://jobs.example');
    expect(warn.mock.calls[0][0]).toContain('ALLOWED_ORIGINS');
    const asked = urls.length;
    await fail(30_000);
    expect(urls.length).toBeGreaterThan(asked);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('does not warn when failures are broken by an answer', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    let calls = 0;
    const fetch = (async () => {
      if (++calls % 5 === 0) return new Response(JSON.stringify(pending.body));
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof globalThis.fetch;
    void waitForJob({ ...base, EventSource: null, fetch, pollIntervalMs: 2000 });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(calls).toBeGreaterThan(40);
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('a baseUrl that is no URL', () => {
  it('rejects with the EventSource error and holds nothing, rather than hanging', async () => {
    class Refusing extends FakeEventSource {
      constructor(url: string) {
        super(url);
        throw new SyntaxError(`Failed to construct 'EventSource': The URL '${url}' is invalid.`);
      }
    }
    const target = fakeWindow();
    const done = waitForJob({ ...base, baseUrl: 'http://[', EventSource: Refusing as unknown as typeof EventSource, fetch: fakeStatus(pending).fetch });
    await expect(done).rejects.toBeInstanceOf(SyntaxError);
    expect(vi.getTimerCount()).toBe(0);
    target.dispatchEvent(new Event('online'));
    expect(FakeEventSource.instances).toHaveLength(1);
  });
});

describe('a browser that goes offline', () => {
  it('reports offline while EventSource retries by itself, and opens a stream at once when online', async () => {
    const target = fakeWindow();
    vi.stubGlobal('navigator', { onLine: false });
    const states: ConnectionState[] = [];
    void waitForJob({ ...base, fetch: fakeStatus(pending).fetch, onState: (state) => states.push(state) });
    FakeEventSource.latest.open();
    FakeEventSource.latest.endByServer(); // what a dropped network does: EventSource keeps retrying
    expect(states).toEqual(['connecting', 'streaming', 'offline']);
    vi.stubGlobal('navigator', { onLine: true });
    target.dispatchEvent(new Event('online'));
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(FakeEventSource.instances[0].readyState).toBe(FakeEventSource.CLOSED);
    expect(states.at(-1)).toBe('connecting');
  });
});
