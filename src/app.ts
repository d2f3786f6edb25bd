import type { Context } from 'hono';
import { HonoBase } from 'hono/hono-base';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { bearerToken, isApiToken, requireApiToken } from './auth';
import { preflightHeaders, withCors } from './cors';
import { refusedOrigins } from './refused-origins';
import { startDemoJob } from './demo';
import { openApiDocument } from './openapi';
import { isValidSubscribeToken, mintSubscribeToken, tokenExpiry } from './subscribe-token';
import { readJsonBody } from './body';
import { readConfig, type AppEnv } from './config';
import { openStream } from './connect';
import { retryAnswer } from './retry';
import { ApiError, ERROR_STATUS, errorResponse, unexpectedError, type ErrorCode } from './errors';
import { JobClient } from './job-protocol';
import { isValidJobId } from './job-id';
import type { Terminal } from './job-state';
import { logError, logInfo } from './log';
import { metrics, routeOf } from './metrics';
import { isAllowedRedirect } from './redirect';
import { CompleteBody, FailBody, ProgressBody, RegisterBody, type Registered } from './schemas';
import { STATIC_FILES, staticRedirect, staticResponse } from './static';

type Ctx = Context<AppEnv>;
type Handler = (c: Ctx) => Promise<Response> | Response;

/**
 * The worker is thin: it checks method, id, credentials and body, then hands the job's object the call.
 * Hono's default router tries RegExpRouter and falls back to a trie for routes it cannot compile; these
 * routes all compile (see JOB_PATH below), so the worker takes RegExpRouter alone and ships no trie.
 */
export const app = new HonoBase<AppEnv>({ router: new RegExpRouter() });

app.use('*', async (c, next) => {
  try {
    c.set('config', readConfig(c.env));
  } catch (error) {
    logError('configuration rejected', { error: String(error) });
    // A spec EventSource stops for good on a 503: a page waiting on the stream route is told to come
    // back instead, and recovers once the operator fixes the setting and deploys.
    const stream = CONNECT_PATH.exec(c.req.path);
    if (stream && c.req.method === 'GET') {
      metrics.retry(c.env, isValidJobId(stream[1]) ? stream[1] : '', 'not_configured');
      return retryAnswer('not_configured', stream[1], String(error));
    }
    throw new ApiError('not_configured', 'The service is misconfigured; its log names the setting.');
  }
  await next();
});

app.all('/healthz', methods({ GET: (c) => c.json({ ok: true }) }));
app.all('/openapi.json', methods({ GET: (c) => c.json(openApiDocument) }));

// Browser routes answer CORS preflights and carry CORS headers on every answer, errors included,
// so that a page on an allowed origin can read a 401 or 404.
app.use('/sse/connect/*', browserCors);
app.use('/jobs/*', browserCors);

// The job id is taken from the path here rather than by route patterns: a pattern that lets an id
// hold a "/" (so that one gets a clear invalid_job_id, not a 404) makes Hono fall back from its
// RegExpRouter to a trie walked on every request, the backend's hot path included.
const JOB_ACTIONS: Record<string, Handler> = {
  progress: methods({ POST: backend('progress', progress) }),
  complete: methods({ POST: backend('complete', (c, id) => finish(c, id, 'result')) }),
  fail: methods({ POST: backend('fail', (c, id) => finish(c, id, 'failed')) }),
  '': methods({ GET: status, PUT: backend('register', register), DELETE: backend('delete', remove) }),
};
// `/jobs/{id}/{action}` with a non-empty id, else `/jobs/{id}` (an id may be empty or hold "/" here).
const JOB_PATH = /^\/jobs\/(?:(.+?)\/(progress|complete|fail)|(.*))$/;
const CONNECT_PATH = /^\/sse\/connect\/(.*)$/;
const connectRoute = methods({ GET: connect });

app.all('/sse/connect/*', (c) => routeJob(c, CONNECT_PATH.exec(c.req.path), () => connectRoute, (match) => match[1]));
app.all('/jobs/*', (c) => routeJob(c, JOB_PATH.exec(c.req.path), (match) => JOB_ACTIONS[match[2] ?? ''], (match) => match[1] ?? match[3]));

