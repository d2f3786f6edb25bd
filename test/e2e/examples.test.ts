import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startDevServer, type DevServer } from '../node/support/dev-server';
import { run } from '../support/installed-package';
import { launchBrowser, openPage } from './support/browser';
import { installedExample, reservePort, shellEnv, startVite, workingCopy } from './support/example-app';

/**
 * The apps of examples/ (Vite + React 19 in StrictMode, Vite + Vue 3), installed with the packed
 * package, type-checked strictly, and driven in Chromium on their own origins against `wrangler dev`
 * on another one, with SIGNING_KEY set: under Vite's dev server (where StrictMode mounts the page
 * twice, so its first wait is aborted at once) and as a production build served by `vite preview`.
 * One browser and one service for the whole file, per waiting mode.
 */
const API_TOKEN = 'dev-api-token';
const NOT_FOUND_TIMEOUT_MS = 1500;
const APPS = [
  { name: 'react', typecheck: 'tsc' },
  { name: 'vue', typecheck: 'vue-tsc' },
] as const;
const SERVED = ['dev', 'build'] as const;
const defaultMode = process.env.JOBCAST_TEST_HIBERNATE !== 'false';

let server: DevServer;
let browser: Browser;
const dirs = new Map<string, string>();
const origins = new Map<string, string>();
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  const ports = new Map<string, Awaited<ReturnType<typeof reservePort>>>();
  for (const app of APPS) for (const served of SERVED) ports.set(`${app.name} ${served}`, await reservePort());
  const allowed = [...ports.values()].map(({ port }) => `http://localhost:${port}`).join(',');
  cleanups.push(() => Promise.all([...ports.values()].map((reserved) => reserved.release()))); // if a start failed
  // Settled one by one, so that afterAll stops whatever started even when something else failed.
  const installed: string[] = [];
  const started = await Promise.allSettled([
    startDevServer({ ALLOWED_ORIGINS: allowed, SIGNING_KEY: 'examples-signing-key-0123456789abcdef' }).then((started) => void (server = started)),
    launchBrowser().then((started) => void (browser = started)),
    ...APPS.map((app, i) => installedExample(app.name).then((dir) => void (installed[i] = dir))),
  ]);
  for (const result of started) if (result.status === 'rejected') throw result.reason;
  // What a user puts in the app's .env, as the environment (which Vite reads before .env).
  const env = { VITE_JOBCAST_URL: server.url, VITE_JOBCAST_NOT_FOUND_TIMEOUT_MS: String(NOT_FOUND_TIMEOUT_MS) };
  await Promise.all(
    APPS.map(async (app, i) => {
      const copy = await workingCopy(app.name, installed[i]!);
      cleanups.push(copy.remove);
      dirs.set(app.name, copy.dir);
      await run(`${copy.dir}/node_modules/.bin/vite`, ['build'], { cwd: copy.dir, env: shellEnv(env) });
      for (const served of SERVED) {
        const vite = await startVite(copy.dir, served === 'dev' ? [] : ['preview'], ports.get(`${app.name} ${served}`)!, env);
        cleanups.unshift(vite.stop);
        origins.set(`${app.name} ${served}`, vite.origin);
      }
    }),
  );
}, 240_000);
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await Promise.all([browser?.close(), server?.stop()]);
});

