import { env } from 'cloudflare:workers';
import { createExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../src/app';
import type { Env } from '../src/config';
import worker from '../src/index';
import { newJobId } from './support/http';
import { SECURED_ENV, SECURED_TOKEN } from './support/secured';

/**
 * GET /sse/connect/:id is answered ahead of the router when all is in order (src/connect.ts). Every
 * request here is sent both ways, through the worker's entry and straight to the routed app: the
 * status, the headers a browser reads and the first bytes must be the same.
 */
const open = { ...(env as unknown as Env), ALLOWED_ORIGINS: 'https://app.example.com' };
const ORIGIN = { Origin: 'https://app.example.com' };

async function answer(fetcher: 'worker' | 'app', path: string, init: RequestInit, vars: Env) {
  const request = new Request(`http://jobcast.test${path}`, init);
  const response = fetcher === 'worker' ? await worker.fetch(request, vars, createExecutionContext()) : await app.fetch(request, vars, createExecutionContext());
  const headers = ['Content-Type', 'Cache-Control', 'Access-Control-Allow-Origin', 'Vary', 'Allow', 'WWW-Authenticate'].map((name) => [name, response.headers.get(name)]);
  let start = '';
  if (response.body) {
    const reader = response.body.getReader();
    const { value } = await reader.read();
    start = new TextDecoder().decode(value).slice(0, 60).replace(/retry: \d+/, 'retry: N');
    await reader.cancel();
  }
  return { status: response.status, headers, start };
}

async function register(vars: Env, id: string): Promise<string> {
  const response = await app.fetch(new Request(`http://jobcast.test/jobs/${id}`, { method: 'PUT', headers: { Authorization: `Bearer ${SECURED_TOKEN}` } }), vars, createExecutionContext());
  const { subscribeUrl } = (await response.json()) as { subscribeUrl: string };
  return new URL(subscribeUrl, 'http://x').searchParams.get('token') ?? '';
}

describe('a connect answered ahead of the router', () => {
  it('answers every kind of request as the routed handler does', async () => {
    const secured = { ...SECURED_ENV };
    const unsecured = { ...open, API_TOKENS: SECURED_TOKEN };
    const id = newJobId();
    const token = await register(secured, id);
    const openId = newJobId();
    await register(unsecured, openId);
    const rows: [string, string, RequestInit, Env][] = [
      ['a registered job, open mode', `/sse/connect/${openId}`, { headers: ORIGIN }, unsecured],
      ['a resume past the end', `/sse/connect/${openId}?lastEventId=0`, { headers: { ...ORIGIN, 'Last-Event-ID': '5' } }, unsecured],
      ['an unknown job', `/sse/connect/${newJobId()}`, { headers: ORIGIN }, unsecured],
      ['an origin not allowed', `/sse/connect/${openId}`, { headers: { Origin: 'https://evil.example' } }, unsecured],
      ['a valid token', `/sse/connect/${id}?token=${token}`, { headers: ORIGIN }, secured],
      ['a token as bearer', `/sse/connect/${id}`, { headers: { ...ORIGIN, Authorization: `Bearer ${token}` } }, secured],
      ['no token', `/sse/connect/${id}`, { headers: ORIGIN }, secured],
      ["another job's token", `/sse/connect/${newJobId()}?token=${token}`, { headers: ORIGIN }, secured],
      ['an invalid id', '/sse/connect/a%20b', { headers: ORIGIN }, unsecured],
      ['an id with a slash', '/sse/connect/a/b', {}, unsecured],
      ['a percent-encoded valid id', `/sse/connect/${openId.replace('-', '%2D')}`, {}, unsecured],
      ['HEAD', `/sse/connect/${openId}`, { method: 'HEAD' }, unsecured],
      ['a preflight', `/sse/connect/${openId}`, { method: 'OPTIONS', headers: { ...ORIGIN, 'Access-Control-Request-Method': 'GET' } }, unsecured],
      ['an unreadable setting', `/sse/connect/${openId}`, {}, { ...unsecured, HIBERNATE: 'yes' }],
    ];
    for (const [name, path, init, vars] of rows) {
      expect(await answer('worker', path, init, vars), name).toEqual(await answer('app', path, init, vars));
    }
  });
});