app.all(
  '/demo/jobs',
  methods({
    POST: (c) => {
      if (!c.get('config').demoEnabled) throw new ApiError('not_found', 'No such route. See docs/api.md for the routes jobcast serves.');
      return startDemoJob(c, (id) => new JobClient(c.env.JOBS, id));
    },
  }),
);

// The demo pages and the browser client (src/static.ts), after every API route.
app.all('*', (c) => {
  const file = STATIC_FILES.get(c.req.path);
  if (file) {
    const serve: Handler = (c) => staticResponse(file, c.req.raw);
    return methods({ GET: serve, HEAD: serve })(c);
  }
  const page = staticRedirect(c.req.path);
  if (page) return c.redirect(page + new URL(c.req.url).search, 307);
  return errorResponse('not_found', 'No such route. See docs/api.md for the routes jobcast serves.');
});

app.onError((error, c) => {
  refused(c, error instanceof ApiError ? error.code : 'internal_error');
  if (error instanceof ApiError) return errorResponse(error.code, error.message, error.headers);
  return unexpectedError(error, c.req.path, c.req.method);
});

async function browserCors(c: Ctx, next: () => Promise<void>): Promise<Response | void> {
  const origin = c.req.header('Origin') ?? null;
  // Decided by the route the path matches, not by its last segment: `/jobs/complete` is the status
  // route of a job whose id is "complete".
  const isBrowserRoute = c.req.path.startsWith('/sse/connect/') || JOB_PATH.exec(c.req.path)?.[2] === undefined;
  if (!isBrowserRoute) return next();
  refusedOrigins.note(origin, c.req.url, c.get('config'));
  if (c.req.method === 'OPTIONS') return c.body(null, 204, preflightHeaders(origin, c.get('config'), 'GET'));
  await next();
  c.res = withCors(c.res, origin, c.get('config'));
}

/**
 * A job route: the id is what the path holds in its place, percent-decoded as Hono decodes a route
 * parameter, and checked later by `jobId`. The bare prefix (`/jobs`, `/sse/connect`) is no route.
 */
function routeJob(
  c: Ctx,
  match: RegExpExecArray | null,
  handler: (match: RegExpExecArray) => Handler,
  id: (match: RegExpExecArray) => string,
): Response | Promise<Response> {
  if (!match) return errorResponse('not_found', 'No such route. See docs/api.md for the routes jobcast serves.');
  c.set('jobId', decodeParam(id(match)));
  return handler(match)(c);
}

function decodeParam(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // malformed escapes: kept as they are, and refused as an invalid id
  }
}

function methods(handlers: Partial<Record<string, Handler>>): Handler {
  const allow = Object.keys(handlers).join(', ');
  return (c) => {
    const handler = handlers[c.req.method];
    if (!handler) {
      return errorResponse('method_not_allowed', `Use ${allow} on this route.`, { Allow: allow });
    }
    return handler(c);
  };
}

/** What a backend route answers: a JSON body with its status (or a bare 204), and the streams delivered to. */
type BackendAnswer = { status: 200 | 201 | 202; body: object; delivered?: number } | { status: 204; delivered?: undefined };

/** Backend routes: authenticated, given the checked job id, and logged once per call (never with the token). */
function backend(route: string, handler: (c: Ctx, id: string) => Promise<BackendAnswer>): Handler {
  return async (c) => {
    const started = Date.now();
    let response: Response;
    let delivered: number | undefined;
    try {
      requireApiToken(c.req.raw, c.get('config'));
      const answer = await handler(c, jobId(c));
      delivered = answer.delivered;
      response = answer.status === 204 ? c.body(null, 204) : c.json(answer.body, answer.status);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      refused(c, error.code);
      response = errorResponse(error.code, error.message, error.headers);
    }
    if (c.get('config').logLevel !== 'warn') logInfo('backend call', { route, job: c.get('jobId') ?? null, status: response.status, ms: Date.now() - started, delivered });
    return response;
  };
}

/** A refusal's data point: route and code, and the job id when the call named a valid one. */
function refused(c: Ctx, code: ErrorCode): void {
  const id = c.get('jobId') ?? '';
  metrics.refusal(c.env, isValidJobId(id) ? id : '', routeOf(c.req.method, c.req.path), code, ERROR_STATUS[code]);
}

