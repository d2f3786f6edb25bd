import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook, JobcastWebhookError } from '../../src/sdk/client.ts';
import { startDevServer, type DevServer } from './support/dev-server';
import { openRaw } from './support/raw-sse';

/**
 * Backend notifications against `wrangler dev` and a real HTTP receiver on loopback (this file runs
 * in both waiting modes). Short timings: a heartbeat every 500 ms reveals a departure, and a job is
 * vacated 2 s after its last stream left.
 */
const TOKEN = 'dev-api-token';
const SECRET = 'webhook-secret-for-the-tests-0123456789';
const HEARTBEAT_MS = 500;
const GRACE_MS = 2000;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  answered: number;
}

let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
/** Answers for a job's notifications before the receiver starts taking them (status codes, in order). */
const refusals = new Map<string, number[]>();
/** Requests that were not a notification POSTed to /hooks (a followed redirect would be one). */
const strays: string[] = [];
const servers: DevServer[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/hooks') {
        strays.push(`${request.method} ${request.url}`);
        return void response.writeHead(204).end();
      }
      const job = (JSON.parse(body) as { job: string }).job;
      const status = refusals.get(job)?.shift() ?? 204;
      received.push({ headers: request.headers, body, at: Date.now(), answered: status });
      response.writeHead(status, status >= 300 && status < 400 ? { Location: '/moved' } : {}).end();
    });
  });
  await new Promise<void>((listening) => receiver.listen(0, '127.0.0.1', listening));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await new Promise((closed) => receiver?.close(closed));
});

