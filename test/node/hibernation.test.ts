import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from './support/dev-server';
import { openRaw, type RawStream } from './support/raw-sse';

/**
 * The object sleeps while browsers wait (the default: no --var HIBERNATE), under the real local
 * runtime, which evicts an idle object after about 10 s: 20 streams wait on a job, 5 leave, nothing
 * happens for 18 s while heartbeats keep arriving, then the job completes. The object logs a line each time it is loaded
 * into memory (LOG_LEVEL=debug), so a load after the idle spell shows it slept. With HIBERNATE=false
 * the object holds the streams and must not be loaded again.
 */
const HEARTBEAT_MS = 2000;
const IDLE_MS = 18_000;
const TOKEN = 'dev-api-token';
const vars = { LOG_LEVEL: 'debug', HEARTBEAT_MS: String(HEARTBEAT_MS) };
const servers: Record<'hibernate' | 'noHibernate', DevServer | undefined> = { hibernate: undefined, noHibernate: undefined };

beforeAll(async () => {
  [servers.hibernate, servers.noHibernate] = await Promise.all([
    // No --var HIBERNATE: what a plain `npm run dev` runs (wrangler.toml says "true", as the code does).
    startDevServer(vars),
    startDevServer({ ...vars, HIBERNATE: 'false' }),
  ]);
});
afterAll(async () => {
  await Promise.all(Object.values(servers).map((server) => server?.stop()));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (text: string, pattern: string) => text.split(pattern).length - 1;

/** The "job object loaded" lines for `id` in the server's output so far. */
function loads(server: DevServer, id: string): number {
  return server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"job object loaded"'))
    .filter((line) => (JSON.parse(line) as { job: string | null }).job === id).length;
}

async function waitOnJob(server: DevServer) {
  const id = `sleep-${Math.random().toString(36).slice(2)}`;
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${server.url}${path}`, { method, headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  expect((await call('PUT', `/jobs/${id}`)).status).toBe(201);
  const streams: RawStream[] = [];
  for (let i = 0; i < 20; i++) streams.push(await openRaw(`${server.url}/sse/connect/${id}`));
  await Promise.all(streams.map((stream) => stream.waitFor('event: connect')));
  const [leavers, stayers] = [streams.slice(0, 5), streams.slice(5)];
  for (const stream of leavers) stream.destroy();
  const loadsBefore = loads(server, id);
  await sleep(IDLE_MS);
  const loadsAfterIdle = loads(server, id);
  const completion = await call('POST', `/jobs/${id}/complete`, { moveUrl: '/b' });
  const answer = (await completion.json()) as { delivered: number };
  await Promise.all(stayers.map((stream) => stream.ended));
  return { id, stayers, answer, loadsBefore, loadsAfterIdle, loadsAtEnd: loads(server, id) };
}

describe('a job whose browsers wait for 18 s', () => {
  it('by default: the object sleeps, is loaded again for the completion, and every live stream gets it once', async () => {
    const run = await waitOnJob(servers.hibernate!);
    expect(run.answer.delivered).toBe(15);
    for (const stream of run.stayers) {
      const text = stream.text();
      expect(count(text, ': ping')).toBeGreaterThanOrEqual(5);
      expect(count(text, 'event: result')).toBe(1);
      expect(text.endsWith('data: {"status":"result","moveUrl":"/b"}\n\n')).toBe(true);
    }
    // Not in memory during the idle spell, so loaded again by the completion.
    expect(run.loadsAtEnd).toBeGreaterThan(run.loadsAfterIdle);
  }, 60_000);

  it('with HIBERNATE=false: the object holds the streams, stays in memory, and is never loaded again', async () => {
    const run = await waitOnJob(servers.noHibernate!);
    expect(run.answer.delivered).toBe(15);
    for (const stream of run.stayers) {
      expect(count(stream.text(), ': ping')).toBeGreaterThanOrEqual(5);
      expect(count(stream.text(), 'event: result')).toBe(1);
    }
    expect(run.loadsAtEnd).toBe(run.loadsBefore);
  }, 60_000);
});
