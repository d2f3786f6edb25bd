import { describe, expect, it } from 'vitest';
import { isEvent } from './support/sse-client';
import { call, complete, connect, json, newJobId, progress, register } from './support/http';

describe('concurrent completions', () => {
  it('make one event when 20 identical ones arrive at once', async () => {
    const id = newJobId();
    await register(id);
    const stream = await connect(id);
    await stream.next();
    const body = { moveUrl: '/b', data: { order: 7 } };
    const answers = await Promise.all(Array.from({ length: 20 }, () => complete(id, body).then((r) => json(r))));
    expect(answers.filter((a) => a.duplicate === undefined)).toHaveLength(1);
    expect(answers.filter((a) => a.duplicate === true)).toHaveLength(19);
    expect(new Set(answers.map((a) => a.eventId))).toEqual(new Set([1]));
    expect((await stream.rest()).filter((f) => f.event === 'result')).toHaveLength(1);
    expect(await json(await call(`/jobs/${id}`))).toMatchObject({ lastEventId: 1, moveUrl: '/b', data: { order: 7 } });
  });

  it('make one winner and nine 409s when 10 different ones arrive at once, and store what the winner sent', async () => {
    const id = newJobId();
    await register(id);
    const responses = await Promise.all(Array.from({ length: 10 }, (_, n) => complete(id, { moveUrl: `/b?n=${n}` })));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(9);
    const winner = statuses.indexOf(200);
    expect(await json(await call(`/jobs/${id}`))).toMatchObject({ status: 'result', moveUrl: `/b?n=${winner}` });
    const replay = await (await connect(id)).rest();
    expect(replay.at(-1)?.data).toBe(JSON.stringify({ status: 'result', moveUrl: `/b?n=${winner}` }));
  });
});

describe('a completion racing a reconnect', () => {
  it('delivers exactly one result to the reconnecting client, 100 times out of 100', async () => {
    let exactlyOnce = 0;
    for (let round = 0; round < 100; round++) {
      const id = newJobId('race');
      await register(id);
      await progress(id, { progress: 0.5 });
      const first = await connect(id);
      await first.until(isEvent('progress'));
      // The browser drops its stream and reconnects with the id it saw, while the backend completes.
      const [again] = await Promise.all([
        first.cancel().then(() => connect(id, { 'Last-Event-ID': '1' })),
        complete(id, { moveUrl: `/b/${round}` }),
      ]);
      const results = (await again.rest()).filter((f) => f.event === 'result');
      if (results.length === 1 && results[0].data === JSON.stringify({ status: 'result', moveUrl: `/b/${round}` })) exactlyOnce++;
    }
    expect(exactlyOnce).toBe(100);
  });
});
