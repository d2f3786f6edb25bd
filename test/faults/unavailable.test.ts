import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobObject } from '../../src/job-object';
import { call, complete, connect, newJobId, register } from '../support/http';
import { isEvent } from '../support/sse-client';
import { expectRetryAnswer } from '../support/retry';

afterEach(() => vi.restoreAllMocks());

/** The runtime reports the injected failure as an uncaught exception, so this lives in the faults project. */
describe('a connect whose object fails', () => {
  it('gets a retry answer, and the next connect gets the result', async () => {
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
});
