import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { startDevServer, type DevServer } from '../../node/support/dev-server';
import { launchBrowser } from './browser';

/** What a tab's harness reports of one wait. */
export interface WaitView {
  id: string;
  status: 'live' | 'settled' | 'rejected';
  outcome?: { status: string; moveUrl?: string; error?: string };
  error?: string;
}

/**
 * Tabs of one browser context on a page origin of their own (http://localhost:<port>), waiting with
 * `/jobcast.js` imported from the service (http://127.0.0.1:<port>). Each tab's `harness` starts and
 * aborts waits, and reports them, the EventSources the client left open, and the job locks of the
 * origin (`navigator.locks.query()`).
 */
export async function startTabs(options: { notFoundTimeoutMs: number }) {
  // The page server takes its port first (port 0: no race with another test for a free one); the
  // service needs its origin.
  let html = '';
  const pages: Server = createServer((_request, response) => void response.writeHead(200, { 'Content-Type': 'text/html' }).end(html));
  await new Promise<void>((listening) => pages.listen(0, 'localhost', listening));
  const pageOrigin = `http://localhost:${(pages.address() as AddressInfo).port}`;
  const [server, browser] = await Promise.all([startDevServer({ ALLOWED_ORIGINS: pageOrigin }), launchBrowser()]);
  html = harnessPage(server.url, options.notFoundTimeoutMs);
  const context = await browser.newContext();
  const errors: string[] = [];
  return {
    server,
    context,
    errors,
    async open(): Promise<Page> {
      const page = await context.newPage();
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(pageOrigin);
      await page.waitForFunction(() => 'harness' in window);
      return page;
    },
    async stop(): Promise<void> {
      await Promise.all([browser.close(), server.stop(), new Promise((closed) => pages.close(closed))]);
    },
  };
}


export function backend(server: DevServer, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, { method, headers: { Authorization: 'Bearer dev-api-token' }, body: body === undefined ? undefined : JSON.stringify(body) });
}

type Harness = {
  start(id: string): number;
  abort(index: number): void;
  remount(id: string): number;
  waits(): WaitView[];
  streams(): string[];
  locks(): Promise<string[]>;
};
const harness = (page: Page) => ({
  start: (id: string) => page.evaluate((id) => (window as unknown as { harness: Harness }).harness.start(id), id),
  abort: (index: number) => page.evaluate((index) => (window as unknown as { harness: Harness }).harness.abort(index), index),
  remount: (id: string) => page.evaluate((id) => (window as unknown as { harness: Harness }).harness.remount(id), id),
  waits: () => page.evaluate(() => (window as unknown as { harness: Harness }).harness.waits()),
  streams: () => page.evaluate(() => (window as unknown as { harness: Harness }).harness.streams()),
  locks: () => page.evaluate(() => (window as unknown as { harness: Harness }).harness.locks()),
});
export { harness };

function harnessPage(service: string, notFoundTimeoutMs: number): string {
  return `<!doctype html><title>tab</title><script type="module">
import { waitForJob } from '${service}/jobcast.js';
const open = new Set();
class TrackedEventSource extends EventSource {
  constructor(url, init) { super(url, init); open.add(this); }
  close() { super.close(); open.delete(this); }
}
const waits = [];
window.harness = {
  start(id) {
    const controller = new AbortController();
    const wait = { id, status: 'live', controller };
    waits.push(wait);
    waitForJob({ id, baseUrl: '${service}', EventSource: TrackedEventSource, signal: controller.signal, notFoundTimeoutMs: ${notFoundTimeoutMs}, pollIntervalMs: 500 }).then(
      (outcome) => Object.assign(wait, { status: 'settled', outcome }),
      (error) => Object.assign(wait, { status: 'rejected', error: error?.code ?? error?.message ?? String(error) }),
    );
    return waits.length - 1;
  },
  abort(index) { waits[index].controller.abort(new Error('aborted')); },
  /** What React StrictMode does with a component that waits in an effect: mount, clean up, mount. */
  remount(id) { window.harness.abort(window.harness.start(id)); return window.harness.start(id); },
  waits() { return waits.map(({ id, status, outcome, error }) => ({ id, status, outcome, error })); },
  streams() {
    return [...open].filter((source) => source.readyState !== EventSource.CLOSED).map((source) => decodeURIComponent(new URL(source.url).pathname.split('/').pop()));
  },
  async locks() {
    const { held = [], pending = [] } = await navigator.locks.query();
    return [...held, ...pending].map((lock) => lock.name).filter((name) => name.startsWith('jobcast:'));
  },
};
</script>`;
}
