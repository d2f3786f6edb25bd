import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from './support/dev-server';
import { openRaw } from './support/raw-sse';

/**
 * job.vacated against `wrangler dev` and a real receiver on loopback (this file runs in both waiting
 * modes): a page that polls is still waiting, and a delivered notification leaves its object nothing
 * pending, so that it is evicted as one that sent none.
 */
const TOKEN = 'dev-api-token';
const SECRET = 'webhook-secret-for-the-tests-0123456789';
const HEARTBEAT_MS = 500;

let receiver: Server;
let receiverUrl: string;
const received: { job: string; type: string; at: number }[] = [];
const servers: DevServer[] = [];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const { job, type } = JSON.parse(body) as { job: string; type: string };
      received.push({ job, type, at: Date.now() });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((listening) => receiver.listen(0, '127.0.0.1', listening));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await new Promise((closed) => receiver?.close(closed));
});

async function start(vars: Record<string, string>): Promise<DevServer> {
  const server = await startDevServer({ WEBHOOK_URL: receiverUrl, WEBHOOK_SECRET: SECRET, HEARTBEAT_MS: String(HEARTBEAT_MS), ...vars });
  servers.push(server);
  return server;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jobId = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2)}`;
const about = (id: string) => received.filter((r) => r.job === id);

/** A status read: by the backend (its API token), or by a waiting page (open mode: no API token). */
function status(server: DevServer, id: string, by: 'backend' | 'page'): Promise<Response> {
  return fetch(`${server.url}/jobs/${id}`, { headers: by === 'backend' ? { Authorization: `Bearer ${TOKEN}` } : {} });
}

async function register(server: DevServer, id: string): Promise<void> {
  expect((await fetch(`${server.url}/jobs/${id}`, { method: 'PUT', headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(201);
}

/** A browser whose stream drops (its TCP connection closed), noticed within a few heartbeats. */
async function dropStream(server: DevServer, id: string): Promise<void> {
  const stream = await openRaw(`${server.url}/sse/connect/${id}`);
  await stream.waitFor('event: connect');
  stream.destroy();
  const listeners = async () => ((await (await status(server, id, 'backend')).json()) as { listeners: number }).listeners;
  await expect.poll(listeners, { timeout: HEARTBEAT_MS * 6 }).toBe(0);
}

describe('a page that falls back to polling', () => {
  it('is not vacated while it polls every 2 s, and is once it stops; a backend polling does not count', async () => {
    const GRACE_MS = 3000;
    const server = await start({ VACATED_AFTER_MS: String(GRACE_MS) });
    const [page, backend] = [jobId('polling'), jobId('backend-reads')];
    for (const id of [page, backend]) await register(server, id);
    await Promise.all([dropStream(server, page), dropStream(server, backend)]);
    let lastPoll = 0;
    for (let poll = 0; poll < 6; poll++) {
      expect((await status(server, page, 'page')).status).toBe(200);
      lastPoll = Date.now();
      expect((await status(server, backend, 'backend')).status).toBe(200);
      await sleep(2000);
    }
    expect(about(page)).toEqual([]);
    expect(about(backend).map((r) => r.type)).toEqual(['job.vacated']);
    await expect.poll(() => about(page).map((r) => r.type), { timeout: GRACE_MS + 8000, interval: 100 }).toEqual(['job.vacated']);
    expect(about(page)[0].at - lastPoll).toBeGreaterThanOrEqual(GRACE_MS - 100);
  }, 60_000);
});

describe('an object that delivered a notification', () => {
  it('holds nothing pending: it is evicted after its idle time like an object that sent none', async () => {
    const server = await start({ VACATED_AFTER_MS: '1000', LOG_LEVEL: 'debug' });
    const loads = (id: string) => server.output().split('\n').filter((line) => line.includes('"job object loaded"') && line.includes(`"job":"${id}"`)).length;
    const [sender, control] = [jobId('sender'), jobId('control')];
    for (const id of [sender, control]) await register(server, id);
    await dropStream(server, sender);
    await expect.poll(() => about(sender).length, { timeout: 10_000, interval: 50 }).toBe(1);
    // Both objects are idle from here: the control just answered a read; the sender just delivered.
    expect((await status(server, control, 'backend')).status).toBe(200);
    const before = { sender: loads(sender), control: loads(control) };
    // Local workerd evicts an object idle for about 10 s; a 10 s delivery timer left pending kept
    // the sender loaded 14 s on.
    await sleep(14_000);
    for (const id of [sender, control]) expect((await status(server, id, 'backend')).status).toBe(200);
    expect(loads(control)).toBeGreaterThan(before.control);
    expect(loads(sender)).toBeGreaterThan(before.sender);
  }, 60_000);
});
