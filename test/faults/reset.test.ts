import { abortAllDurableObjects } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { isEvent } from '../support/sse-client';
import { complete, connect, newJobId, progress, register } from '../support/http';

/**
 * An object reset while streams are open (what a deploy or a crash does). The runtime prints each
 * abort as an uncaught exception, which is why these tests run in the `faults` project.
 */
describe('a job object reset mid-stream', () => {
  it('delivers the result to a client that reconnects after it', async () => {
    const id = newJobId();
    await register(id);
    const first = await connect(id);
    await first.next();
    // evictDurableObject waits for open requests, and a stream stays open; abort is what a restart does.
    await abortAllDurableObjects();
    await first.rest().catch(() => []);
    await complete(id, { moveUrl: '/after-eviction' });
    const again = await connect(id);
    const frames = await again.until(isEvent('result'));
    expect(frames.at(-1)?.data).toBe('{"status":"result","moveUrl":"/after-eviction"}');
  });

  it('delivers the result exactly once to each of several clients that reconnect after it', async () => {
    const id = newJobId();
    await register(id);
    await progress(id, { progress: 0.5 });
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(id)));
    await Promise.all(clients.map((client) => client.until(isEvent('progress'))));
    await abortAllDurableObjects();
    await Promise.all(clients.map((client) => client.rest().catch(() => [])));
    await complete(id, { moveUrl: '/once' });
    const again = await Promise.all(clients.map(() => connect(id, { 'Last-Event-ID': '1' })));
    for (const client of again) {
      const results = (await client.rest()).filter((f) => f.event === 'result');
      expect(results).toEqual([{ id: '2', event: 'result', data: '{"status":"result","moveUrl":"/once"}' }]);
    }
  });
});
