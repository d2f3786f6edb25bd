import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socketCounts, startDevServer, type DevServer } from './support/dev-server';
import { runOriginalPage } from './support/original-page';
import { openRaw, type RawStream } from './support/raw-sse';

/** The real local runtime, as a newcomer runs it, with the short timings. */
const HEARTBEAT_MS = 1000;
const STREAM_MAX_MS = 4000;
const TOKEN = 'dev-api-token';

let server: DevServer;
/** Streams here outlive several heartbeats, so they must not reach STREAM_MAX_MS. */
let longStreams: DevServer;

beforeAll(async () => {
  [server, longStreams] = await Promise.all([
    startDevServer({ HEARTBEAT_MS: String(HEARTBEAT_MS), STREAM_MAX_MS: String(STREAM_MAX_MS) }),
    startDevServer({ HEARTBEAT_MS: String(HEARTBEAT_MS) }),
  ]);
});

afterAll(async () => {
  await Promise.all([server?.stop(), longStreams?.stop()]);
});

function backend(method: string, path: string, body?: unknown, base = server.url): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jobId = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2)}`;

describe('wrangler dev with no configuration', () => {
  it('accepts the documented dev token and says so in its log', async () => {
    expect((await backend('PUT', `/jobs/${jobId('dev')}`)).status).toBe(201);
    await sleep(200);
    expect(server.output()).toContain('local development accepts the documented dev token');
    expect(server.output()).not.toContain(TOKEN);
  });
});

describe('logs under wrangler dev', () => {
  it('write a backend call as one flat JSON line with route, job and status at the top level', async () => {
    const id = jobId('log');
    await backend('PUT', `/jobs/${id}`);
    expect((await backend('POST', `/jobs/${id}/complete`, { moveUrl: '/b' })).status).toBe(200);
    const completion = () =>
      server
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{') && line.includes(id) && line.includes('"complete"'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const deadline = Date.now() + 5000;
    while (completion().length === 0 && Date.now() < deadline) await sleep(50);
    expect(completion()).toEqual([{ level: 'info', msg: 'backend call', route: 'complete', job: id, status: 200, ms: expect.any(Number), delivered: 0 }]);
  });
});

describe('the METRICS binding under wrangler dev', () => {
  it('is bound as declared, and a full wait and a refusal, which write points, answer as usual', async () => {
    expect(server.output()).toMatch(/env\.METRICS \(jobcast\)\s+Analytics Engine Dataset/);
    const id = jobId('metrics');
    expect((await backend('PUT', `/jobs/${id}`)).status).toBe(201);
    const stream = await openRaw(`${server.url}/sse/connect/${id}`);
    await stream.waitFor('event: connect');
    expect(await (await backend('POST', `/jobs/${id}/complete`, { moveUrl: '/b' })).json()).toMatchObject({ delivered: 1 });
    await stream.ended;
    expect(stream.text()).toContain('event: result');
    expect((await fetch(`${server.url}/jobs/${id}/complete`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect(server.output()).not.toMatch(/Failed to write data point/);
  });
});

describe('static files under wrangler dev', () => {
  it('are the files in public/, byte for byte, as wrangler bundles them', async () => {
    for (const [path, file] of [
      ['/', 'index.html'],
      ['/done', 'done.html'],
      ['/examples/original', 'examples/original.html'],
      ['/jobcast.js', 'jobcast.js'],
      ['/demo.js', 'demo.js'],
      ['/done.js', 'done.js'],
      ['/styles.css', 'styles.css'],
    ]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(await response.text(), path).toBe(readFileSync(new URL(`../../public/${file}`, import.meta.url), 'utf8'));
    }
  });
});

describe('departed clients under wrangler dev', () => {
  it('release their sockets and leave delivered counting only live streams', async () => {
    const server = longStreams;
    const jobs = Array.from({ length: 10 }, () => jobId('leave'));
    for (const id of jobs) expect((await backend('PUT', `/jobs/${id}`, undefined, server.url)).status).toBe(201);
    const warm = await openRaw(`${server.url}/sse/connect/${jobs[0]}`);
    await warm.waitFor('event: connect');
    warm.destroy();
    await sleep(HEARTBEAT_MS * 2.5);
    const before = socketCounts(server);

    const stayers: RawStream[] = [];
    for (const id of jobs) stayers.push(await openRaw(`${server.url}/sse/connect/${id}`));
    const leavers: RawStream[] = [];
    for (let round = 0; round < 99; round++) {
      const batch = await Promise.all(jobs.map((id) => openRaw(`${server.url}/sse/connect/${id}`)));
      leavers.push(...batch);
    }
    expect(leavers.filter((s) => s.status !== 200)).toEqual([]);
    await Promise.all(leavers.map((s) => s.waitFor('event: connect', 20_000)));
    const open = socketCounts(server);
    expect(open.runtime).toBeGreaterThan(before.runtime + 990);

    for (const stream of leavers) stream.destroy();
    await sleep(HEARTBEAT_MS * 2.5);

    // Every job admits its full 100 again only if the departed streams no longer count.
    const refill = await Promise.all(jobs.map((id) => openRaw(`${server.url}/sse/connect/${id}`)));
    expect(refill.map((s) => s.status)).toEqual(jobs.map(() => 200));
    for (const stream of refill) stream.destroy();
    await sleep(HEARTBEAT_MS * 2.5);

    for (const id of jobs) {
      const response = await backend('POST', `/jobs/${id}/complete`, { moveUrl: '/b' }, server.url);
      expect(await response.json()).toMatchObject({ delivered: 1 });
    }
    await Promise.all(stayers.map((s) => s.ended));
    expect(stayers.every((s) => s.text().includes('event: result'))).toBe(true);
    await sleep(500);
    const after = socketCounts(server);
    // Our runtime is back where it started (at the peak it held about 2 sockets per stream), less a
    // few idle keep-alive connections from wrangler's proxy. That proxy also keeps a pool towards its
    // own loopback server, sized by the peak of concurrent requests, which it trims later by itself.
    expect(after.runtime).toBeLessThanOrEqual(before.runtime + 50);
    expect(after.total).toBeLessThanOrEqual(before.total + 200);
  });
});

describe('streams under wrangler dev', () => {
  it('write a ping after a heartbeat of silence and end cleanly after STREAM_MAX_MS', async () => {
    const id = jobId('timing');
    await backend('PUT', `/jobs/${id}`);
    const started = Date.now();
    const stream = await openRaw(`${server.url}/sse/connect/${id}`);
    await stream.waitFor(': ping', HEARTBEAT_MS * 3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(HEARTBEAT_MS * 0.9);
    await stream.ended;
    const lasted = Date.now() - started;
    expect(lasted).toBeGreaterThanOrEqual(STREAM_MAX_MS * 0.9);
    expect(lasted).toBeLessThan(STREAM_MAX_MS + HEARTBEAT_MS * 2);
  });

  it('move the original page code for a completion after the server ended its stream', async () => {
    const id = jobId('page');
    await backend('PUT', `/jobs/${id}`);
    const moved = runOriginalPage(server.url, id, STREAM_MAX_MS * 4);
    await sleep(STREAM_MAX_MS + 1500);
    await backend('POST', `/jobs/${id}/complete`, { moveUrl: '/done?id=42' });
    expect(await moved).toBe('/done?id=42');
  });

  it('move the original page code for a completion that beat the page', async () => {
    const id = jobId('early');
    await backend('POST', `/jobs/${id}/complete`, { moveUrl: '/early' });
    expect(await runOriginalPage(server.url, id, 10_000)).toBe('/early');
  });

  it('move the original page code for a live completion', async () => {
    const id = jobId('live');
    await backend('PUT', `/jobs/${id}`);
    const moved = runOriginalPage(server.url, id, 10_000);
    await sleep(1000);
    await backend('POST', `/jobs/${id}/progress`, { progress: 0.5 });
    await backend('POST', `/jobs/${id}/complete`, { moveUrl: '/live' });
    expect(await moved).toBe('/live');
  });
});
