import { env } from 'cloudflare:workers';
import { listDurableObjectIds } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { mintSubscribeToken } from '../src/subscribe-token';
import { API_TOKEN, call, json, newJobId, progress, register } from './support/http';
import { SECURED_ENV, SECURED_TOKEN, securedCall } from './support/secured';

interface Row {
  name: string;
  method: string;
  /** `{id}` is replaced by the job the row runs against. */
  path: string;
  body?: string | (() => BodyInit);
  headers?: Record<string, string>;
  /** Run against the worker with SIGNING_KEY and allow-lists set; `{token}` is the job's subscribe token. */
  secured?: boolean;
  status: number;
  error: string;
}

const auth = { Authorization: `Bearer ${API_TOKEN}`, 'Content-Type': 'application/json' };
const securedAuth = { Authorization: `Bearer ${SECURED_TOKEN}` };
const withAuth = (headers: Record<string, string>) => ({ ...auth, ...headers });

/** A body that arrives in pieces with no Content-Length, so only counting the bytes can catch it. */
function streamedBody(bytes: number): () => BodyInit {
  return () => {
    let sent = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"moveUrl":"/b","data":{"x":"'));
        const chunk = new Uint8Array(1024).fill(0x61);
        controller.enqueue(chunk);
        sent += chunk.byteLength;
        if (sent >= bytes) {
          controller.enqueue(new TextEncoder().encode('"}}'));
          controller.close();
        }
      },
    });
  };
}

