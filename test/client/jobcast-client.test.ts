import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, JobcastError, redirectWhenDone, waitForJob } from '../../public/jobcast.js';
import { FakeEventSource, fakeLocks, fakeStatus } from './support/fake-browser';

const ES = FakeEventSource as unknown as typeof EventSource;
const pending = { status: 200, body: { id: 'j', status: 'pending', lastEventId: 0 } };
const base = { id: 'j', baseUrl: 'https://jobs.example', shareAcrossTabs: false, EventSource: ES };

beforeEach(() => {
  FakeEventSource.reset();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('waitForJob over a stream', () => {
  it('reports progress and resolves with the result', async () => {
    const onProgress = vi.fn();
    const done = waitForJob({ ...base, token: 'tok', onProgress, fetch: fakeStatus(pending).fetch });
    const source = FakeEventSource.latest;
    expect(source.url).toBe('https://jobs.example/sse/connect/j?token=tok');
    source.open();
    source.emit('progress', { status: 'progress', progress: 0.5, message: 'Half' }, '1');
    source.emit('result', { status: 'result', moveUrl: '/b', data: { n: 1 } }, '2');
    expect(await done).toEqual({ status: 'result', moveUrl: '/b', data: { n: 1 }, error: undefined });
    expect(onProgress).toHaveBeenCalledWith({ status: 'progress', progress: 0.5, message: 'Half' });
    expect(source.readyState).toBe(FakeEventSource.CLOSED);
  });

  it('resolves exactly once', async () => {
    const then = vi.fn();
    const done = waitForJob({ ...base, fetch: fakeStatus(pending).fetch }).then(then);
    FakeEventSource.latest.emit('result', { status: 'failed', error: 'x' }, '1');
    FakeEventSource.latest.emit('result', { status: 'result', moveUrl: '/b' }, '2');
    await done;
    expect(then).toHaveBeenCalledTimes(1);
    expect(then).toHaveBeenCalledWith({ status: 'failed', moveUrl: undefined, data: undefined, error: 'x' });
  });

  it('leaves a server-ended stream to reconnect by itself', async () => {
    void waitForJob({ ...base, fetch: fakeStatus(pending).fetch });
    FakeEventSource.latest.endByServer();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it('reopens a stream that gave up, after a jittered backoff, from the last event id', async () => {
    const status = fakeStatus(pending);
    void waitForJob({ ...base, fetch: status.fetch });
    const first = FakeEventSource.latest;
    first.open();
    first.emit('progress', { progress: 0.2 }, '4');
    first.failForGood();
    await vi.advanceTimersByTimeAsync(0);
    expect(status.urls).toEqual(['https://jobs.example/jobs/j']);
    expect(FakeEventSource.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(FakeEventSource.latest.url).toBe('https://jobs.example/sse/connect/j?lastEventId=4');
  });

  it('settles from the status route when the stream gave up because the job was already over', async () => {
    const status = fakeStatus({ status: 200, body: { status: 'result', moveUrl: '/late', lastEventId: 3 } });
    const done = waitForJob({ ...base, fetch: status.fetch });
    FakeEventSource.latest.failForGood();
    expect(await done).toMatchObject({ status: 'result', moveUrl: '/late' });
  });

  it('falls back to polling after streams keep failing, and resolves from it', async () => {
    const status = fakeStatus({ status: 502 });
    const onProgress = vi.fn();
    const done = waitForJob({ ...base, fetch: status.fetch, maxStreamFailures: 2, pollIntervalMs: 100, onProgress });
    FakeEventSource.latest.failForGood();
    await vi.advanceTimersByTimeAsync(1000);
    FakeEventSource.latest.failForGood();
    await vi.advanceTimersByTimeAsync(0);
    status.set({ status: 200, body: { status: 'pending', progress: 0.7, message: 'Almost', lastEventId: 5 } });
    await vi.advanceTimersByTimeAsync(4000);
    expect(status.urls.length).toBeGreaterThan(10);
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(onProgress).toHaveBeenCalledWith({ progress: 0.7, message: 'Almost' });
    expect(onProgress).toHaveBeenCalledTimes(1);
    status.set({ status: 200, body: { status: 'failed', error: 'boom', lastEventId: 6 } });
    await vi.advanceTimersByTimeAsync(200);
    expect(await done).toMatchObject({ status: 'failed', error: 'boom' });
  });

  it('rejects with invalid_token when the token is refused', async () => {
    const done = waitForJob({ ...base, fetch: fakeStatus({ status: 401 }).fetch });
    FakeEventSource.latest.failForGood();
    await expect(done).rejects.toBeInstanceOf(JobcastError);
    await expect(done).rejects.toMatchObject({ code: 'invalid_token' });
  });
});

describe('a job the service does not have', () => {
  const notFound = { status: 404, body: { error: 'job_not_found', message: 'No such job' } };

  it('rejects with job_not_found once the service has said so for notFoundTimeoutMs, from the stream', async () => {
    const status = fakeStatus(notFound);
    const done = waitForJob({ ...base, fetch: status.fetch, notFoundTimeoutMs: 10_000 });
    const outcome = done.catch((error) => error);
    FakeEventSource.latest.failForGood(); // the stream's 404
    await vi.advanceTimersByTimeAsync(9_000);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(1_100);
    const error = await outcome;
    expect(error).toBeInstanceOf(JobcastError);
    expect(error).toMatchObject({ code: 'job_not_found' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects after the default 60 s when polling, and not before', async () => {
    const status = fakeStatus(notFound);
    const settled = vi.fn();
    const done = waitForJob({ ...base, EventSource: null, fetch: status.fetch }).catch((error) => (settled(), error));
    await vi.advanceTimersByTimeAsync(59_000);
    expect(settled).not.toHaveBeenCalled();
    expect(status.urls.length).toBeGreaterThan(20);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(await done).toMatchObject({ code: 'job_not_found' });
  });

  it('waits as usual for a job registered within that time', async () => {
    const status = fakeStatus(notFound);
    const done = waitForJob({ ...base, EventSource: null, fetch: status.fetch, pollIntervalMs: 1000, notFoundTimeoutMs: 5_000 });
    await vi.advanceTimersByTimeAsync(4_000);
    status.set(pending);
    await vi.advanceTimersByTimeAsync(30_000);
    status.set({ status: 200, body: { status: 'result', moveUrl: '/b', lastEventId: 1 } });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await done).toMatchObject({ status: 'result', moveUrl: '/b' });
  });

  it('counts the time from the last not-found answer after a stream that opened', async () => {
    const status = fakeStatus(notFound);
    const settled = vi.fn();
    void waitForJob({ ...base, fetch: status.fetch, notFoundTimeoutMs: 10_000 }).then(settled, settled);
    FakeEventSource.latest.failForGood();
    await vi.advanceTimersByTimeAsync(1_100);
    FakeEventSource.latest.open(); // the job exists after all
    await vi.advanceTimersByTimeAsync(9_400);
    expect(settled).not.toHaveBeenCalled();
  });

  it("keeps waiting through a 404 that is not the service's (a proxy, a wrong path)", async () => {
    const status = fakeStatus({ status: 404, body: { error: 'not_found' } });
    const settled = vi.fn();
    void waitForJob({ ...base, EventSource: null, fetch: status.fetch, notFoundTimeoutMs: 1_000 }).then(settled, settled);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(settled).not.toHaveBeenCalled();
  });
});

describe('waitForJob without EventSource', () => {
  it('polls the status route from the start', async () => {
    const status = fakeStatus(pending);
    const done = waitForJob({ ...base, EventSource: null, fetch: status.fetch, pollIntervalMs: 100 });
    await vi.advanceTimersByTimeAsync(0);
    expect(status.urls).toHaveLength(1);
    status.set({ status: 200, body: { status: 'result', moveUrl: '/b', lastEventId: 1 } });
    await vi.advanceTimersByTimeAsync(150);
    expect(await done).toMatchObject({ status: 'result', moveUrl: '/b' });
    expect(FakeEventSource.instances).toHaveLength(0);
  });
});

describe('aborting', () => {
  it('closes the stream, stops every timer and rejects with the reason', async () => {
    const controller = new AbortController();
    const status = fakeStatus(pending);
    const done = waitForJob({ ...base, fetch: status.fetch, signal: controller.signal });
    FakeEventSource.latest.failForGood();
    await vi.advanceTimersByTimeAsync(0);
    controller.abort(new Error('left the page'));
    await expect(done).rejects.toThrow('left the page');
    const asked = status.urls.length;
    await vi.advanceTimersByTimeAsync(120_000);
    expect(status.urls).toHaveLength(asked);
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects at once for a signal that is already aborted', async () => {
    await expect(waitForJob({ ...base, signal: AbortSignal.abort(new Error('no')) })).rejects.toThrow('no');
    expect(FakeEventSource.instances).toHaveLength(0);
  });
});

describe('several tabs waiting for the same job', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('share one stream: the first tab holds it and relays progress and the result to the others', async () => {
    vi.stubGlobal('navigator', { locks: fakeLocks() });
    const shared = { ...base, id: `tabs-${Math.random()}`, shareAcrossTabs: true, fetch: fakeStatus(pending).fetch };
    const secondProgress = vi.fn();
    const first = waitForJob(shared);
    const second = waitForJob({ ...shared, onProgress: secondProgress });
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.instances).toHaveLength(1);
    FakeEventSource.latest.emit('progress', { status: 'progress', progress: 0.3 }, '1');
    await vi.waitFor(() => expect(secondProgress).toHaveBeenCalledWith({ status: 'progress', progress: 0.3 }));
    expect(FakeEventSource.instances).toHaveLength(1);
    FakeEventSource.latest.emit('result', { status: 'result', moveUrl: '/b' }, '2');
    expect(await first).toMatchObject({ moveUrl: '/b' });
    expect(await second).toMatchObject({ moveUrl: '/b' });
  });

  it('hand the stream to the next tab, from the last event id, when the holding tab leaves', async () => {
    vi.stubGlobal('navigator', { locks: fakeLocks() });
    const shared = { ...base, id: `tabs-${Math.random()}`, shareAcrossTabs: true, fetch: fakeStatus(pending).fetch };
    const leaving = new AbortController();
    const first = waitForJob({ ...shared, signal: leaving.signal }).catch(() => 'left');
    const second = waitForJob(shared);
    await vi.advanceTimersByTimeAsync(0);
    FakeEventSource.latest.emit('progress', { status: 'progress', progress: 0.3 }, '7');
    await vi.waitFor(async () => {
      await vi.advanceTimersByTimeAsync(1);
      leaving.abort();
      expect(await first).toBe('left');
      expect(FakeEventSource.instances).toHaveLength(2);
    });
    expect(FakeEventSource.latest.url).toContain('lastEventId=7');
    FakeEventSource.latest.emit('result', { status: 'result', moveUrl: '/b' }, '8');
    expect(await second).toMatchObject({ moveUrl: '/b' });
  });
});

describe('several tabs waiting for a job the service does not have', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('all reject with job_not_found when the tab holding the stream gives up', async () => {
    vi.stubGlobal('navigator', { locks: fakeLocks() });
    const status = fakeStatus({ status: 404, body: { error: 'job_not_found', message: 'No such job' } });
    const shared = { ...base, id: `tabs-${Math.random()}`, shareAcrossTabs: true, fetch: status.fetch, notFoundTimeoutMs: 3_000 };
    const first = waitForJob(shared).catch((error) => error);
    const second = waitForJob(shared).catch((error) => error);
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.instances).toHaveLength(1);
    FakeEventSource.latest.failForGood();
    await vi.advanceTimersByTimeAsync(3_100);
    expect(await first).toMatchObject({ code: 'job_not_found' });
    // The second tab heard it from the first, rather than waiting a notFoundTimeoutMs of its own.
    const heardAt = Date.now();
    expect(await second).toMatchObject({ code: 'job_not_found' });
    expect(Date.now() - heardAt).toBeLessThan(1_000);
  });
});

describe('redirectWhenDone', () => {
  it('navigates to moveUrl on result', async () => {
    const navigate = vi.fn();
    const done = redirectWhenDone({ ...base, fetch: fakeStatus(pending).fetch, navigate });
    FakeEventSource.latest.emit('result', { status: 'result', moveUrl: '/b' }, '1');
    await done;
    expect(navigate).toHaveBeenCalledWith('/b');
  });

  it('calls onFailed instead of navigating when the job failed', async () => {
    const navigate = vi.fn();
    const onFailed = vi.fn();
    const done = redirectWhenDone({ ...base, fetch: fakeStatus(pending).fetch, navigate, onFailed });
    FakeEventSource.latest.emit('result', { status: 'failed', moveUrl: '/sorry', error: 'x' }, '1');
    await done;
    expect(onFailed).toHaveBeenCalledWith({ status: 'failed', moveUrl: '/sorry', data: undefined, error: 'x' });
    expect(navigate).not.toHaveBeenCalled();
  });
});

describe('backoffDelay', () => {
  it('doubles up to 30 s, between half and all of each step', () => {
    expect([1, 2, 3, 6, 20].map((n) => backoffDelay(n, () => 0))).toEqual([500, 1000, 2000, 15_000, 15_000]);
    expect([1, 2, 3, 6, 20].map((n) => backoffDelay(n, () => 1))).toEqual([1000, 2000, 4000, 30_000, 30_000]);
  });

  it("takes other steps, as the backend SDK's 250 ms doubling to 10 s", () => {
    const steps = { firstMs: 250, maxMs: 10_000 };
    expect([1, 2, 3, 7, 20].map((n) => backoffDelay(n, () => 1, steps))).toEqual([250, 500, 1000, 10_000, 10_000]);
    expect([1, 7].map((n) => backoffDelay(n, () => 0, steps))).toEqual([125, 5_000]);
  });
});
