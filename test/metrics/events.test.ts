import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/config';
import { TEST_BINDINGS } from '../support/bindings';
import { API_TOKEN, backend, call, complete, connect, json, newJobId, progress, register, sleep } from '../support/http';
import { expectRetryAnswer } from '../support/retry';
import { securedCall } from '../support/secured';
import { recordMetrics } from '../support/metrics-recorder';
import { isEvent } from '../support/sse-client';

const HIBERNATE = (env as unknown as { HIBERNATE: string }).HIBERNATE === 'true';
const MODE = HIBERNATE ? 'hibernate' : 'stream';
const HEARTBEAT_MS = Number(TEST_BINDINGS.HEARTBEAT_MS);
const recorder = recordMetrics();

/** The points written for `job`, each as [event, ...blobs, ...doubles] with `ms` for a measured time. */
function pointsFor(job: string): unknown[][] {
  const points = recorder.pointsFor(job);
  return points.map((point) => {
    const doubles = point.indexes[0] === 'finished' ? [point.doubles[0], typeof point.doubles[1] === 'number' && point.doubles[1] >= 0 ? 'ms' : point.doubles[1]] : point.doubles;
    return [point.indexes[0], ...point.blobs, ...doubles];
  });
}

/** Waits until `job` has `expected` points (in any order), then checks no other one came with them. */
async function expectPoints(job: string, expected: unknown[][], timeout = 10_000): Promise<void> {
  const sorted = (rows: unknown[][]) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  await expect.poll(() => sorted(pointsFor(job)), { timeout, interval: 50 }).toEqual(sorted(expected));
  await sleep(100);
  expect(sorted(pointsFor(job))).toEqual(sorted(expected));
}

describe(`metrics data points (HIBERNATE=${HIBERNATE})`, () => {
  it('are one each for a full wait: registered, stream opened, finished with its listeners and time', async () => {
    const id = newJobId('wait');
    await register(id);
    const stream = await connect(id);
    await stream.next();
    await progress(id, { progress: 0.5, message: 'secret progress message' });
    await complete(id, { moveUrl: '/secret-move-url', data: { secret: 'job data' } });
    expect((await stream.until(isEvent('result'))).at(-1)?.data).toContain('secret-move-url');
    await expectPoints(id, [
      ['registered', id],
      ['stream_opened', id, MODE, 'first'],
      ['finished', id, 'result', 1, 'ms'],
    ]);
    const written = JSON.stringify(recorder.pointsFor(id));
    for (const secret of ['secret', API_TOKEN, 'job data']) expect(written).not.toContain(secret);
  });

  it('mark a resumed stream as a resume, and write none for a repeated completion', async () => {
    const id = newJobId('resume');
    await register(id);
    await progress(id, { progress: 0.1 });
    const stream = await connect(id, { 'Last-Event-ID': '1' });
    await stream.next();
    await complete(id, { moveUrl: '/b' });
    await complete(id, { moveUrl: '/b' });
    await fail(id);
    await expectPoints(id, [
      ['registered', id],
      ['stream_opened', id, MODE, 'resume'],
      ['finished', id, 'result', 1, 'ms'],
      ['refusal', id, 'POST /jobs/:id/fail', 'job_finished', 409],
    ]);
  });

  it('are one for an expiry, with the listener it reached, and one per attempt of its notification', async () => {
    const id = newJobId('expiry');
    await register(id, { ttlSeconds: 1 });
    const stream = await connect(id);
    await stream.next();
    expect((await stream.until(isEvent('result'))).at(-1)?.data).toBe('{"status":"failed","error":"expired"}');
    await expectPoints(id, [
      ['registered', id],
      ['stream_opened', id, MODE, 'first'],
      ['expired', id, 1],
      ['notification', id, 'job.expired', '500', 1, 0],
      ['notification', id, 'job.expired', '200', 2, 1],
    ]);
  });

  it('are one for a vacancy, and one per attempt of a notification that fails once and then lands', async () => {
    const id = newJobId('vacancy');
    await register(id);
    const stream = await connect(id);
    await stream.next();
    await stream.cancel();
    await sleep(HEARTBEAT_MS * 2);
    await expectPoints(id, [
      ['registered', id],
      ['stream_opened', id, MODE, 'first'],
      ['vacated', id],
      ['notification', id, 'job.vacated', '500', 1, 0],
      ['notification', id, 'job.vacated', '200', 2, 1],
    ]);
  });

  it('are one for a refused API token and one for a refused subscribe token, with route and code', async () => {
    const id = newJobId('refused');
    expect((await backend('PUT', `/jobs/${id}`, undefined, 'not-a-token')).status).toBe(401);
    // SECURED_ENV copied the bindings before the recorder was bound.
    const METRICS = (env as unknown as Env).METRICS;
    expect((await securedCall(`/sse/connect/${id}?token=forged`, {}, { METRICS })).status).toBe(401);
    await expectPoints(id, [
      ['refusal', id, 'PUT /jobs/:id', 'unauthorized', 401],
      ['refusal', id, 'GET /sse/connect/:id', 'invalid_token', 401],
    ]);
    const written = JSON.stringify(recorder.pointsFor(id));
    expect(written).not.toContain('forged');
    expect(written).not.toContain('not-a-token');
  });

  it('are one for an unknown job on the stream route, with no job id for an invalid one', async () => {
    const id = newJobId('unknown');
    expect((await call(`/sse/connect/${id}`)).status).toBe(404);
    await expectPoints(id, [['refusal', id, 'GET /sse/connect/:id', 'job_not_found', 404]]);
    expect((await call('/jobs/bad%20id')).status).toBe(400);
    expect(await json(await call('/jobs/bad%20id'))).toMatchObject({ error: 'invalid_job_id' });
    expect(pointsFor('bad id')).toEqual([]);
    await expect.poll(() => pointsFor('')).toContainEqual(['refusal', '', 'GET /jobs/:id', 'invalid_job_id', 400]);
  });

  it('are one for the fan-out to 1,000 listeners, and one for the full stream turned away with a retry', async () => {
    const id = newJobId('fanout');
    await register(id);
    const streams = await Promise.all(Array.from({ length: 1000 }, () => connect(id)));
    await Promise.all(streams.map((stream) => stream.next()));
    await expectRetryAnswer(await call(`/sse/connect/${id}`), 'too_many_subscribers', [2000, 4000]);
    expect(await json(await complete(id, { moveUrl: '/b' }))).toMatchObject({ delivered: 1000 });
    await Promise.all(streams.map((stream) => stream.until(isEvent('result'))));
    const opened = Array.from({ length: 1000 }, () => ['stream_opened', id, MODE, 'first']);
    await expectPoints(id, [['registered', id], ...opened, ['retry', id, 'GET /sse/connect/:id', 'too_many_subscribers', 429], ['finished', id, 'result', 1000, 'ms']], 20_000);
  });
});

function fail(id: string): Promise<Response> {
  return backend('POST', `/jobs/${id}/fail`, { error: 'boom' });
}