const rows: Row[] = [
  { name: 'id with a space', method: 'PUT', path: '/jobs/a%20b', headers: auth, status: 400, error: 'invalid_job_id' },
  { name: 'id with a slash', method: 'POST', path: '/jobs/a%2Fb/complete', headers: auth, body: '{"moveUrl":"/b"}', status: 400, error: 'invalid_job_id' },
  { name: 'id of 129 characters', method: 'PUT', path: `/jobs/${'a'.repeat(129)}`, headers: auth, status: 400, error: 'invalid_job_id' },
  { name: 'id with unicode', method: 'GET', path: '/sse/connect/%C3%A9', status: 400, error: 'invalid_job_id' },
  { name: 'empty id on connect', method: 'GET', path: '/sse/connect/', status: 400, error: 'invalid_job_id' },
  { name: 'empty id on status', method: 'GET', path: '/jobs/', status: 400, error: 'invalid_job_id' },
  { name: 'id with a nested path', method: 'GET', path: '/sse/connect/a/b', status: 400, error: 'invalid_job_id' },
  { name: 'progress body not JSON', method: 'POST', path: '/jobs/{id}/progress', headers: auth, body: 'progress=1', status: 400, error: 'invalid_body' },
  { name: 'progress missing', method: 'POST', path: '/jobs/{id}/progress', headers: auth, body: '{}', status: 400, error: 'invalid_body' },
  { name: 'progress a string', method: 'POST', path: '/jobs/{id}/progress', headers: auth, body: '{"progress":"0.5"}', status: 400, error: 'invalid_body' },
  { name: 'progress above 1', method: 'POST', path: '/jobs/{id}/progress', headers: auth, body: '{"progress":1.01}', status: 400, error: 'invalid_body' },
  { name: 'progress below 0', method: 'POST', path: '/jobs/{id}/progress', headers: auth, body: '{"progress":-0.1}', status: 400, error: 'invalid_body' },
  { name: 'progress message not a string', method: 'POST', path: '/jobs/{id}/progress', headers: auth, body: '{"progress":0.1,"message":5}', status: 400, error: 'invalid_body' },
  { name: 'body a JSON array', method: 'POST', path: '/jobs/{id}/complete', headers: auth, body: '[1]', status: 400, error: 'invalid_body' },
  { name: 'complete without moveUrl', method: 'POST', path: '/jobs/{id}/complete', headers: auth, body: '{"data":{}}', status: 400, error: 'invalid_body' },
  { name: 'complete data an array', method: 'POST', path: '/jobs/{id}/complete', headers: auth, body: '{"moveUrl":"/b","data":[1]}', status: 400, error: 'invalid_body' },
  { name: 'complete unknown field', method: 'POST', path: '/jobs/{id}/complete', headers: auth, body: '{"moveUrl":"/b","moveURL":"/c"}', status: 400, error: 'invalid_body' },
  { name: 'complete to another host', method: 'POST', path: '/jobs/{id}/complete', headers: auth, body: '{"moveUrl":"https://evil.example/"}', status: 422, error: 'redirect_not_allowed' },
  { name: 'complete to a protocol-relative url', method: 'POST', path: '/jobs/{id}/complete', headers: auth, body: '{"moveUrl":"//evil.example"}', status: 422, error: 'redirect_not_allowed' },
  { name: 'complete to javascript:', method: 'POST', path: '/jobs/{id}/complete', headers: auth, body: '{"moveUrl":"javascript:alert(1)"}', status: 422, error: 'redirect_not_allowed' },
  { name: 'fail to a backslash path', method: 'POST', path: '/jobs/{id}/fail', headers: auth, body: '{"moveUrl":"/\\\\evil.example"}', status: 422, error: 'redirect_not_allowed' },
  { name: 'fail error not a string', method: 'POST', path: '/jobs/{id}/fail', headers: auth, body: '{"error":{}}', status: 400, error: 'invalid_body' },
  { name: 'register ttlSeconds zero', method: 'PUT', path: '/jobs/{new}', headers: auth, body: '{"ttlSeconds":0}', status: 400, error: 'invalid_body' },
  { name: 'register ttlSeconds fractional', method: 'PUT', path: '/jobs/{new}', headers: auth, body: '{"ttlSeconds":1.5}', status: 400, error: 'invalid_body' },
  { name: 'body over 16 KiB', method: 'POST', path: '/jobs/{id}/complete', headers: auth, body: `{"moveUrl":"/b","data":{"x":"${'a'.repeat(17_000)}"}}`, status: 413, error: 'payload_too_large' },
  { name: 'complete without a token', method: 'POST', path: '/jobs/{new}/complete', body: '{"moveUrl":"/b"}', status: 401, error: 'unauthorized' },
  // ids
  { name: 'id "." (normalised to nothing)', method: 'GET', path: '/jobs/%2E', status: 400, error: 'invalid_job_id' },
  { name: 'id with "*"', method: 'DELETE', path: '/jobs/a*b', headers: auth, status: 400, error: 'invalid_job_id' },
  { name: 'id with a NUL', method: 'GET', path: '/jobs/a%00b', status: 400, error: 'invalid_job_id' },
  { name: 'id with "+"', method: 'GET', path: '/sse/connect/a+b', status: 400, error: 'invalid_job_id' },
  { name: 'id with a colon', method: 'POST', path: '/jobs/a:b/progress', headers: auth, body: '{"progress":0.1}', status: 400, error: 'invalid_job_id' },
  { name: 'id with a nested path on complete', method: 'POST', path: '/jobs/a/b/complete', headers: auth, body: '{"moveUrl":"/b"}', status: 400, error: 'invalid_job_id' },
  { name: 'id with a nested path on fail', method: 'POST', path: '/jobs/a/fail/fail', headers: auth, body: '{}', status: 400, error: 'invalid_job_id' },
  { name: 'empty id before an action', method: 'POST', path: '/jobs//complete', headers: auth, body: '{"moveUrl":"/b"}', status: 405, error: 'method_not_allowed' },
  { name: 'a malformed escape in an id', method: 'GET', path: '/jobs/a%ZZb', status: 400, error: 'invalid_job_id' },
  { name: 'the bare jobs prefix', method: 'GET', path: '/jobs', status: 404, error: 'not_found' },
  { name: 'the bare stream prefix', method: 'GET', path: '/sse/connect', status: 404, error: 'not_found' },
  // auth headers
  { name: 'bearer with no token', method: 'PUT', path: '/jobs/{new}', headers: { Authorization: 'Bearer' }, status: 401, error: 'unauthorized' },
  { name: 'a token of another scheme', method: 'PUT', path: '/jobs/{new}', headers: { Authorization: `Token ${API_TOKEN}` }, status: 401, error: 'unauthorized' },
  { name: 'two tokens in one header', method: 'PUT', path: '/jobs/{new}', headers: { Authorization: `Bearer ${API_TOKEN}, ${API_TOKEN}` }, status: 401, error: 'unauthorized' },
  { name: 'a token in the query instead of the header', method: 'DELETE', path: `/jobs/{id}?token=${API_TOKEN}`, status: 401, error: 'unauthorized' },
  { name: 'a subscribe token used on a backend route', method: 'POST', path: '/jobs/{id}/complete', headers: { Authorization: 'Bearer {token}' }, body: '{"moveUrl":"/b"}', secured: true, status: 401, error: 'unauthorized' },
  // subscribe tokens
  { name: 'connect with no subscribe token', method: 'GET', path: '/sse/connect/{id}', secured: true, status: 401, error: 'invalid_token' },
  { name: 'connect with a forged token', method: 'GET', path: '/sse/connect/{id}?token=v1.9999999999.AAAA', secured: true, status: 401, error: 'invalid_token' },
  { name: 'connect with an expired token', method: 'GET', path: '/sse/connect/{id}?token={expiredToken}', secured: true, status: 401, error: 'invalid_token' },
  { name: "connect with another job's token", method: 'GET', path: '/sse/connect/{new}?token={token}', secured: true, status: 401, error: 'invalid_token' },
  { name: 'status with a forged token', method: 'GET', path: '/jobs/{id}?token=garbage', secured: true, status: 401, error: 'invalid_token' },
  { name: 'status with a wrong API token', method: 'GET', path: '/jobs/{id}', headers: { Authorization: 'Bearer nope' }, secured: true, status: 401, error: 'invalid_token' },
  // bodies
  { name: 'body JSON null', method: 'POST', path: '/jobs/{id}/progress', headers: auth, body: 'null', status: 400, error: 'invalid_body' },
  { name: 'body a JSON string', method: 'POST', path: '/jobs/{id}/complete', headers: auth, body: '"/b"', status: 400, error: 'invalid_body' },
  { name: 'truncated JSON', method: 'POST', path: '/jobs/{id}/complete', headers: auth, body: '{"moveUrl":', status: 400, error: 'invalid_body' },
  { name: 'invalid UTF-8', method: 'POST', path: '/jobs/{id}/complete', headers: auth, body: () => new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), status: 400, error: 'invalid_body' },
  { name: 'progress null', method: 'POST', path: '/jobs/{id}/progress', headers: auth, body: '{"progress":null}', status: 400, error: 'invalid_body' },
  { name: 'progress overflowing to Infinity', method: 'POST', path: '/jobs/{id}/progress', headers: auth, body: '{"progress":1e400}', status: 400, error: 'invalid_body' },
  { name: 'message over 1,000 characters', method: 'POST', path: '/jobs/{id}/progress', headers: auth, body: JSON.stringify({ progress: 0.1, message: 'm'.repeat(1001) }), status: 400, error: 'invalid_body' },
  { name: 'moveUrl over 2,048 characters', method: 'POST', path: '/jobs/{id}/complete', headers: auth, body: JSON.stringify({ moveUrl: `/${'a'.repeat(2048)}` }), status: 400, error: 'invalid_body' },
  { name: 'complete data null', method: 'POST', path: '/jobs/{id}/complete', headers: auth, body: '{"moveUrl":"/b","data":null}', status: 400, error: 'invalid_body' },
  { name: 'register ttlSeconds over 30 days', method: 'PUT', path: '/jobs/{new}', headers: auth, body: '{"ttlSeconds":2592001}', status: 400, error: 'invalid_body' },
  { name: 'register ttlSeconds a string', method: 'PUT', path: '/jobs/{new}', headers: auth, body: '{"ttlSeconds":"60"}', status: 400, error: 'invalid_body' },
  { name: 'register unknown field', method: 'PUT', path: '/jobs/{new}', headers: auth, body: '{"ttl":60}', status: 400, error: 'invalid_body' },
  // redirects with an allow-list
  { name: 'an origin off the allow-list', method: 'POST', path: '/jobs/{id}/complete', headers: securedAuth, body: '{"moveUrl":"https://evil.example/"}', secured: true, status: 422, error: 'redirect_not_allowed' },
  { name: 'userinfo before an allowed host', method: 'POST', path: '/jobs/{id}/complete', headers: securedAuth, body: '{"moveUrl":"https://shop.example.com@evil.example/"}', secured: true, status: 422, error: 'redirect_not_allowed' },
  { name: 'a data: URL on fail', method: 'POST', path: '/jobs/{id}/fail', headers: securedAuth, body: '{"moveUrl":"data:text/html,hi"}', secured: true, status: 422, error: 'redirect_not_allowed' },
  // sizes
  { name: 'a streamed body over 16 KiB with no Content-Length', method: 'POST', path: '/jobs/{id}/complete', headers: auth, body: streamedBody(17 * 1024), status: 413, error: 'payload_too_large' },
  { name: 'a body over 16 KiB on register', method: 'PUT', path: '/jobs/{new}', headers: auth, body: `{"ttlSeconds":60${' '.repeat(16 * 1024)}}`, status: 413, error: 'payload_too_large' },
  // methods
  { name: 'PATCH on a job', method: 'PATCH', path: '/jobs/{id}', headers: auth, body: '{}', status: 405, error: 'method_not_allowed' },
  { name: 'POST on the stream', method: 'POST', path: '/sse/connect/{id}', status: 405, error: 'method_not_allowed' },
  { name: 'GET on complete', method: 'GET', path: '/jobs/{id}/complete', status: 405, error: 'method_not_allowed' },
  // content types
  { name: 'a form-encoded body', method: 'POST', path: '/jobs/{id}/complete', headers: withAuth({ 'Content-Type': 'application/x-www-form-urlencoded' }), body: 'moveUrl=%2Fb', status: 400, error: 'invalid_body' },
  { name: 'a multipart body', method: 'POST', path: '/jobs/{id}/complete', headers: withAuth({ 'Content-Type': 'multipart/form-data; boundary=x' }), body: '--x\r\nContent-Disposition: form-data; name="moveUrl"\r\n\r\n/b\r\n--x--', status: 400, error: 'invalid_body' },
];

