import { describe, expect, it } from 'vitest';
import { call, json } from './support/http';

describe('static files served by the worker', () => {
  it('serves the demo page, the client and the stylesheet with their content types', async () => {
    const page = await call('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<title>Place an order');

    const client = await call('/jobcast.js');
    expect(client.headers.get('Content-Type')).toBe('text/javascript; charset=utf-8');
    expect(await client.text()).toContain('export function waitForJob');

    const css = await call('/styles.css');
    expect(css.headers.get('Content-Type')).toBe('text/css; charset=utf-8');

    for (const path of ['/done', '/done.js', '/demo.js', '/examples/original']) expect((await call(path)).status, path).toBe(200);
  });

  it('tags each file with an ETag and answers 304 when the browser already has it', async () => {
    const first = await call('/jobcast.js');
    const etag = first.headers.get('ETag')!;
    expect(etag).toMatch(/^"[0-9a-f]{8}"$/);
    expect(first.headers.get('Cache-Control')).toBe('public, max-age=0, must-revalidate');
    expect((await call('/styles.css')).headers.get('ETag')).not.toBe(etag);

    const again = await call('/jobcast.js', { headers: { 'If-None-Match': `"0", W/${etag}` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const stale = await call('/jobcast.js', { headers: { 'If-None-Match': '"00000000"' } });
    expect(stale.status).toBe(200);
  });

  it('lets a page on any origin import the client as a module, and nothing else', async () => {
    for (const path of ['/jobcast.js', '/backoff.js']) {
      const module = await call(path, { headers: { Origin: 'https://shop.example.com' } });
      expect(module.status, path).toBe(200);
      expect(module.headers.get('Access-Control-Allow-Origin'), path).toBe('*');
      expect(module.headers.get('Cross-Origin-Resource-Policy'), path).toBe('cross-origin');
      expect(module.headers.get('Access-Control-Allow-Credentials'), path).toBeNull();
      const cached = await call(path, { headers: { Origin: 'https://shop.example.com', 'If-None-Match': module.headers.get('ETag')! } });
      expect(cached.status, path).toBe(304);
      expect(cached.headers.get('Access-Control-Allow-Origin'), path).toBe('*');
    }
    expect(await (await call('/jobcast.js')).text()).toContain("from './backoff.js'");
    for (const path of ['/', '/demo.js', '/done.js', '/styles.css']) {
      expect((await call(path, { headers: { Origin: 'https://shop.example.com' } })).headers.get('Access-Control-Allow-Origin'), path).toBeNull();
    }
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const head = await call('/jobcast.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await call('/jobcast.js', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('Allow')).toBe('GET, HEAD');
  });

  it('moves .html and /index page URLs to the page, keeping the query', async () => {
    for (const [from, to] of [
      ['/done.html?id=42', '/done?id=42'],
      ['/index.html', '/'],
      ['/examples/original.html?id=7', '/examples/original?id=7'],
    ]) {
      const moved = await call(from, { redirect: 'manual' });
      expect(moved.status, from).toBe(307);
      const location = new URL(moved.headers.get('Location')!, 'http://x');
      expect(location.pathname + location.search, from).toBe(to);
    }
  });

  it('answers 404 not_found for anything else, including .html of a script', async () => {
    for (const path of ['/nope', '/jobcast.html', '/done/', '/public/jobcast.js']) {
      const missing = await call(path);
      expect(missing.status, path).toBe(404);
      expect((await json(missing)).error).toBe('not_found');
    }
  });
});