async function start(vars: Record<string, string> = {}, persistTo?: string): Promise<DevServer> {
  const server = await startDevServer(
    { WEBHOOK_URL: receiverUrl, WEBHOOK_SECRET: SECRET, VACATED_AFTER_MS: String(GRACE_MS), HEARTBEAT_MS: String(HEARTBEAT_MS), ...vars },
    persistTo,
  );
  servers.push(server);
  return server;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jobId = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2)}`;

function call(server: DevServer, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, { method, headers: { Authorization: `Bearer ${TOKEN}` }, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function listeners(server: DevServer, id: string): Promise<number> {
  return ((await (await call(server, 'GET', `/jobs/${id}`)).json()) as { listeners: number }).listeners;
}

const about = (id: string) => received.filter((r) => (JSON.parse(r.body) as { job: string }).job === id);
const typesAbout = (id: string) => about(id).map((r) => (JSON.parse(r.body) as { type: string }).type);

async function arrived(id: string, type: string, timeoutMs = 15_000): Promise<Received> {
  await expect.poll(() => typesAbout(id), { timeout: timeoutMs, interval: 100 }).toContain(type);
  return about(id).find((r) => r.body.includes(`"type":"${type}"`))!;
}

/** A browser that watches `id` until `leave` is called (its TCP connection dropped, as a closed tab). */
async function watch(server: DevServer, id: string) {
  const stream = await openRaw(`${server.url}/sse/connect/${id}`);
  await stream.waitFor('event: connect');
  return stream;
}

describe('backend notifications', () => {
  let server: DevServer;
  beforeAll(async () => {
    server = await start();
  });

  it('sends one signed job.vacated when the only browser of a pending job leaves, after the grace', async () => {
    const id = jobId('vacated');
    expect((await call(server, 'PUT', `/jobs/${id}`)).status).toBe(201);
    const browser = await watch(server, id);
    expect(await listeners(server, id)).toBe(1);
    const leftAt = Date.now();
    browser.destroy();
    await expect.poll(() => listeners(server, id), { timeout: HEARTBEAT_MS * 4 }).toBe(0);

    const delivery = await arrived(id, 'job.vacated');
    expect(delivery.at - leftAt).toBeGreaterThanOrEqual(GRACE_MS);
    expect(delivery.headers['content-type']).toBe('application/json');
    const notification = await verifyWebhook(delivery.body, delivery.headers['jobcast-signature'] as string, SECRET);
    expect(notification).toEqual({ id: delivery.headers['jobcast-event-id'], type: 'job.vacated', job: id, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    await sleep(GRACE_MS + 1000);
    expect(typesAbout(id)).toEqual(['job.vacated']);
  }, 30_000);

  it('sends nothing for a browser back within the grace, a finished job, or a job never watched', async () => {
    const [back, finished, unwatched] = [jobId('back'), jobId('finished'), jobId('unwatched')];
    for (const id of [back, finished, unwatched]) expect((await call(server, 'PUT', `/jobs/${id}`)).status).toBe(201);

    const first = await watch(server, back);
    first.destroy();
    await expect.poll(() => listeners(server, back), { timeout: HEARTBEAT_MS * 4 }).toBe(0);
    const again = await watch(server, back); // a reconnect, well within the grace

    const leaving = await watch(server, finished);
    expect((await call(server, 'POST', `/jobs/${finished}/complete`, { moveUrl: '/b' })).status).toBe(200);
    await leaving.ended;

    await sleep(GRACE_MS * 2 + HEARTBEAT_MS * 2);
    expect([...about(back), ...about(finished), ...about(unwatched)]).toEqual([]);
    again.destroy();
  }, 30_000);

  it('sends job.expired when a watched job reaches its ttl, and no job.vacated after it', async () => {
    const id = jobId('expired');
    expect((await call(server, 'PUT', `/jobs/${id}`, { ttlSeconds: 2 })).status).toBe(201);
    const browser = await watch(server, id);
    await browser.ended; // the expiry's failed result ends the stream
    expect(browser.text()).toContain('data: {"status":"failed","error":"expired"}');
    const delivery = await arrived(id, 'job.expired');
    expect(await verifyWebhook(delivery.body, delivery.headers['jobcast-signature'] as string, SECRET)).toMatchObject({ type: 'job.expired', job: id });
    await sleep(GRACE_MS + HEARTBEAT_MS * 2 + 1000);
    expect(typesAbout(id)).toEqual(['job.expired']);
  }, 30_000);

  it('retries a notification the receiver refused, with the same Jobcast-Event-Id, until it lands', async () => {
    const id = jobId('retried');
    refusals.set(id, [500, 500]);
    expect((await call(server, 'PUT', `/jobs/${id}`, { ttlSeconds: 1 })).status).toBe(201);
    await expect.poll(() => about(id).map((r) => r.answered), { timeout: 20_000, interval: 100 }).toEqual([500, 500, 204]);
    const [first, second, third] = about(id);
    expect(new Set([first, second, third].map((r) => r.headers['jobcast-event-id'])).size).toBe(1);
    // About 1 s, then about 2 s apart (half to all of each step).
    expect(second.at - first.at).toBeGreaterThanOrEqual(450);
    expect(third.at - second.at).toBeGreaterThanOrEqual(950);
    for (const attempt of [first, second, third]) await verifyWebhook(attempt.body, attempt.headers['jobcast-signature'] as string, SECRET);
  }, 30_000);

  it('takes a redirect as a failed attempt, not an acknowledgement, and does not follow it', async () => {
    const id = jobId('redirected');
    refusals.set(id, [302]);
    expect((await call(server, 'PUT', `/jobs/${id}`, { ttlSeconds: 1 })).status).toBe(201);
    await expect.poll(() => about(id).map((r) => r.answered), { timeout: 15_000, interval: 100 }).toEqual([302, 204]);
    expect(about(id)[1].headers['jobcast-event-id']).toBe(about(id)[0].headers['jobcast-event-id']);
    expect(strays).toEqual([]);
  }, 30_000);

  it('refuses, in the SDK, a tampered body and a stale signature', async () => {
    const id = jobId('verify');
    expect((await call(server, 'PUT', `/jobs/${id}`, { ttlSeconds: 1 })).status).toBe(201);
    const { body, headers } = await arrived(id, 'job.expired');
    const signature = headers['jobcast-signature'] as string;
    const tampered = body.replace(id, jobId('other'));
    await expect(verifyWebhook(tampered, signature, SECRET)).rejects.toMatchObject({ reason: 'bad_signature' });
    await expect(verifyWebhook(body, signature, 'another-secret-of-at-least-32-bytes!')).rejects.toMatchObject({ reason: 'bad_signature' });
    const t = Number(/t=(\d+)/.exec(signature)![1]);
    await expect(verifyWebhook(body, signature, SECRET, { nowSeconds: t + 301 })).rejects.toMatchObject({ reason: 'stale' });
    await expect(verifyWebhook(body, undefined, SECRET)).rejects.toBeInstanceOf(JobcastWebhookError);
    expect(await verifyWebhook(new TextEncoder().encode(body), signature, SECRET, { nowSeconds: t + 299 })).toMatchObject({ job: id });
  }, 30_000);
});

describe('a notification pending when the runtime is killed', () => {
  it('is delivered after a restart on the same state', async () => {
    const state = mkdtempSync(join(tmpdir(), 'jobcast-notify-kill-'));
    dirs.push(state);
    const before = await start({}, state);
    const id = jobId('killed');
    refusals.set(id, [503]);
    expect((await call(before, 'PUT', `/jobs/${id}`, { ttlSeconds: 1 })).status).toBe(201);
    await expect.poll(() => about(id).map((r) => r.answered), { timeout: 15_000, interval: 50 }).toEqual([503]);
    // What a power cut does: every process of the tree at once, with the retry still to come.
    await new Promise<void>((exited) => {
      before.process.once('exit', () => exited());
      process.kill(-before.process.pid!, 'SIGKILL');
    });
    await start({}, state);
    await expect.poll(() => about(id).map((r) => r.answered), { timeout: 20_000, interval: 100 }).toEqual([503, 204]);
    expect(about(id)[1].headers['jobcast-event-id']).toBe(about(id)[0].headers['jobcast-event-id']);
  }, 60_000);
});

describe('a job whose browsers all left, with a grace longer than the runtime keeps an idle object', () => {
  it('is notified by its alarm, its object loaded again rather than kept awake for the grace', async () => {
    const server = await start({ VACATED_AFTER_MS: '15000', LOG_LEVEL: 'debug' });
    const id = jobId('asleep');
    const loads = () => server.output().split('\n').filter((line) => line.includes('"job object loaded"') && line.includes(`"job":"${id}"`)).length;
    expect((await call(server, 'PUT', `/jobs/${id}`)).status).toBe(201);
    const browser = await watch(server, id);
    browser.destroy();
    await expect.poll(() => listeners(server, id), { timeout: HEARTBEAT_MS * 4 }).toBe(0);
    const loadedBeforeGrace = loads();
    await arrived(id, 'job.vacated', 25_000);
    // Local workerd evicts an object idle for about 10 s: one held awake for the 15 s grace would not
    // be loaded again for its alarm.
    expect(loads()).toBeGreaterThan(loadedBeforeGrace);
  }, 40_000);
});