async function objectCount(): Promise<number> {
  return (await listDurableObjectIds(env.JOBS)).length;
}

describe('bad input gets the contract error and changes nothing', () => {
  for (const row of rows) {
    it(`${row.name}: ${row.status} ${row.error}`, async () => {
      const victim = newJobId('victim');
      await register(victim);
      await progress(victim, { progress: 0.5 });
      const before = await json(await call(`/jobs/${victim}`));
      const objectsBefore = await objectCount();
      const fresh = newJobId('fresh');
      const key = SECURED_ENV.SIGNING_KEY!;
      const now = Math.floor(Date.now() / 1000);
      const fill = (text: string) =>
        text
          .replace('{id}', victim)
          .replace('{new}', fresh)
          .replace('{token}', victimToken)
          .replace('{expiredToken}', expiredToken);
      const victimToken = await mintSubscribeToken(key, victim, now + 3600);
      const expiredToken = await mintSubscribeToken(key, victim, now - 1);
      const headers = Object.fromEntries(Object.entries(row.headers ?? {}).map(([k, v]) => [k, fill(v)]));
      const init: RequestInit = {
        method: row.method,
        headers,
        body: typeof row.body === 'function' ? row.body() : row.body,
      };
      const response = row.secured ? await securedCall(fill(row.path), init) : await call(fill(row.path), init);
      expect(response.status).toBe(row.status);
      expect(response.headers.get('Content-Type')).toMatch(/^application\/json/);
      const body = await json(response);
      expect(body).toEqual({ error: row.error, message: expect.any(String) });
      expect(body.message).not.toMatch(/\bat \w+ \(|Error:/);

      expect(await json(await call(`/jobs/${victim}`))).toEqual(before);
      expect(await objectCount()).toBe(objectsBefore);
    });
  }
});

describe('the object count used above', () => {
  it('does grow when a request is accepted, so the checks above can fail', async () => {
    const before = await objectCount();
    await register(newJobId('fresh'));
    expect(await objectCount()).toBe(before + 1);
  });
});
