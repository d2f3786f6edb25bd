import { env } from 'cloudflare:workers';
import { listDurableObjectIds } from 'cloudflare:test';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { API_TOKEN, call, newJobId, progress, register } from './support/http';
import { securedCall } from './support/secured';

const validId = fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/).filter((id) => id !== '.' && id !== '..');
const anyId = fc.oneof(
  validId.map((id) => ({ id, raw: false })),
  fc.string({ maxLength: 140 }).map((id) => ({ id, raw: false })),
  fc.stringMatching(/^[!-~]{0,20}$/).map((id) => ({ id, raw: true })),
);
const route = fc.constantFrom(
  ['GET', '/sse/connect/{id}'],
  ['GET', '/jobs/{id}'],
  ['PUT', '/jobs/{id}'],
  ['DELETE', '/jobs/{id}'],
  ['POST', '/jobs/{id}/progress'],
  ['POST', '/jobs/{id}/complete'],
  ['POST', '/jobs/{id}/fail'],
  ['PATCH', '/jobs/{id}'],
  ['OPTIONS', '/jobs/{id}'],
  ['POST', '/{id}'],
);
const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant(`Bearer ${API_TOKEN}`),
  fc.string({ maxLength: 40 }).map((s) => `Bearer ${s}`),
  fc.string({ maxLength: 40 }),
);
const jsonBody = fc.oneof(
  fc.record(
    {
      progress: fc.oneof(fc.double(), fc.string(), fc.constant(null)),
      message: fc.oneof(fc.string(), fc.integer()),
      moveUrl: fc.oneof(fc.webUrl(), fc.string(), fc.constantFrom('/ok', '//evil', '/\\evil', 'javascript:x')),
      data: fc.oneof(fc.object(), fc.array(fc.integer()), fc.constant(null)),
      error: fc.oneof(fc.string(), fc.boolean()),
      ttlSeconds: fc.oneof(fc.integer(), fc.double(), fc.string()),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
).map((value) => JSON.stringify(value) ?? 'null');
const body = fc.oneof(fc.constant(undefined), jsonBody, fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 64 }));
const secured = fc.boolean();

describe('random requests on every route', () => {
  it('never answer 5xx or a stack trace, and a rejected request changes nothing', async () => {
    const victim = newJobId('victim');
    await register(victim);
    await progress(victim, { progress: 0.5 });
    const victimState = async () => {
      const response = await call(`/jobs/${victim}`);
      return { status: response.status, body: await response.text() };
    };

    await fc.assert(
      fc.asyncProperty(route, anyId, fc.boolean(), authorization, body, secured, async ([method, template], { id, raw }, useVictim, auth, payload, isSecured) => {
        const target = useVictim ? victim : raw ? id : encodeURIComponent(id);
        const path = template.replace('{id}', target);
        let request: Request;
        try {
          request = new Request(`http://jobcast.test${path}`, {
            method,
            headers: auth === undefined ? {} : { Authorization: auth },
            body: method === 'GET' || method === 'OPTIONS' ? undefined : payload,
          });
        } catch {
          return; // not a request a client could send
        }
        const objectsBefore = (await listDurableObjectIds(env.JOBS)).length;
        const victimBefore = useVictim ? await victimState() : null;
        const response = isSecured ? await securedCall(path, request) : await call(path, request);
        const text = await response.text();
        expect(response.status, `${method} ${path}`).toBeLessThan(500);
        expect(text).not.toMatch(/\n\s+at |Error:|TypeError|<html/i);
        if (response.status >= 400) {
          const error = JSON.parse(text) as { error: string };
          expect(error).toEqual({ error: expect.any(String), message: expect.any(String) });
          // job_not_found and job_finished are answers from the job's object, which reads and writes nothing.
          if (!['job_not_found', 'job_finished'].includes(error.error)) {
            expect((await listDurableObjectIds(env.JOBS)).length, `${method} ${path} created an object`).toBe(objectsBefore);
          }
          if (victimBefore) expect(await victimState()).toEqual(victimBefore);
        }
      }),
      { numRuns: 300, seed: Number(process.env.FUZZ_SEED ?? 20261124) },
    );
  }, 60_000);
});
