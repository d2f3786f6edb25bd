import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readConfig, type Env } from '../src/config';
import { RefusedOrigins } from '../src/refused-origins';
import { newJobId } from './support/http';
import { securedBackend, securedCall } from './support/secured';

afterEach(() => vi.restoreAllMocks());

const config = readConfig({ JOBS: env.JOBS, ALLOWED_ORIGINS: 'https://app.example.com' } as Env);
const SERVICE = 'https://jobs.example.com/sse/connect/a';

function captureWarnings(): () => Record<string, unknown>[] {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  return () => warn.mock.calls.map(([line]) => JSON.parse(line as string) as Record<string, unknown>);
}

describe('a refused origin', () => {
  it('is named in a warning, at most once a minute per origin', () => {
    const warnings = captureWarnings();
    let now = 0;
    const log = new RefusedOrigins(() => now);
    log.note('https://shop.example.com', SERVICE, config);
    now = 59_999;
    log.note('https://shop.example.com', SERVICE, config);
    log.note('https://other.example.com', SERVICE, config);
    now = 60_000;
    log.note('https://shop.example.com', SERVICE, config);
    expect(warnings().map((line) => [line.level, line.msg, line.origin])).toEqual([
      ['warn', 'origin refused', 'https://shop.example.com'],
      ['warn', 'origin refused', 'https://other.example.com'],
      ['warn', 'origin refused', 'https://shop.example.com'],
    ]);
    expect(warnings()[0].hint).toContain('ALLOWED_ORIGINS');
  });

  it('is not one that is allowed, the service\'s own, or absent', () => {
    const warnings = captureWarnings();
    const log = new RefusedOrigins(() => 0);
    log.note('https://app.example.com', SERVICE, config);
    log.note('https://jobs.example.com', SERVICE, config);
    log.note(null, SERVICE, config);
    const open = readConfig({ JOBS: env.JOBS, ALLOWED_ORIGINS: '*' } as Env);
    log.note('https://any.example', SERVICE, open);
    expect(warnings()).toEqual([]);
  });

  it('flooded with made-up origins, keeps at most 100 in memory and logs at most 100 lines a minute, then counts the rest', () => {
    const warnings = captureWarnings();
    let now = 0;
    const log = new RefusedOrigins(() => now);
    for (let i = 0; i < 1000; i++) {
      now = i;
      log.note(`https://flood-${i}.example`, SERVICE, config);
    }
    expect(warnings()).toHaveLength(100);
    expect(log.tracked).toBe(100);
    now = 60_100;
    log.note('https://late.example', SERVICE, config);
    expect(warnings()).toHaveLength(101);
    expect(warnings()[100]).toMatchObject({ origin: 'https://late.example', otherOriginsUnlogged: 900 });
    expect(log.tracked).toBe(100);
  });

  it('is cut to 200 characters in the log', () => {
    const warnings = captureWarnings();
    new RefusedOrigins(() => 0).note(`https://${'a'.repeat(500)}.example`, SERVICE, config);
    expect(String(warnings()[0].origin)).toHaveLength(200);
  });
});

describe('the worker', () => {
  it('logs an origin missing from ALLOWED_ORIGINS on the browser routes, once, and never on a backend route', async () => {
    const warnings = captureWarnings();
    const origin = `https://${newJobId()}.example`;
    const id = newJobId();
    const { subscribeUrl } = (await (await securedBackend('PUT', `/jobs/${id}`)).json()) as { subscribeUrl: string };
    await securedBackend('POST', `/jobs/${id}/progress`, { progress: 0.5 }).then((r) => r.body?.cancel());
    await securedCall(`/jobs/${id}/complete`, { method: 'OPTIONS', headers: { Origin: origin } }).then((r) => r.body?.cancel());
    expect(warnings().filter((line) => line.origin === origin)).toEqual([]);
    const stream = await securedCall(subscribeUrl, { headers: { Origin: origin } });
    expect(stream.headers.get('Access-Control-Allow-Origin')).toBeNull();
    await stream.body?.cancel();
    await securedCall(`/jobs/${id}`, { method: 'OPTIONS', headers: { Origin: origin } }).then((r) => r.body?.cancel());
    await securedCall(`/jobs/${id}`, { headers: { Origin: 'https://app.example.com' } }).then((r) => r.body?.cancel());
    expect(warnings().filter((line) => line.msg === 'origin refused').map((line) => line.origin)).toEqual([origin]);
  });
});
