import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startDevServer, type DevServer } from '../node/support/dev-server';
import { launchBrowser, openPage } from './support/browser';
import { screenshotSettled } from './support/screenshots';

const STREAM_MAX_MS = 3000;
const TOKEN = 'dev-api-token';

let server: DevServer;
let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  [server, browser] = await Promise.all([
    startDevServer({ HEARTBEAT_MS: '1000', STREAM_MAX_MS: String(STREAM_MAX_MS) }),
    launchBrowser(),
  ]);
});
afterAll(async () => {
  await Promise.all([browser?.close(), server?.stop()]);
});
afterEach(async () => {
  await page?.close();
  // Every page must run without a script error, whatever else the test checked.
  expect(errors).toEqual([]);
});

async function newPage(): Promise<Page> {
  ({ page, errors } = await openPage(browser));
  return page;
}

function backend(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const jobId = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2)}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const donePath = (id: string) => `/done?id=${id}`;

async function expectOnDonePage(p: Page, id: string): Promise<void> {
  await p.waitForURL((url) => url.pathname === '/done' && url.searchParams.get('id') === id, { timeout: 15_000 });
  await p.getByRole('heading', { name: 'Your order is confirmed' }).waitFor();
}

describe('the demo in Chromium', () => {
  it('runs page A to page B live, with the progress bar following the job', async () => {
    const p = await newPage();
    // Picture-taking waits for the bar's transition to end; slower demo steps leave it the time.
    if (process.env.UPDATE_SCREENSHOTS) await p.route('**/demo/jobs', (route) => route.continue({ postData: JSON.stringify({ stepMs: 2500 }) }));
    await p.goto(`${server.url}/`);
    await p.getByRole('button', { name: 'Place order' }).click();
    await p.getByRole('heading', { name: 'Processing your order…' }).waitFor();
    await p.waitForFunction(() => (document.getElementById('bar') as HTMLProgressElement).value >= 35, null, { timeout: 10_000 });
    // The README shows page A at 35%, "Reserving stock", which lasts one demo step.
    if (process.env.UPDATE_SCREENSHOTS) await expect(screenshotSettled(p, 'docs/screenshots/page-a.png')).resolves.toEqual({ percent: '35%' });
    await p.waitForURL((url) => url.pathname === '/done', { timeout: 15_000 });
    await p.getByText('Invoice').waitFor();
    await expect(p.locator('dd').first().textContent()).resolves.toMatch(/^INV-/);
    if (process.env.UPDATE_SCREENSHOTS) await screenshotSettled(p, 'docs/screenshots/page-b.png');
  });

  it('shows progress events on the bar and in the status text', async () => {
    const id = jobId('bar');
    await backend('PUT', `/jobs/${id}`);
    const p = await newPage();
    await p.goto(`${server.url}/?id=${id}`);
    await p.getByRole('heading', { name: 'Processing your order…' }).waitFor();
    await sleep(500);
    for (const [progress, message] of [[0.25, 'Step one'], [0.75, 'Step three']] as const) {
      await backend('POST', `/jobs/${id}/progress`, { progress, message });
      await p.waitForFunction((want) => (document.getElementById('bar') as HTMLProgressElement).value === want, progress * 100);
      await expect(p.locator('#message').textContent()).resolves.toBe(message);
      await expect(p.locator('#bar').getAttribute('aria-valuetext')).resolves.toBe(`${progress * 100}%, ${message}`);
    }
    await backend('POST', `/jobs/${id}/complete`, { moveUrl: donePath(id), data: { invoice: 'A-1' } });
    await expectOnDonePage(p, id);
    await expect(p.locator('dd').first().textContent()).resolves.toBe('A-1');
  });

  it('moves on at once when the job finished before the page loaded', async () => {
    const id = jobId('early');
    await backend('POST', `/jobs/${id}/complete`, { moveUrl: donePath(id) });
    const p = await newPage();
    await p.goto(`${server.url}/?id=${id}`);
    await expectOnDonePage(p, id);
  });

  it('moves on for a completion after the server ended the stream', async () => {
    const id = jobId('late');
    await backend('PUT', `/jobs/${id}`);
    const p = await newPage();
    await p.goto(`${server.url}/?id=${id}`);
    await sleep(STREAM_MAX_MS + 1500);
    await backend('POST', `/jobs/${id}/complete`, { moveUrl: donePath(id) });
    await expectOnDonePage(p, id);
  });

  it('shows a clear, friendly failure, focused, with a way to try again', async () => {
    const p = await newPage();
    await p.goto(`${server.url}/`);
    await p.getByRole('button', { name: 'Place an order that fails' }).click();
    const title = p.getByRole('heading', { name: 'We couldn’t complete your order' });
    await title.waitFor({ timeout: 15_000 });
    await expect(p.getByRole('alert').textContent()).resolves.toContain('card was declined');
    await expect(p.evaluate(() => document.activeElement?.id)).resolves.toBe('failed-title');
    if (process.env.UPDATE_SCREENSHOTS) await screenshotSettled(p, 'docs/screenshots/page-a-failed.png');
    await p.keyboard.press('Tab');
    await p.keyboard.press('Enter');
    await p.getByRole('button', { name: 'Place order' }).waitFor();
  });

  it('falls back to polling when the browser has no EventSource', async () => {
    const id = jobId('poll');
    await backend('PUT', `/jobs/${id}`);
    const p = await newPage();
    await p.addInitScript(() => {
      delete (window as { EventSource?: unknown }).EventSource;
    });
    await p.goto(`${server.url}/?id=${id}`);
    await backend('POST', `/jobs/${id}/progress`, { progress: 0.5, message: 'Halfway' });
    await p.waitForFunction(() => (document.getElementById('bar') as HTMLProgressElement).value === 50, null, { timeout: 10_000 });
    await backend('POST', `/jobs/${id}/complete`, { moveUrl: donePath(id) });
    await expectOnDonePage(p, id);
  });

  it('can be used from the keyboard alone', async () => {
    const p = await newPage();
    await p.goto(`${server.url}/`);
    await p.keyboard.press('Tab');
    await expect(p.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Place order');
    await p.keyboard.press('Enter');
    await p.getByRole('heading', { name: 'Processing your order…' }).waitFor();
    await p.waitForURL((url) => url.pathname === '/done', { timeout: 15_000 });
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const p = await newPage();
    await p.setViewportSize({ width: 360, height: 740 });
    await p.goto(`${server.url}/`);
    await expect(p.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(360);
  });
});

describe('the original page code in Chromium', () => {
  const original = (id: string) => `${server.url}/examples/original.html?id=${id}`;

  it('moves the page for a live completion', async () => {
    const id = jobId('orig-live');
    await backend('PUT', `/jobs/${id}`);
    const p = await newPage();
    await p.goto(original(id));
    await sleep(500);
    await backend('POST', `/jobs/${id}/complete`, { moveUrl: donePath(id) });
    await expectOnDonePage(p, id);
  });

  it('moves the page for a completion that beat the page', async () => {
    const id = jobId('orig-early');
    await backend('POST', `/jobs/${id}/complete`, { moveUrl: donePath(id) });
    const p = await newPage();
    await p.goto(original(id));
    await expectOnDonePage(p, id);
  });

  it('moves the page for a completion after the server ended the stream', async () => {
    const id = jobId('orig-late');
    await backend('PUT', `/jobs/${id}`);
    const p = await newPage();
    await p.goto(original(id));
    await sleep(STREAM_MAX_MS + 1500);
    await backend('POST', `/jobs/${id}/complete`, { moveUrl: donePath(id) });
    await expectOnDonePage(p, id);
  });
});

describe("Chromium's own EventSource", () => {
  it('gets the failed result of a job that expires while it waits, then stops for good', async () => {
    const id = jobId('expire');
    await fetch(`${server.url}/jobs/${id}`, { method: 'PUT', headers: { Authorization: `Bearer ${TOKEN}` }, body: '{"ttlSeconds":2}' });
    const registeredAt = Date.now();
    const p = await newPage();
    await p.goto(`${server.url}/`); // any page of the service's origin
    const seen = await p.evaluate(async (path) => {
      const source = new EventSource(path);
      const result = await new Promise<{ data: string; at: number }>((done) =>
        source.addEventListener('result', (event) => done({ data: (event as MessageEvent).data, at: Date.now() })),
      );
      // No reconnect loop: the clean end brings one reconnect, answered 204, and EventSource stops.
      const closedAt = await new Promise<number>((done) => {
        const check = setInterval(() => {
          if (source.readyState !== EventSource.CLOSED) return;
          clearInterval(check);
          done(Date.now());
        }, 50);
      });
      return { ...result, closedAt };
    }, `/sse/connect/${id}`);
    expect(seen.data).toBe('{"status":"failed","error":"expired"}');
    expect(seen.at - registeredAt).toBeLessThan(2000 + 1500);
    expect(seen.closedAt - seen.at).toBeLessThan(5000);
  });
});
