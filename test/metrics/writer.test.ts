import { env } from 'cloudflare:workers';
import { createExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/config';
import worker from '../../src/index';
import { LAYOUT, metrics, routeOf, type DataPoint } from '../../src/metrics';
import { API_TOKEN, newJobId } from '../support/http';

/** The worker with `METRICS` as given (absent, or a binding that throws) over the test runtime's objects. */
function callWith(METRICS: Env['METRICS'], method: string, path: string, body?: unknown): Promise<Response> {
  const headers = { Authorization: `Bearer ${API_TOKEN}` };
  const request = new Request(`http://jobcast.test${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return worker.fetch(request, { ...(env as unknown as Env), METRICS }, createExecutionContext());
}

describe('the METRICS binding', () => {
  it('may be absent: answers, refusals included, are as usual', async () => {
    const id = newJobId('unbound');
    expect((await callWith(undefined, 'PUT', `/jobs/${id}`)).status).toBe(201);
    expect((await callWith(undefined, 'POST', `/jobs/${id}/complete`, { moveUrl: '/b' })).status).toBe(200);
    expect((await callWith(undefined, 'GET', `/jobs/${newJobId()}`)).status).toBe(404);
  });

  it('never fails an answer when writing a point throws', async () => {
    const throwing = { writeDataPoint: () => { throw new Error('over the limit'); } } as unknown as Env['METRICS'];
    const id = newJobId('throwing');
    expect((await callWith(throwing, 'PUT', `/jobs/${id}`)).status).toBe(201);
    expect((await callWith(throwing, 'PUT', `/jobs/${id}`, { ttlSeconds: -1 })).status).toBe(400);
  });

  it('gets one point per call, the event as its index, and the columns in LAYOUT order', () => {
    const written: DataPoint[] = [];
    const METRICS = { writeDataPoint: (point: DataPoint) => void written.push(point) };
    metrics.finished({ METRICS }, 'job-1', 'failed', 3, 42);
    metrics.notification({ METRICS }, 'job-1', 'job.vacated', 'timeout', 2, false);
    expect(written).toEqual([
      { indexes: ['finished'], blobs: ['job-1', 'failed'], doubles: [3, 42] },
      { indexes: ['notification'], blobs: ['job-1', 'job.vacated', 'timeout'], doubles: [2, 0] },
    ]);
  });

  it('gets from each writer exactly the blobs and doubles LAYOUT lists for its event', () => {
    const written: DataPoint[] = [];
    const env = { METRICS: { writeDataPoint: (point: DataPoint) => void written.push(point) } };
    metrics.registered(env, 'j');
    metrics.streamOpened(env, 'j', 'stream', false);
    metrics.finished(env, 'j', 'result', 1, 2);
    metrics.expired(env, 'j', 1);
    metrics.vacated(env, 'j');
    metrics.notification(env, 'j', 'job.expired', 200, 1, true);
    metrics.refusal(env, 'j', 'PUT /jobs/:id', 'unauthorized', 401);
    metrics.retry(env, 'j', 'unavailable');
    const shape = (point: DataPoint) => [point.indexes[0], point.blobs.length, point.doubles.length];
    expect(written.map(shape)).toEqual(Object.entries(LAYOUT).map(([event, { blobs, doubles }]) => [event, blobs.length, doubles.length]));
  });
});

describe('routeOf', () => {
  it.each([
    ['GET', '/sse/connect/order-1', 'GET /sse/connect/:id'],
    ['POST', '/jobs/order-1/complete', 'POST /jobs/:id/complete'],
    ['POST', '/jobs/a/b/progress', 'POST /jobs/:id/progress'],
    ['PUT', '/jobs/order-1', 'PUT /jobs/:id'],
    ['POST', '/demo/jobs', 'POST /demo/jobs'],
    ['GET', '/wp-login.php', 'GET other'],
  ])('names %s %s as %s, never with the path itself', (method, path, route) => {
    expect(routeOf(method, path)).toBe(route);
  });
});
