import { env } from 'cloudflare:workers';
import { listDurableObjectIds } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SseReader } from './support/sse-client';
import { newJobId } from './support/http';
import { SECURED_ENV, SECURED_TOKEN, securedBackend, securedCall } from './support/secured';

const objectCount = async () => (await listDurableObjectIds(env.JOBS)).length;

async function registerSecured(id: string): Promise<{ subscribeUrl: string; statusUrl: string; token: string }> {
  const response = await securedBackend('PUT', `/jobs/${id}`);
  expect(response.status).toBe(201);
  return (await response.json()) as { subscribeUrl: string; statusUrl: string; token: string };
}

describe('subscribe tokens with SIGNING_KEY set', () => {
  it('come back in subscribeUrl and statusUrl, and open the stream and the status', async () => {
    const id = newJobId();
    const { subscribeUrl, statusUrl, token } = await registerSecured(id);
    expect(subscribeUrl).toBe(`/sse/connect/${id}?token=${token}`);
    expect(statusUrl).toBe(`/jobs/${id}?token=${token}`);
    expect(token).toMatch(/^v1\.\d+\.[A-Za-z0-9_-]{43}$/);
    const stream = new SseReader(await securedCall(subscribeUrl));
    expect(stream.response.status).toBe(200);
    expect(await stream.next()).toMatchObject({ event: 'connect' });
    await stream.cancel();
    expect((await securedCall(statusUrl)).status).toBe(200);
  });

  it('come back on their own as the register answer\'s token, which opens the stream as a page builds its URL', async () => {
    const id = newJobId();
    const { subscribeUrl, token } = await registerSecured(id);
    expect(token).toBe(new URL(subscribeUrl, 'http://x').searchParams.get('token'));
    const stream = new SseReader(await securedCall(`/sse/connect/${id}?token=${encodeURIComponent(token)}`));
    expect(stream.response.status).toBe(200);
    expect(await stream.next()).toMatchObject({ event: 'connect' });
    await stream.cancel();
  });

  it('are the same on a repeated register', async () => {
    const id = newJobId();
    const first = await registerSecured(id);
    const again = await (await securedBackend('PUT', `/jobs/${id}`)).json();
    expect(again).toMatchObject({ subscribeUrl: first.subscribeUrl, token: first.token });
  });

  it('are required: a missing, forged or other-job token is 401 invalid_token and touches no object', async () => {
    const id = newJobId();
    const other = newJobId();
    const { token } = await registerSecured(id);
    const { token: otherToken } = await registerSecured(other);
    const before = await objectCount();
    const fresh = newJobId();
    for (const path of [
      `/sse/connect/${fresh}`,
      `/sse/connect/${fresh}?token=${token}`,
      `/sse/connect/${id}`,
      `/sse/connect/${id}?token=${otherToken}`,
      `/sse/connect/${id}?token=${token.slice(0, -2)}xx`,
      `/sse/connect/${id}?token=`,
      `/jobs/${id}?token=${otherToken}`,
      `/jobs/${fresh}`,
    ]) {
      const response = await securedCall(path);
      expect(response.status, path).toBe(401);
      expect(response.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
      const body = await response.text();
      expect(JSON.parse(body)).toMatchObject({ error: 'invalid_token' });
      expect(body).not.toContain(token);
    }
    expect(await objectCount()).toBe(before);
  });

  it('may also come as a bearer header, and the status route takes an API token', async () => {
    const id = newJobId();
    const { token } = await registerSecured(id);
    expect((await securedCall(`/jobs/${id}`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await securedCall(`/jobs/${id}`, { headers: { Authorization: `Bearer ${SECURED_TOKEN}` } })).status).toBe(200);
    expect((await securedCall(`/sse/connect/${id}`, { headers: { Authorization: `Bearer ${SECURED_TOKEN}` } })).status).toBe(401);
  });

  it('are not needed in open mode, and none is minted', async () => {
    const id = newJobId();
    const response = await securedBackend('PUT', `/jobs/${id}`);
    const open = await securedCall(`/jobs/${id}`, {}, { SIGNING_KEY: undefined });
    expect(open.status).toBe(200);
    const body = (await (await securedCall(`/jobs/${newJobId()}`, { method: 'PUT', headers: { Authorization: `Bearer ${SECURED_TOKEN}` } }, { SIGNING_KEY: undefined })).json()) as { subscribeUrl: string };
    expect(body.subscribeUrl).not.toContain('token');
    expect(body).not.toHaveProperty('token');
    expect(response.status).toBe(201);
  });
});

describe('API tokens for rotation', () => {
  it('accepts every listed token and refuses one taken off the list', async () => {
    expect((await securedBackend('PUT', `/jobs/${newJobId()}`, undefined, 'rotating-old')).status).toBe(201);
    expect((await securedBackend('PUT', `/jobs/${newJobId()}`, undefined, 'rotating-new')).status).toBe(201);
    const rotated = await securedCall(`/jobs/${newJobId()}`, { method: 'PUT', headers: { Authorization: 'Bearer rotating-old' } }, { API_TOKENS: 'rotating-new' });
    expect(rotated.status).toBe(401);
  });

  it('does not take a prefix, a suffix or another case of a token', async () => {
    for (const header of ['Bearer rotating-ne', 'Bearer rotating-new2', 'Bearer ROTATING-NEW', 'Bearer', 'rotating-new']) {
      const response = await securedCall(`/jobs/${newJobId()}`, { method: 'PUT', headers: { Authorization: header } });
      expect(response.status, header).toBe(401);
    }
    const lowerScheme = await securedCall(`/jobs/${newJobId()}`, { method: 'PUT', headers: { Authorization: 'bearer rotating-new' } });
    expect(lowerScheme.status).toBe(201);
  });
});

describe('redirects', () => {
  it('accepts a completion to an allowed origin and refuses a look-alike with 422', async () => {
    const id = newJobId();
    await registerSecured(id);
    const bad = await securedBackend('POST', `/jobs/${id}/complete`, { moveUrl: 'https://shop.example.com.evil.example/' });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ error: 'redirect_not_allowed' });
    const good = await securedBackend('POST', `/jobs/${id}/complete`, { moveUrl: 'https://shop.example.com/thanks' });
    expect(good.status).toBe(200);
  });
});