function jobId(c: Ctx): string {
  const id = c.get('jobId') ?? '';
  if (!isValidJobId(id)) {
    throw new ApiError('invalid_job_id', 'Job ids are 1 to 128 characters of A-Z, a-z, 0-9, ".", "_" and "-" (not "." or "..").');
  }
  return id;
}

/**
 * Browser routes: with SIGNING_KEY set, a subscribe token for this job (query `token` or bearer) is
 * required, or, where `acceptApiToken`, an API token. Checked before any object is touched. Returns
 * who is asking: a waiting page (a subscribe token, or in open mode no API token), or a backend.
 */
async function requireSubscriber(c: Ctx, id: string, acceptApiToken: boolean): Promise<'page' | 'backend'> {
  const config = c.get('config');
  const bearer = bearerToken(c.req.raw);
  if (config.signingKey === null) return isApiToken(bearer, config) ? 'backend' : 'page';
  if (await isValidSubscribeToken(config.signingKey, id, c.req.query('token') ?? bearer)) return 'page';
  if (acceptApiToken && isApiToken(bearer, config)) return 'backend';
  throw new ApiError('invalid_token', 'This job needs a valid subscribe token: use the subscribeUrl or statusUrl that registering the job returned.', {
    'WWW-Authenticate': 'Bearer realm="jobcast"',
  });
}

function job(c: Ctx, id: string): JobClient {
  return new JobClient(c.env.JOBS, id);
}

function checkRedirect(c: Ctx, moveUrl: string | undefined): void {
  if (moveUrl !== undefined && !isAllowedRedirect(moveUrl, c.get('config').allowedRedirectOrigins)) {
    throw new ApiError(
      'redirect_not_allowed',
      'moveUrl must be a path starting with a single "/", or an http(s) URL on an origin listed in ALLOWED_REDIRECT_ORIGINS.',
    );
  }
}

async function connect(c: Ctx): Promise<Response> {
  const id = jobId(c);
  await requireSubscriber(c, id, false);
  return openStream(c.env, c.get('config'), id, c.req.header('Last-Event-ID') ?? c.req.query('lastEventId') ?? '');
}

async function status(c: Ctx): Promise<Response> {
  const id = jobId(c);
  const reader = await requireSubscriber(c, id, true);
  return c.json(await job(c, id).status(reader === 'page'));
}

async function register(c: Ctx, id: string): Promise<BackendAnswer> {
  const body = await readJsonBody(c.req.raw, RegisterBody);
  const { created, job: record } = await job(c, id).register(body.ttlSeconds);
  if (created) metrics.registered(c.env, id);
  const { signingKey } = c.get('config');
  const token = signingKey ? await mintSubscribeToken(signingKey, id, tokenExpiry(record, c.get('config'))) : undefined;
  const query = token ? `?token=${token}` : '';
  const registered: Registered = {
    id,
    status: record.status,
    subscribeUrl: `/sse/connect/${id}${query}`,
    statusUrl: `/jobs/${id}${query}`,
    ...(token === undefined ? {} : { token }),
    expiresAt: new Date(record.expiresAt).toISOString(),
  };
  return { status: created ? 201 : 200, body: registered };
}

async function progress(c: Ctx, id: string): Promise<BackendAnswer> {
  const published = await job(c, id).progress(await readJsonBody(c.req.raw, ProgressBody));
  return { status: 202, body: published, delivered: published.delivered };
}

async function finish(c: Ctx, id: string, status: Terminal['status']): Promise<BackendAnswer> {
  const started = Date.now();
  const body = await readJsonBody(c.req.raw, status === 'result' ? CompleteBody : FailBody);
  checkRedirect(c, body.moveUrl);
  const published = await job(c, id).finish({ status, ...body });
  // The object answers once every listener's write was handed to the runtime.
  if (!published.duplicate) metrics.finished(c.env, id, status, published.delivered, Date.now() - started);
  return { status: 200, body: published, delivered: published.delivered };
}

async function remove(c: Ctx, id: string): Promise<BackendAnswer> {
  await job(c, id).remove();
  return { status: 204 };
}
