import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobObject } from '../src/job-object';
import { TEST_BINDINGS } from './support/bindings';
import { call, complete, connect, json, newJobId, register, sleep } from './support/http';
import { isEvent } from './support/sse-client';

const MAX = Number(TEST_BINDINGS.MAX_SUBSCRIBERS_PER_JOB);
const HEARTBEAT_MS = Number(TEST_BINDINGS.HEARTBEAT_MS);

afterEach(() => vi.restoreAllMocks());

/** A retry answer: 200, an event stream holding only a jittered retry hint and the reason, then a clean end. */
async function expectRetryAnswer(response: Response, reason: string, [low, high]: [number, number]): Promise<void> {
  expect(response.status).toBe(200);
  expect(response.headers.get('Content-Type')).toBe('text/event-stream');
  const body = await response.text();
  const match = /^retry: (\d+)\n: retry (\w+)\n\n$/.exec(body);
  expect(match, body).not.toBeNull();
  expect(match![2]).toBe(reason);
  expect(Number(match![1])).toBeGreaterThanOrEqual(low);
  expect(Number(match![1])).toBeLessThan(high);
  expect(body).not.toContain('event: connect');
}

describe('retry answers on GET /sse/connect/:id', () => {
  it('turn away a stream past MAX_SUBSCRIBERS_PER_JOB with a retry, and let it in once a slot frees', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((line: string) => void lines.push(line));
    const id = newJobId();
    await register(id);
    const streams = await Promise.all(Array.from({ length: MAX }, () => connect(id)));
    await expectRetryAnswer(await call(`/sse/connect/${id}`), 'too_many_subscribers', [2000, 4000]);
    expect(lines.map((line) => JSON.parse(line))).toContainEqual(expect.objectContaining({ msg: 'stream retry', job: id, reason: 'too_many_subscribers' }));

    await streams[0].next();
    await streams[0].cancel();
    await sleep(HEARTBEAT_MS * 2); // the departed stream is noticed at its next heartbeat
    const back = await connect(id);
    expect(await back.next()).toMatchObject({ event: 'connect' });
    expect(await json(await complete(id, { moveUrl: '/b' }))).toMatchObject({ delivered: MAX });
    expect((await back.until(isEvent('result'))).at(-1)?.data).toBe('{"status":"result","moveUrl":"/b"}');
  });

  it('answer a connect whose object fails with a retry, and the next connect gets the result', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const id = newJobId();
    await register(id);
    const stub = env.JOBS.get(env.JOBS.idFromName(id));
    // The object's in-memory instance fails its next connect, as an overloaded or broken object would.
    await runInDurableObject(stub, (instance: JobObject) => {
      const fetch = instance.fetch.bind(instance);
      instance.fetch = async (request: Request) => {
        instance.fetch = fetch;
        throw new Error('Durable Object is overloaded');
      };
    });
    await expectRetryAnswer(await call(`/sse/connect/${id}`), 'unavailable', [4000, 8000]);
    await complete(id, { moveUrl: '/after' });
    const again = await connect(id);
    expect((await again.until(isEvent('result'))).at(-1)?.data).toBe('{"status":"result","moveUrl":"/after"}');
  });

  it('keep errors that will not pass as JSON errors: an unknown job is 404', async () => {
    const response = await call(`/sse/connect/${newJobId()}`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'job_not_found' });
  });
});
