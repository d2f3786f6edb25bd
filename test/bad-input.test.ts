import { env } from 'cloudflare:workers';
import { listDurableObjectIds } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { API_TOKEN, call, json, newJobId, progress, register } from './support/http';

interface Row {
  name: string;
  method: string;
  /** `{id}` is replaced by the job the row runs against. */
  path: string;
  body?: string;
  headers?: Record<string, string>;
  status: number;
  error: string;
}

const auth = { Authorization: `Bearer ${API_TOKEN}`, 'Content-Type': 'application/json' };

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
      const path = row.path.replace('{id}', victim).replace('{new}', fresh);

      const response = await call(path, { method: row.method, headers: row.headers, body: row.body });
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
