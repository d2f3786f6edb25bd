import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobcastApiError, JobcastClient, mintSubscribeToken } from '../../src/sdk/client.ts';
import { installPackedPackage } from '../support/installed-package';
import { startDevServer, type DevServer } from './support/dev-server';
import { openRaw } from './support/raw-sse';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
let server: DevServer;

beforeAll(async () => {
  server = await startDevServer();
});
afterAll(async () => {
  await server?.stop();
});

const jobId = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2)}`;

describe('the backend SDK against wrangler dev', () => {
  it('registers, reports progress, completes, reads and deletes a job', async () => {
    const client = new JobcastClient({ baseUrl: server.url, token: 'dev-api-token' });
    const id = jobId('sdk');
    expect(await client.register(id)).toMatchObject({ id, status: 'pending' });
    expect(await client.progress(id, 0.5, 'Half')).toEqual({ eventId: 1, delivered: 0 });
    expect(await client.complete(id, { moveUrl: '/b', data: { n: 1 } })).toEqual({ eventId: 2, delivered: 0 });
    expect(await client.status(id)).toMatchObject({ status: 'result', data: { n: 1 } });
    await client.remove(id);
    await expect(client.status(id)).rejects.toMatchObject({ status: 404, code: 'job_not_found' });
  });

  it('throws typed errors carrying the contract code', async () => {
    const client = new JobcastClient({ baseUrl: server.url, token: 'dev-api-token' });
    const id = jobId('sdk-err');
    await client.complete(id, { moveUrl: '/first' });
    const error = await client.complete(id, { moveUrl: '/second' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobcastApiError);
    expect(error).toMatchObject({ status: 409, code: 'job_finished' });
    await expect(new JobcastClient({ baseUrl: server.url, token: 'nope' }).register(id)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('retries network errors and 5xx, and then succeeds', async () => {
    let calls = 0;
    const flaky = (async (url: string, init: RequestInit) => {
      calls++;
      if (calls === 1) throw new TypeError('fetch failed');
      if (calls === 2) return new Response('<html>bad gateway</html>', { status: 502 });
      return fetch(url, init);
    }) as typeof fetch;
    const client = new JobcastClient({ baseUrl: server.url, token: 'dev-api-token', fetch: flaky, sleep: async () => {} });
    expect(await client.register(jobId('sdk-retry'))).toMatchObject({ status: 'pending' });
    expect(calls).toBe(3);
  });

  it('mints the token of the docs/api.md test vector', async () => {
    expect(await mintSubscribeToken('test-signing-key-0123456789abcdef', 'order-42', 1798761600)).toBe('v1.1798761600.leldmoQ0kQX4WBbuOJH4Fq38_Bj-0yVA-OCeeMbyDHQ');
  });
});

describe('the jobcast CLI', () => {
  const cli = (...args: string[]) => run(join(ROOT, 'node_modules/.bin/node'), [join(ROOT, 'src/sdk/cli.ts'), ...args], { env: { ...process.env, JOBCAST_URL: server.url } });

  it('completes a job for a waiting subscriber and prints JSON', async () => {
    const id = jobId('cli');
    await cli('register', id, '--token', 'dev-api-token');
    const stream = await openRaw(`${server.url}/sse/connect/${id}`);
    await stream.waitFor('event: connect');
    const { stdout } = await cli('complete', id, '--move-url', '/x', '--token', 'dev-api-token', '--data', '{"a":1}');
    expect(JSON.parse(stdout)).toEqual({ eventId: 1, delivered: 1 });
    await stream.ended;
    expect(stream.text()).toContain('data: {"status":"result","moveUrl":"/x","data":{"a":1}}');
  });

  it('exits non-zero with the server message', async () => {
    const failure = await cli('progress', jobId('cli-missing'), '--progress', '0.5', '--token', 'dev-api-token').catch((e) => e);
    expect(failure.code).toBe(1);
    expect(failure.stderr).toContain('404 job_not_found');
  });

  it('takes JOBCAST_TOKEN when --token is not given, and names what is missing on a usage error', async () => {
    const { stdout } = await run(join(ROOT, 'node_modules/.bin/node'), [join(ROOT, 'src/sdk/cli.ts'), 'register', jobId('cli-env')], {
      env: { ...process.env, JOBCAST_URL: server.url, JOBCAST_TOKEN: 'dev-api-token' },
    });
    expect(JSON.parse(stdout)).toMatchObject({ status: 'pending' });
    const usage = await cli('complete').catch((e) => e);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toBe('jobcast: complete needs a job id: jobcast complete <id>\n');
  });
});

describe('the jobcast CLI installed from the packed package', () => {
  let dir: string;
  let project: string;
  beforeAll(async () => {
    ({ dir, project } = await installPackedPackage('cli'));
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // The machine's own Node (20 here) when there is one, the floor the package states; else this one.
  const node = existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath;

  it('registers a job and mints its token, as `npx jobcast` runs it', async () => {
    const bin = join(project, 'node_modules/.bin/jobcast');
    const id = jobId('cli-installed');
    const { stdout } = await run(node, [bin, 'register', id, '--url', server.url, '--token', 'dev-api-token'], { cwd: project });
    expect(JSON.parse(stdout)).toMatchObject({ id, status: 'pending', subscribeUrl: `/sse/connect/${id}` });
    const status = await fetch(`${server.url}/jobs/${id}`);
    expect(await status.json()).toMatchObject({ id, status: 'pending' });
    const minted = await run(node, [bin, 'token', 'order-42', '--signing-key', 'test-signing-key-0123456789abcdef', '--expires', '1798761600'], { cwd: project });
    expect(JSON.parse(minted.stdout).token).toBe('v1.1798761600.leldmoQ0kQX4WBbuOJH4Fq38_Bj-0yVA-OCeeMbyDHQ');
  }, 30_000);

  /** The installed bin as a process: its exit code, and what it wrote. */
  async function jobcast(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(node, [join(project, 'node_modules/.bin/jobcast'), ...args], { cwd: project, env: { ...process.env, JOBCAST_URL: server.url } });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
      return { code, stdout, stderr };
    }
  }

  it.each([['--help'], ['-h'], ['help']])('prints the usage of every command for `jobcast %s` and exits 0 (it exited 2 with "a command and a job id are needed")', async (...args) => {
    const { code, stdout, stderr } = await jobcast(...args);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^usage: jobcast <command> <id> \[options\]\n/);
    for (const command of ['register', 'progress', 'complete', 'fail', 'status', 'delete', 'token']) expect(stdout).toContain(`  jobcast ${command} <id>`);
  }, 30_000);

  it('prints one command\'s usage for `jobcast <command> --help` and `jobcast help <command>`, and exits 0', async () => {
    for (const args of [['complete', '--help'], ['complete', 'order-42', '--help'], ['help', 'complete']]) {
      const { code, stdout } = await jobcast(...args);
      expect(code, args.join(' ')).toBe(0);
      expect(stdout).toContain('jobcast complete <id> --move-url U [--data JSON] [--url BASE] [--token T]');
      expect(stdout).not.toContain('--signing-key');
    }
  }, 30_000);

  it.each([
    ['--data that is not JSON (it printed a stack trace)', ['complete', 'order-42', '--move-url', '/x', '--data', '{bad'], /^jobcast: --data is not JSON: .*position 1/],
    ['--data that is JSON but no object', ['complete', 'order-42', '--move-url', '/x', '--data', '[1]'], /^jobcast: --data must be a JSON object/],
    ['an unknown option', ['register', 'order-42', '--frob', '1'], /^jobcast: unknown option --frob /],
    ['an option of another command', ['register', 'order-42', '--move-url', '/x'], /^jobcast: register takes no --move-url /],
    ['an unknown command', ['finish', 'order-42'], /^jobcast: unknown command "finish" /],
    ['a progress that is no number', ['progress', 'order-42', '--progress', 'half'], /^jobcast: --progress must be a number, got "half"$/],
    ['a --url that is no URL', ['status', 'order-42', '--url', 'jobs.example.com'], /^jobcast: --url must be an http\(s\) URL, got "jobs.example.com"$/],
  ])('exits 1 with one line naming %s', async (_name, args, line) => {
    const { code, stdout, stderr } = await jobcast(...args);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.split('\n')).toEqual([expect.stringMatching(line), '']);
  }, 30_000);

  it('exits 1 with one line naming the URL it tried when --url is unreachable (it printed only "fetch failed")', async () => {
    const closed = await closedPort();
    const { code, stderr } = await jobcast('register', 'order-42', '--url', `http://127.0.0.1:${closed}`, '--token', 'dev-api-token');
    expect(code).toBe(1);
    expect(stderr).toBe(`jobcast: could not reach http://127.0.0.1:${closed}/jobs/order-42: connect ECONNREFUSED 127.0.0.1:${closed}\n`);
  }, 30_000);
});

/** A loopback port nothing listens on: one the system just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  await new Promise((closed) => server.close(closed));
  return port;
}