describe('CORS on browser routes', () => {
  const origin = 'https://app.example.com';

  it('answers a preflight from an allowed origin', async () => {
    const response = await securedCall(`/sse/connect/${newJobId()}`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'last-event-id' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe(origin);
    expect(response.headers.get('Access-Control-Allow-Methods')).toBe('GET');
    expect(response.headers.get('Access-Control-Allow-Headers')).toMatch(/Last-Event-ID/);
    expect(response.headers.get('Vary')).toBe('Origin');
  });

  it('gives no CORS headers to another origin', async () => {
    const preflight = await securedCall(`/jobs/${newJobId()}`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example' } });
    expect(preflight.headers.get('Access-Control-Allow-Origin')).toBeNull();
    const get = await securedCall(`/jobs/${newJobId()}`, { headers: { Origin: 'https://evil.example' } });
    expect(get.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('puts CORS headers on the stream and on errors, so the page can read them', async () => {
    const id = newJobId();
    const { subscribeUrl } = await registerSecured(id);
    const stream = await securedCall(subscribeUrl, { headers: { Origin: origin } });
    expect(stream.headers.get('Access-Control-Allow-Origin')).toBe(origin);
    expect(stream.headers.get('Content-Type')).toBe('text/event-stream');
    await stream.body?.cancel();
    const denied = await securedCall(`/jobs/${id}`, { headers: { Origin: origin } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('Access-Control-Allow-Origin')).toBe(origin);
  });

  // Regression: CORS used to be decided by the path's last segment, so these jobs' status had none.
  it.each(['complete', 'progress', 'fail'])('puts CORS headers on the status of a job whose id is "%s"', async (id) => {
    const { statusUrl } = await registerSecured(id);
    const status = await securedCall(statusUrl, { headers: { Origin: origin } });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ id, status: 'pending' });
    expect(status.headers.get('Access-Control-Allow-Origin')).toBe(origin);
    const preflight = await securedCall(`/jobs/${id}`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('Access-Control-Allow-Origin')).toBe(origin);
  });

  it('keeps backend routes out of CORS', async () => {
    const response = await securedCall(`/jobs/${newJobId()}/complete`, { method: 'OPTIONS', headers: { Origin: origin } });
    expect(response.status).toBe(405);
    expect(response.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('allows "*" in open mode only', async () => {
    const open = await securedCall('/healthz', {}, { SIGNING_KEY: undefined, ALLOWED_ORIGINS: '*' });
    expect(open.status).toBe(200);
    const star = await securedCall(`/jobs/${newJobId()}`, { headers: { Origin: 'https://any.example' } }, { SIGNING_KEY: undefined, ALLOWED_ORIGINS: '*' });
    expect(star.headers.get('Access-Control-Allow-Origin')).toBe('*');
    const secured = await securedCall('/healthz', {}, { ALLOWED_ORIGINS: '*' });
    expect(secured.status).toBe(503);
    expect(await secured.json()).toMatchObject({ error: 'not_configured' });
  });
});

describe('logs', () => {
  afterEach(() => vi.restoreAllMocks());

  it('never contain an API token or a subscribe token', async () => {
    const lines: string[] = [];
    for (const level of ['log', 'warn', 'error', 'info', 'debug'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
    }
    const id = newJobId();
    const { token, subscribeUrl } = await registerSecured(id);
    await securedCall(subscribeUrl).then((r) => r.body?.cancel());
    await securedCall(`/sse/connect/${id}?token=forged`);
    await securedBackend('POST', `/jobs/${id}/complete`, { moveUrl: '/b' }, 'wrong-token');
    await securedBackend('POST', `/jobs/${id}/complete`, { moveUrl: '/b' });
    expect(lines.some((line) => line.includes('"backend call"'))).toBe(true);
    for (const line of lines) {
      for (const secret of [token, SECURED_TOKEN, 'rotating-old', 'wrong-token', SECURED_ENV.SIGNING_KEY!]) expect(line).not.toContain(secret);
    }
  });
});
