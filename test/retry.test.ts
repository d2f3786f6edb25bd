import { afterEach, describe, expect, it, vi } from 'vitest';
import { TEST_BINDINGS } from './support/bindings';
import { call, complete, connect, json, newJobId, register, sleep } from './support/http';
import { isEvent } from './support/sse-client';
import { expectRetryAnswer } from './support/retry';

const MAX = Number(TEST_BINDINGS.MAX_SUBSCRIBERS_PER_JOB);
const HEARTBEAT_MS = Number(TEST_BINDINGS.HEARTBEAT_MS);

afterEach(() => vi.restoreAllMocks());

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

  it('keep errors that will not pass as JSON errors: an unknown job is 404', async () => {
    const response = await call(`/sse/connect/${newJobId()}`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'job_not_found' });
  });
});