function backend(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, { method, headers: { Authorization: `Bearer ${API_TOKEN}` }, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Registers a job as a backend would, with the subscribe token its answer carries. */
async function register(): Promise<Job> {
  const id = `example-${Math.random().toString(36).slice(2)}`;
  const response = await backend('PUT', `/jobs/${id}`);
  expect(response.status).toBe(201);
  const { token } = (await response.json()) as { token?: string };
  expect(token).toMatch(/^v1\./);
  return { id, token: token! };
}

async function listeners(id: string): Promise<number> {
  return ((await (await backend('GET', `/jobs/${id}`)).json()) as { listeners: number }).listeners;
}

type Job = { id: string; token: string };

/** Opens page A of an app for a job (after `beforeOpen`, given the page), and checks at the end that no script failed. */
async function withPageA(key: string, job: Job, use: (page: Page, origin: string, errors: string[]) => Promise<void>, beforeOpen?: (page: Page, origin: string) => Promise<unknown>): Promise<void> {
  const { page, errors } = await openPage(browser);
  try {
    const origin = origins.get(key)!;
    await beforeOpen?.(page, origin);
    await page.goto(`${origin}/?id=${encodeURIComponent(job.id)}&token=${encodeURIComponent(job.token)}`);
    await use(page, origin, errors);
    expect(errors.filter((error) => error.startsWith('pageerror'))).toEqual([]);
  } finally {
    await page.close();
  }
}

/** Waits until the page holds the job's one stream. */
async function streaming(job: Job, errors: string[]): Promise<void> {
  await expect.poll(() => listeners(job.id), { timeout: 10_000, message: `the page holds no stream; it said: ${errors.join(' | ')}` }).toBe(1);
}

// Types do not depend on the waiting mode: checked once, with the default mode's run.
if (defaultMode) describe('the example apps type-check', () => {
  for (const app of APPS) {
    it(`examples/${app.name} passes ${app.typecheck} --noEmit in strict mode, against the packed package's types`, async () => {
      await run(`${dirs.get(app.name)}/node_modules/.bin/${app.typecheck}`, ['--noEmit'], { cwd: dirs.get(app.name) }).catch((error) => {
        throw new Error(`${app.typecheck}:\n${error.stdout}${error.stderr}`);
      });
    }, 60_000);
  }
});

for (const app of APPS) {
  for (const served of SERVED) {
    const key = `${app.name} ${served}`;
    describe(`examples/${app.name} ${served === 'dev' ? "under Vite's dev server" : 'as a production build'}, on another origin than the service`, () => {
      it('shows the progress, then moves the page to the moveUrl', async () => {
        const job = await register();
        await withPageA(key, job, async (page, origin, errors) => {
          await streaming(job, errors);
          expect((await backend('POST', `/jobs/${job.id}/progress`, { progress: 0.4 })).status).toBe(202);
          await page.getByText('40%').waitFor({ timeout: 5000 });
          expect(await page.locator('progress').evaluate((bar: HTMLProgressElement) => bar.value)).toBeCloseTo(0.4);
          expect((await backend('POST', `/jobs/${job.id}/complete`, { moveUrl: `/done?id=${job.id}` })).status).toBe(200);
          await page.waitForURL(`${origin}/done?id=${job.id}`, { timeout: 10_000 });
        });
      });

      // Not StrictMode's business: run on the production builds only.
      if (served === 'build') it('shows "Reconnecting…" while a proxy refuses the stream, then streams again and moves the page', async () => {
        const job = await register();
        // A proxy's 502 makes EventSource give up for good (a network error would not: it retries
        // by itself, staying `connecting`): the client backs off, `offline`.
        const stream = `${server.url}/sse/connect/**`;
        const refuse = (page: Page, origin: string) => page.route(stream, (route) => route.fulfill({ status: 502, body: 'Bad Gateway', headers: { 'Access-Control-Allow-Origin': origin } }));
        await withPageA(key, job, async (page, origin, errors) => {
          await page.getByText('Reconnecting…').waitFor({ timeout: 10_000 });
          await page.unroute(stream);
          await streaming(job, errors);
          await page.getByText('Reconnecting…').waitFor({ state: 'detached', timeout: 5000 });
          expect((await backend('POST', `/jobs/${job.id}/complete`, { moveUrl: `/done?id=${job.id}` })).status).toBe(200);
          await page.waitForURL(`${origin}/done?id=${job.id}`, { timeout: 10_000 });
        }, refuse);
      });

      it('shows the error of a failed job', async () => {
        const job = await register();
        await withPageA(key, job, async (page, _origin, errors) => {
          await streaming(job, errors);
          expect((await backend('POST', `/jobs/${job.id}/fail`, { error: 'card declined' })).status).toBe(200);
          expect(await page.getByRole('alert').textContent({ timeout: 10_000 })).toBe('Sorry: card declined');
        });
      });

      it('shows job_not_found for a job the service does not have, after notFoundTimeoutMs', async () => {
        // A page opened from history after its job was deleted: a valid token, no job.
        const job = await register();
        expect((await backend('DELETE', `/jobs/${job.id}`)).status).toBe(204);
        const opened = Date.now();
        await withPageA(key, job, async (page) => {
          expect(await page.getByRole('alert').textContent({ timeout: NOT_FOUND_TIMEOUT_MS + 8000 })).toBe('Sorry: job_not_found');
          expect(Date.now() - opened).toBeGreaterThanOrEqual(NOT_FOUND_TIMEOUT_MS);
        });
      });
    });
  }
}
