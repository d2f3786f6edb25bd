import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { JobObject } from '../../src/job-object';
import { connectRequest } from '../../src/job-protocol';
import type { SseFrame } from '../support/sse-client';
import { call, connect, newJobId, register, sleep } from '../support/http';

/**
 * Persist before announce, against the runtime. A Durable Object's output gate holds its answers until
 * its writes are durable, but not bytes enqueued on a JavaScript stream that is already open, so the
 * object waits for the write itself before it sends an event to its streams.
 *
 * The write is made to fail: a deferred foreign-key violation is only checked at COMMIT, which then
 * resets the object. Then (1) not even a reader inside the object, which gets enqueued bytes at once,
 * may see the event (it did, for progress, before the object waited for its write), and (2) a client's
 * stream does not see it and the job does not have it afterwards.
 */

function stubFor(id: string) {
  return env.JOBS.get(env.JOBS.idFromName(id));
}

const decoder = new TextDecoder();

type Call = (instance: JobObject, id: string) => unknown;
const calls: [string, Call][] = [
  ['progress', (instance, id) => instance.progress(id, { progress: 0.5, message: 'gated' })],
  ['result', (instance, id) => instance.finish(id, { status: 'result', moveUrl: '/gated' })],
];

/** Makes the implicit transaction of the current turn fail at COMMIT. */
function breakTheCommit(sql: SqlStorage): void {
  sql.exec('PRAGMA defer_foreign_keys = ON');
  sql.exec('CREATE TABLE gate_parent (id INTEGER PRIMARY KEY)');
  sql.exec('CREATE TABLE gate_child (parent INTEGER REFERENCES gate_parent (id))');
  sql.exec('INSERT INTO gate_child VALUES (1)');
}

/** Events (not comments) until the stream ends or breaks (a reset object breaks its streams). */
async function eventsUntilGone(reader: Awaited<ReturnType<typeof connect>>, timeoutMs: number): Promise<SseFrame[]> {
  const frames: SseFrame[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return frames;
    const frame = await reader.next(left).catch(() => null);
    if (frame === null) return frames;
    if (frame.event) frames.push(frame);
  }
}

describe('output gate: stream bytes leave only once the write behind them is durable', () => {
  for (const [name, run] of calls) {
    it(`a ${name} event whose write fails at commit is not even readable inside the object`, async () => {
      const id = newJobId();
      await register(id);
      // Filled from inside the object; the test shares its isolate, so this survives the reset.
      const seen: string[] = [];
      const attempt = runInDurableObject(stubFor(id), async (instance: JobObject, state) => {
        const response = await instance.fetch(connectRequest(id, ''));
        const reader = response.body!.getReader();
        seen.push(decoder.decode((await reader.read()).value));
        // One turn: the commit of this turn's writes, the call's included, will fail.
        breakTheCommit(state.storage.sql);
        const call = Promise.resolve(run(instance, id));
        void reader.read().then(({ value }) => seen.push(decoder.decode(value)), () => {});
        await call;
      });
      await expect(attempt).rejects.toThrow(/FOREIGN KEY/);
      await sleep(50);
      expect(seen.join('')).toContain('event: connect');
      expect(seen.join('')).not.toContain(`event: ${name}`);
    });

    it(`a ${name} event whose commit fails never reaches a stream, and the job does not have it`, async () => {
      const id = newJobId();
      await register(id);
      const reader = await connect(id);
      expect((await reader.next())?.event).toBe('connect');
      const attempt = runInDurableObject(stubFor(id), (instance: JobObject, state) => {
        breakTheCommit(state.storage.sql);
        run(instance, id);
      });
      // The object is reset, and the call's own answer is gated too.
      await expect(attempt).rejects.toThrow(/FOREIGN KEY/);
      expect(await eventsUntilGone(reader, 1000)).toEqual([]);
      await reader.cancel();

      const view = await (await call(`/jobs/${id}`)).json<{ status: string; lastEventId: number }>();
      expect(view).toMatchObject({ status: 'pending', lastEventId: 0 });
      const again = await connect(id);
      expect((await again.next())?.event).toBe('connect');
      expect(await eventsUntilGone(again, 300)).toEqual([]);
      await again.cancel();
    });
  }

  it('sends a progress event once to a stream opened while its write was being made durable', async () => {
    const id = newJobId();
    await register(id);
    const frames = await runInDurableObject(stubFor(id), async (instance: JobObject) => {
      const call = instance.progress(id, { progress: 0.5, message: 'once' });
      // Opened before the write is durable: its replay already carries the event.
      const response = await instance.fetch(connectRequest(id, ''));
      expect(await call).toMatchObject({ ok: true, eventId: 1, delivered: 0 });
      const reader = response.body!.getReader();
      let text = '';
      const deadline = Date.now() + 300;
      while (Date.now() < deadline) {
        const chunk = await Promise.race([reader.read(), sleep(deadline - Date.now()).then(() => null)]);
        if (!chunk || chunk.done) break;
        text += decoder.decode(chunk.value);
      }
      await reader.cancel();
      return text;
    });
    expect(frames.match(/event: progress/g)).toHaveLength(1);
  });

  it('sends a progress event once to a socket accepted while its write was being made durable', async () => {
    const id = newJobId();
    await register(id);
    const messages = await runInDurableObject(stubFor(id), async (instance: JobObject) => {
      const call = instance.progress(id, { progress: 0.5, message: 'once' });
      // Accepted before the write is durable: its first message already carries the event.
      const socket = (await instance.fetch(connectRequest(id, '', true))).webSocket!;
      const received: string[] = [];
      socket.addEventListener('message', ({ data }) => {
        received.push(typeof data === 'string' ? data : decoder.decode(data as ArrayBuffer));
      });
      socket.accept();
      expect(await call).toMatchObject({ ok: true, eventId: 1, delivered: 0 });
      await sleep(300);
      socket.close(1000, 'done');
      return received.join('');
    });
    expect(messages.match(/event: connect/g)).toHaveLength(1);
    expect(messages.match(/event: progress/g)).toHaveLength(1);
  });
});
