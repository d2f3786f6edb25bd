import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { JobObject } from '../src/job-object';
import { JOB_ID_HEADER } from '../src/job-object';
import type { SseFrame } from './support/sse-client';
import { call, connect, newJobId, register } from './support/http';

/**
 * Persist before announce, proved against the runtime rather than assumed. The object writes an event
 * to storage and to the open streams in one turn, without awaiting the commit, and relies on the
 * runtime's output gate to hold the stream bytes until the write is durable (see src/subscribers.ts).
 *
 * 1. Ordering: inside the object, a reader of a subscriber's stream must not get the event's bytes
 *    before `storage.sync()` (the commit) has resolved. This is what the kind of stream decides: with
 *    a JavaScript ReadableStream, which the object used before, the read resolves first and this fails.
 * 2. A commit that fails (a deferred foreign-key violation is only checked at COMMIT, and resets the
 *    object) must leave no trace: no stream sees the event and the job does not have it.
 */

function stubFor(id: string) {
  return env.JOBS.get(env.JOBS.idFromName(id));
}

const decoder = new TextDecoder();

type Call = (instance: JobObject, id: string) => unknown;
const calls: [string, Call][] = [
  ['progress', (instance, id) => instance.progress(id, 0.5, 'gated')],
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
    it(`a ${name} event is readable from the stream only after its write is durable`, async () => {
      const id = newJobId();
      await register(id);
      const order = await runInDurableObject(stubFor(id), async (instance: JobObject, state) => {
        const response = await instance.fetch(new Request('http://job/connect', { headers: { [JOB_ID_HEADER]: id } }));
        const reader = response.body!.getReader();
        expect(decoder.decode((await reader.read()).value)).toContain('event: connect');
        const seen: string[] = [];
        run(instance, id);
        const read = reader.read().then(({ value }) => {
          expect(decoder.decode(value)).toContain(`event: ${name}`);
          seen.push('stream');
        });
        const durable = state.storage.sync().then(() => seen.push('durable'));
        await Promise.all([read, durable]);
        await reader.cancel();
        return seen;
      });
      expect(order).toEqual(['durable', 'stream']);
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
});
