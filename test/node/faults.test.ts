import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from './support/dev-server';
import { openRaw } from './support/raw-sse';

const TOKEN = 'dev-api-token';
const servers: DevServer[] = [];
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(vars: Record<string, string> = {}, persistTo?: string): Promise<DevServer> {
  const server = await startDevServer(vars, persistTo);
  servers.push(server);
  return server;
}

function backend(server: DevServer, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** What a power cut does: no shutdown, no flush, every process of the tree at once. */
function killHard(server: DevServer): Promise<void> {
  return new Promise((done) => {
    server.process.once('exit', () => done());
    process.kill(-server.process.pid!, 'SIGKILL');
  });
}

describe('a wrangler dev killed with SIGKILL and started again on the same state', () => {
  it('keeps every registered job, its progress and every completed result', async () => {
    const state = mkdtempSync(join(tmpdir(), 'jobcast-kill-'));
    dirs.push(state);
    const before = await start({}, state);
    const pending = Array.from({ length: 10 }, (_, i) => `kill-pending-${i}`);
    const done = Array.from({ length: 10 }, (_, i) => `kill-done-${i}`);
    for (const id of pending) {
      await backend(before, 'PUT', `/jobs/${id}`);
      await backend(before, 'POST', `/jobs/${id}/progress`, { progress: 0.4, message: `step of ${id}` });
    }
    for (const id of done) {
      await backend(before, 'PUT', `/jobs/${id}`);
      expect((await backend(before, 'POST', `/jobs/${id}/complete`, { moveUrl: `/b/${id}`, data: { id } })).status).toBe(200);
    }
    await killHard(before);

    const after = await start({}, state);
    for (const id of pending) {
      expect(await (await fetch(`${after.url}/jobs/${id}`)).json()).toMatchObject({ status: 'pending', progress: 0.4, message: `step of ${id}`, lastEventId: 1 });
    }
    for (const id of done) {
      expect(await (await fetch(`${after.url}/jobs/${id}`)).json()).toMatchObject({ status: 'result', moveUrl: `/b/${id}`, data: { id } });
      const stream = await openRaw(`${after.url}/sse/connect/${id}`);
      await stream.ended;
      expect(stream.text()).toContain(`data: {"status":"result","moveUrl":"/b/${id}","data":{"id":"${id}"}}`);
    }
    // A job still pending before the crash can still finish after it, with its ids counting on.
    const response = await backend(after, 'POST', `/jobs/${pending[0]}/complete`, { moveUrl: '/late' });
    expect(await response.json()).toMatchObject({ eventId: 2 });
  });
});

describe('a subscriber that stops reading', () => {
  it('does not hold back the others: the fast one gets the result within a second', async () => {
    const server = await start({ HEARTBEAT_MS: '60000' });
    const id = 'slow-consumer';
    await backend(server, 'PUT', `/jobs/${id}`);
    const slow = await openRaw(`${server.url}/sse/connect/${id}`);
    await slow.waitFor('event: connect');
    slow.pause();
    const fast = await openRaw(`${server.url}/sse/connect/${id}`);
    await fast.waitFor('event: connect');
    const message = 'x'.repeat(1000);
    for (let i = 0; i < 300; i++) {
      await backend(server, 'POST', `/jobs/${id}/progress`, { progress: i / 300, message });
    }
    const sent = Date.now();
    await backend(server, 'POST', `/jobs/${id}/complete`, { moveUrl: '/fast' });
    await fast.waitFor('event: result', 1000);
    expect(Date.now() - sent).toBeLessThan(1000);
    expect(slow.text()).not.toContain('event: result');
    slow.destroy();
  });
});
