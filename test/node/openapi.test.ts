import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from './support/dev-server';

/** Real answers from wrangler dev, checked against the document the service serves about itself. */
let server: DevServer;
let doc: any;
const ajv = new Ajv2020({ strict: false, validateFormats: false });

beforeAll(async () => {
  server = await startDevServer();
  doc = await (await fetch(`${server.url}/openapi.json`)).json();
  ajv.addSchema({ $id: 'doc', components: doc.components } as never);
});
afterAll(async () => {
  await server?.stop();
});

const auth = { Authorization: 'Bearer dev-api-token' };
const jobId = () => `oas-${Math.random().toString(36).slice(2)}`;

/** Validates an answer against the schema the document gives for this path, method and status. */
async function conforms(path: string, method: string, template: string, response: Response): Promise<void> {
  const operation = doc.paths[template][method.toLowerCase()];
  const documented = operation.responses[String(response.status)];
  expect(documented, `${method} ${path} answered ${response.status}, which the document does not list`).toBeDefined();
  const schema = documented.content?.['application/json']?.schema;
  if (!schema) return;
  const ref = String(schema.$ref).replace('#/components/schemas/', '');
  const validate = ajv.getSchema(`doc#/components/schemas/${ref}`)!;
  const body = await response.json();
  expect(validate(body), `${method} ${path}: ${JSON.stringify(validate.errors)}`).toBe(true);
}

describe('GET /openapi.json', () => {
  it('is OpenAPI 3.1 and lists every contract path with its methods', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/sse/connect/{id}', '/jobs/{id}', '/jobs/{id}/progress', '/jobs/{id}/complete', '/jobs/{id}/fail', '/healthz']));
    expect(Object.keys(doc.paths['/jobs/{id}'])).toEqual(['get', 'put', 'delete']);
  });

  it('has schemas strict enough to catch a wrong answer', () => {
    const published = ajv.getSchema('doc#/components/schemas/Published')!;
    expect(published({ eventId: 1, delivered: 0 })).toBe(true);
    expect(published({ eventId: '1', delivered: 0 })).toBe(false);
    expect(ajv.getSchema('doc#/components/schemas/JobView')!({ id: 'x', status: 'done', lastEventId: 0, createdAt: 'now' })).toBe(false);
  });

  it('documents the register answer\'s token as an optional string (a secured service sends it, an open one does not)', () => {
    const registered = ajv.getSchema('doc#/components/schemas/Registered')!;
    const answer = { id: 'x', status: 'pending', subscribeUrl: '/sse/connect/x', statusUrl: '/jobs/x', expiresAt: '2026-01-01T00:00:00.000Z' };
    expect(registered(answer)).toBe(true);
    expect(registered({ ...answer, token: 'v1.1798761600.abc' })).toBe(true);
    expect(registered({ ...answer, token: 42 })).toBe(false);
    expect(doc.components.schemas.Registered.required).not.toContain('token');
  });

  it('describes what the service really answers, successes and errors alike', async () => {
    const id = jobId();
    const call = async (method: string, template: string, path: string, body?: unknown, headers: Record<string, string> = auth) =>
      conforms(path, method, template, await fetch(`${server.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
    await call('PUT', '/jobs/{id}', `/jobs/${id}`);
    await call('PUT', '/jobs/{id}', `/jobs/${id}`, { ttlSeconds: 60 });
    await call('POST', '/jobs/{id}/progress', `/jobs/${id}/progress`, { progress: 0.5, message: 'Half' });
    await call('GET', '/jobs/{id}', `/jobs/${id}`);
    await call('POST', '/jobs/{id}/complete', `/jobs/${id}/complete`, { moveUrl: '/b', data: { n: [1, { a: null }] } });
    await call('POST', '/jobs/{id}/complete', `/jobs/${id}/complete`, { moveUrl: '/b', data: { n: [1, { a: null }] } });
    await call('GET', '/jobs/{id}', `/jobs/${id}`);
    await call('POST', '/jobs/{id}/complete', `/jobs/${id}/complete`, { moveUrl: '/other' });
    await call('POST', '/jobs/{id}/progress', `/jobs/${id}/progress`, { progress: 2 });
    await call('POST', '/jobs/{id}/fail', `/jobs/${jobId()}/fail`, { moveUrl: '//evil' });
    await call('POST', '/jobs/{id}/fail', `/jobs/${jobId()}/fail`, { error: 'x' }, {});
    await call('GET', '/jobs/{id}', `/jobs/${jobId()}`);
    await call('GET', '/sse/connect/{id}', `/sse/connect/${jobId()}`);
    await call('DELETE', '/jobs/{id}', `/jobs/${id}`);
    await call('GET', '/healthz', '/healthz');
    await call('POST', '/demo/jobs', '/demo/jobs', { stepMs: 0 });
  });
});
