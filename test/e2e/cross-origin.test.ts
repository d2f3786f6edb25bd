import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startDevServer, type DevServer } from '../node/support/dev-server';
import { bundle, installPackedPackage } from '../support/installed-package';
import { launchBrowser, openPage } from './support/browser';

/**
 * A front end on another origin than the service: pages served from http://localhost:<port> by a
 * server of the test's own, the service on http://127.0.0.1:<port> with that origin in
 * ALLOWED_ORIGINS. One page is bundled with esbuild from the packed package (`jobcast/browser`), as
 * an app built with a bundler would be; the other imports `/jobcast.js` straight from the service.
 */
const TOKEN = 'dev-api-token';
let server: DevServer;
let pages: Server;
let pageOrigin: string;
let browser: Browser;
let dir: string;
let page: Page;
let errors: string[];

beforeAll(async () => {
  // The page server takes its port first (port 0: no race with another test for a free one).
  let files: Record<string, [string, string]> = {};
  pages = createServer((request, response) => {
    const file = files[request.url ?? ''];
    if (!file) return void response.writeHead(204).end();
    response.writeHead(200, { 'Content-Type': file[0] }).end(file[1]);
  });
  await new Promise<void>((listening) => pages.listen(0, 'localhost', listening));
  pageOrigin = `http://localhost:${(pages.address() as AddressInfo).port}`;
  let project: string;
  [server, browser, { dir, project }] = await Promise.all([startDevServer({ ALLOWED_ORIGINS: pageOrigin }), launchBrowser(), installPackedPackage('front-end')]);
  writeFileSync(join(project, 'main.js'), `import { waitForJob } from 'jobcast/browser';\nwindow.jobcast = { waitForJob };\n`);
  await bundle(project, 'main.js', 'dist/main.js');
  files = {
    '/bundled': ['text/html', '<!doctype html><title>bundled</title><script type="module" src="/main.js"></script>'],
    '/main.js': ['text/javascript', readFileSync(join(project, 'dist/main.js'), 'utf8')],
    '/imported': [
      'text/html',
      `<!doctype html><title>imported</title><script type="module">import { waitForJob } from '${server.url}/jobcast.js'; window.jobcast = { waitForJob };</script>`,
    ],
  };
}, 120_000);
afterAll(async () => {
  await Promise.all([browser?.close(), server?.stop(), new Promise((closed) => pages?.close(closed))]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await page?.close();
  expect(errors).toEqual([]);
});

/** Opens `path` on the page origin, once its module has loaded; only script errors count here (a 404 stream logs a network line by design). */
async function open(path: string): Promise<Page> {
  const opened = await openPage(browser);
  page = opened.page;
  errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${pageOrigin}${path}`);
  await page.waitForFunction(() => 'jobcast' in window);
  return page;
}

function backend(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, { method, headers: { Authorization: `Bearer ${TOKEN}` }, body: body === undefined ? undefined : JSON.stringify(body) });
}

type Settled = { outcome?: unknown; error?: { code?: string; message: string }; ms: number };

/** Starts `waitForJob` in the page; the returned function waits for it to settle. */
async function startWait(p: Page, options: Record<string, unknown>): Promise<() => Promise<Settled>> {
  await p.evaluate((options) => {
    const started = performance.now();
    const w = window as unknown as { jobcast: { waitForJob: (o: unknown) => Promise<unknown> }; settled?: Settled };
    w.jobcast.waitForJob(options).then(
      (outcome) => (w.settled = { outcome, ms: performance.now() - started }),
      (error: { code?: string; message: string }) => (w.settled = { error: { code: error.code, message: error.message }, ms: performance.now() - started }),
    );
  }, options);
  return async () => {
    const handle = await p.waitForFunction(() => (window as unknown as { settled?: Settled }).settled, null, { timeout: 20_000 });
    return (await handle.jsonValue()) as Settled;
  };
}

const jobId = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2)}`;

describe('a page on another origin', () => {
  for (const path of ['/bundled', '/imported']) {
    it(`${path === '/bundled' ? 'bundled from the npm package' : 'importing /jobcast.js from the service'}: waits for a job and gets its result`, async () => {
      const p = await open(path);
      const id = jobId('xo');
      expect((await backend('PUT', `/jobs/${id}`)).status).toBe(201);
      const stream = p.waitForResponse((response) => response.url().startsWith(`${server.url}/sse/connect/${id}`));
      const settled = await startWait(p, { id, baseUrl: server.url });
      // The browser let the page read the stream (CORS), and it is open before the job completes.
      const answer = await stream;
      expect(answer.status()).toBe(200);
      expect(answer.headers()['access-control-allow-origin']).toBe(pageOrigin);
      expect((await backend('POST', `/jobs/${id}/complete`, { moveUrl: '/b', data: { invoice: 'A-1' } })).status).toBe(200);
      expect(await settled()).toMatchObject({ outcome: { status: 'result', moveUrl: '/b', data: { invoice: 'A-1' } } });
    });
  }

  it('rejects a wait for a job that does not exist with job_not_found after notFoundTimeoutMs', async () => {
    const p = await open('/bundled');
    const settled = await startWait(p, { id: jobId('xo-unknown'), baseUrl: server.url, notFoundTimeoutMs: 2000 });
    const { error, ms } = await settled();
    expect(error).toMatchObject({ code: 'job_not_found' });
    expect(ms).toBeGreaterThanOrEqual(2000);
    expect(ms).toBeLessThan(8000);
  });
});
