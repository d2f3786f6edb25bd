import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../src/app';
import type { Env } from '../src/config';
import { call, connect } from './support/http';

const deployed = { ...(env as unknown as Env), JOBCAST_LOCAL_DEV: 'false' };

describe('the demo backend', () => {
  it('does not exist in a deployed worker unless DEMO_ENABLED is true', async () => {
    const response = await call('/demo/jobs', { method: 'POST' });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'not_found' });
  });

  for (const [name, vars] of [
    ['under wrangler dev', { JOBCAST_LOCAL_DEV: 'true' }],
    ['with DEMO_ENABLED=true', { DEMO_ENABLED: 'true' }],
  ] as const) {
    it(`runs a job through progress to its result ${name}`, async () => {
      const ctx = createExecutionContext();
      const response = await app.request('/demo/jobs', { method: 'POST', body: '{"stepMs":0}' }, { ...deployed, ...vars }, ctx);
      expect(response.status).toBe(201);
      const { id, subscribeUrl } = (await response.json()) as { id: string; subscribeUrl: string };
      expect(id).toMatch(/^demo-/);
      await waitOnExecutionContext(ctx);
      const frames = await (await connect(id)).rest();
      expect(frames.map((f) => f.event)).toEqual(['connect', 'progress', 'result']);
      expect(JSON.parse(frames[2].data!)).toMatchObject({ status: 'result', moveUrl: `/done?id=${id}`, data: { invoice: expect.any(String) } });
      expect(subscribeUrl).toBe(`/sse/connect/${id}`);
    });
  }

  it('fails the job when asked to', async () => {
    const ctx = createExecutionContext();
    const response = await app.request('/demo/jobs', { method: 'POST', body: '{"outcome":"failed","stepMs":0}' }, { ...deployed, DEMO_ENABLED: 'true' }, ctx);
    const { id } = (await response.json()) as { id: string };
    await waitOnExecutionContext(ctx);
    const status = await (await call(`/jobs/${id}`)).json();
    expect(status).toMatchObject({ status: 'failed', error: expect.stringContaining('declined') });
  });

  it('rejects a bad body with 400 invalid_body', async () => {
    const response = await app.request('/demo/jobs', { method: 'POST', body: '{"outcome":"maybe"}' }, { ...deployed, DEMO_ENABLED: 'true' }, createExecutionContext());
    expect(response.status).toBe(400);
  });
});
