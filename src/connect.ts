import { bearerToken } from './auth';
import type { Config, Env } from './config';
import { readConfig } from './config';
import { withCors } from './cors';
import { ERROR_STATUS, unexpectedError } from './errors';
import { isValidJobId } from './job-id';
import { JobClient } from './job-protocol';
import { metrics, routeOf } from './metrics';
import { relay } from './relay';
import { retryAnswer, type RetryReason } from './retry';
import { isValidSubscribeToken } from './subscribe-token';

/**
 * A browser's stream, once its request is known to be good: the object's answer (its stream, or in
 * hibernate mode a socket the worker relays), or a retry answer when the object cannot take it now.
 */
export async function openStream(env: Env, config: Config, id: string, lastEventId: string): Promise<Response> {
  let answer: Response;
  try {
    answer = await new JobClient(env.JOBS, id).connect(lastEventId, config.hibernate);
  } catch (error) {
    // The object could not be reached or failed (overloaded, reset, an internal error): it will pass.
    return retry(env, 'unavailable', id, String(error));
  }
  if (answer.status === ERROR_STATUS.too_many_subscribers) return retry(env, 'too_many_subscribers', id);
  if (answer.status >= 500) return retry(env, 'unavailable', id, `status ${answer.status}`);
  if (answer.status === ERROR_STATUS.job_not_found) metrics.refusal(env, id, CONNECT_ROUTE, 'job_not_found', answer.status);
  return answer.webSocket ? relay(answer.webSocket, config) : answer;
}

const CONNECT_ROUTE = routeOf('GET', '/sse/connect/');

/** A retry answer, and its data point. */
function retry(env: Env, reason: RetryReason, id: string, detail?: string): Response {
  metrics.retry(env, id, reason);
  return retryAnswer(reason, id, detail);
}

/** One path segment with no escapes; isValidJobId has the rest of the id rule. */
const PLAIN_CONNECT = /^\/sse\/connect\/([^/%]+)$/;

/**
 * `GET /sse/connect/:id` ahead of the router, when everything about it is in order: a readable
 * configuration, a plain valid id and, with SIGNING_KEY, a valid token. It answers as the routed
 * handler does (src/app.ts), CORS headers included; anything else returns null and takes the routed
 * path, which gives every error its answer. Each connect is a worker request (in hibernate mode
 * each holds a relay), and the router's middleware and dispatch were about a third of a connect's
 * CPU against the relay floor's (BENCHMARKS.md).
 */
export async function fastConnect(request: Request, env: Env): Promise<Response | null> {
  if (request.method !== 'GET') return null;
  const { url } = request;
  const pathStart = url.indexOf('/', url.indexOf('://') + 3);
  const queryStart = url.indexOf('?', pathStart);
  const id = PLAIN_CONNECT.exec(url.slice(pathStart, queryStart < 0 ? undefined : queryStart))?.[1];
  if (id === undefined || !isValidJobId(id)) return null;
  let config: Config;
  try {
    config = readConfig(env);
  } catch {
    return null;
  }
  const query = queryStart < 0 ? null : new URLSearchParams(url.slice(queryStart + 1));
  if (config.signingKey !== null) {
    if (!(await isValidSubscribeToken(config.signingKey, id, query?.get('token') ?? bearerToken(request)))) return null;
  }
  let response: Response;
  try {
    response = await openStream(env, config, id, request.headers.get('Last-Event-ID') ?? query?.get('lastEventId') ?? '');
  } catch (error) {
    response = unexpectedError(error, url.slice(pathStart, queryStart < 0 ? undefined : queryStart), 'GET');
    metrics.refusal(env, id, CONNECT_ROUTE, 'internal_error', response.status);
  }
  return withCors(response, request.headers.get('Origin'), config);
}
