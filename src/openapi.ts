import * as z from 'zod/mini';
import { ERROR_STATUS, type ErrorCode } from './errors';
import {
  CompleteBody,
  DemoBody,
  DemoStarted,
  FailBody,
  Health,
  JobView,
  ProgressBody,
  Published,
  Registered,
  RegisterBody,
} from './schemas';

/**
 * The OpenAPI 3.1 document, built from the same zod schemas that check requests, so the two cannot
 * drift apart. Served at GET /openapi.json.
 */
const schemas: Record<string, unknown> = {};

/** A schema for the document: zod's JSON Schema with its `$defs` moved to components. */
function component(name: string, schema: z.ZodMiniType): { $ref: string } {
  const json = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  const { $schema: _dialect, $defs, ...rest } = json as { $schema?: string; $defs?: Record<string, unknown> };
  const rename = (key: string) => `${name}_${key.replace(/^__/, '')}`;
  let text = JSON.stringify(rest);
  for (const key of Object.keys($defs ?? {})) {
    text = text.split(`"#/$defs/${key}"`).join(`"#/components/schemas/${rename(key)}"`);
  }
  for (const [key, def] of Object.entries($defs ?? {})) {
    let defText = JSON.stringify(def);
    for (const other of Object.keys($defs ?? {})) defText = defText.split(`"#/$defs/${other}"`).join(`"#/components/schemas/${rename(other)}"`);
    schemas[rename(key)] = JSON.parse(defText);
  }
  schemas[name] = JSON.parse(text);
  return { $ref: `#/components/schemas/${name}` };
}

const ErrorBody = component(
  'Error',
  z.object({ error: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]), message: z.string() }),
);

function errors(...codes: ErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      { description: list.join(', '), content: { 'application/json': { schema: ErrorBody } } },
    ]),
  );
}

const json = (schema: { $ref: string }, description: string) => ({ description, content: { 'application/json': { schema } } });
const body = (schema: { $ref: string }, required = true) => ({ required, content: { 'application/json': { schema } } });
const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The job id: 1 to 128 of A-Z a-z 0-9 . _ - (not "." or "..").',
  schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' },
};
const tokenParameter = { name: 'token', in: 'query', required: false, description: 'Subscribe token (required when SIGNING_KEY is set).', schema: { type: 'string' } };
const backend = [{ apiToken: [] }];
const backendErrors = ['invalid_job_id', 'unauthorized', 'payload_too_large', 'invalid_body', 'not_configured'] as const;

const registered = component('Registered', Registered);
const published = component('Published', Published);
const jobView = component('JobView', JobView);

function finishOperation(summary: string, requestSchema: { $ref: string }) {
  return {
    post: {
      summary,
      parameters: [idParameter],
      security: backend,
      requestBody: body(requestSchema),
      responses: { '200': json(published, 'Stored, then sent.'), ...errors(...backendErrors, 'redirect_not_allowed', 'job_finished') },
    },
  };
}

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'jobcast',
    version: '1.0.0',
    description: 'Tell a waiting browser page over Server-Sent Events that a backend job has finished. See docs/api.md.',
  },
  paths: {
    '/sse/connect/{id}': {
      get: {
        summary: 'Wait for a job over Server-Sent Events',
        parameters: [
          idParameter,
          tokenParameter,
          { name: 'lastEventId', in: 'query', required: false, schema: { type: 'string' }, description: 'Resume point for a first connection.' },
          { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } },
        ],
        responses: {
          '200': {
            description:
              'The event stream: connect, replay, live events, `: ping` heartbeats. Or a retry answer (the stream cap, an unavailable object): only a `retry:` hint and `: retry <reason>`, then a clean end.',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          '204': { description: 'The resume point is at or past the terminal event.' },
          ...errors('invalid_job_id', 'invalid_token', 'job_not_found', 'not_configured'),
        },
      },
    },
    '/jobs/{id}': {
      get: {
        summary: 'A job’s state (the polling fallback)',
        parameters: [idParameter, tokenParameter],
        security: [{}, { apiToken: [] }, { subscribeToken: [] }],
        responses: { '200': json(jobView, 'The job.'), ...errors('invalid_job_id', 'invalid_token', 'job_not_found', 'not_configured') },
      },
      put: {
        summary: 'Register a job (idempotent)',
        parameters: [idParameter],
        security: backend,
        requestBody: body(component('RegisterBody', RegisterBody), false),
        responses: { '200': json(registered, 'It existed already.'), '201': json(registered, 'Registered.'), ...errors(...backendErrors) },
      },
      delete: {
        summary: 'Delete a job and end its streams',
        parameters: [idParameter],
        security: backend,
        responses: { '204': { description: 'Deleted, or there was nothing to delete.' }, ...errors('invalid_job_id', 'unauthorized', 'not_configured') },
      },
    },
    '/jobs/{id}/progress': {
      post: {
        summary: 'Report progress',
        parameters: [idParameter],
        security: backend,
        requestBody: body(component('ProgressBody', ProgressBody)),
        responses: { '202': json(published, 'Sent.'), ...errors(...backendErrors, 'job_not_found', 'job_finished') },
      },
    },
    '/jobs/{id}/complete': finishOperation('Complete a job (idempotent; works before registration)', component('CompleteBody', CompleteBody)),
    '/jobs/{id}/fail': finishOperation('Fail a job (idempotent; works before registration)', component('FailBody', FailBody)),
    '/healthz': { get: { summary: 'Liveness', responses: { '200': json(component('Health', Health), 'Up.') } } },
    '/demo/jobs': {
      post: {
        summary: 'Start a demo job (wrangler dev, or DEMO_ENABLED=true)',
        requestBody: body(component('DemoBody', DemoBody), false),
        responses: { '201': json(component('DemoStarted', DemoStarted), 'Started.'), ...errors('invalid_body', 'not_found') },
      },
    },
    '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': {} } } } } },
  },
  components: {
    schemas,
    securitySchemes: {
      apiToken: { type: 'http', scheme: 'bearer', description: 'One of API_TOKENS.' },
      subscribeToken: { type: 'apiKey', in: 'query', name: 'token', description: 'A subscribe token from register (docs/api.md).' },
    },
  },
};
