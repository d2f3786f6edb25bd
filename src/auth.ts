import { ApiError } from './errors';
import type { Config } from './config';
import { logInfo } from './log';

const encoder = new TextEncoder();

/** Equal-time comparison: both sides are hashed first, so neither length nor content leaks. */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [hashA, hashB] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(a)),
    crypto.subtle.digest('SHA-256', encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(hashA, hashB);
}

export function bearerToken(request: Request): string | null {
  const header = request.headers.get('Authorization');
  const match = header?.match(/^Bearer[ ]+([^\s]+)\s*$/i);
  return match ? match[1] : null;
}

export async function isApiToken(token: string | null, config: Config): Promise<boolean> {
  if (token === null) return false;
  let found = false;
  for (const candidate of config.apiTokens) {
    // Every candidate is compared, so the position of a match does not show in the timing.
    if (await constantTimeEqual(token, candidate)) found = true;
  }
  return found;
}

let devTokenAnnounced = false;

/** Backend routes: a configured API token, or the dev token under `wrangler dev` with none set. */
export async function requireApiToken(request: Request, config: Config): Promise<void> {
  if (config.apiTokens.length === 0) {
    throw new ApiError('not_configured', 'No API tokens are configured: set the API_TOKENS secret (wrangler secret put API_TOKENS).');
  }
  if (config.usingDevToken && !devTokenAnnounced) {
    devTokenAnnounced = true;
    logInfo('API_TOKENS is unset: local development accepts the documented dev token (see README); deployed workers do not');
  }
  if (!(await isApiToken(bearerToken(request), config))) {
    throw new ApiError('unauthorized', 'Send a valid API token as "Authorization: Bearer <token>".', {
      'WWW-Authenticate': 'Bearer realm="jobcast"',
    });
  }
}
