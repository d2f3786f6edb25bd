import { ApiError } from './errors';
import type { Config } from './config';
import { logInfo } from './log';

const encoder = new TextEncoder();

const sha256 = (text: string) => crypto.subtle.digest('SHA-256', encoder.encode(text));

/** The configured tokens' hashes, made once per configuration rather than on every call. */
const tokenHashes = new WeakMap<Config, ArrayBuffer[]>();

export function bearerToken(request: Request): string | null {
  const header = request.headers.get('Authorization');
  const match = header?.match(/^Bearer[ ]+([^\s]+)\s*$/i);
  return match ? match[1] : null;
}

/**
 * Equal-time check against every configured token: both sides are compared as SHA-256 hashes, so
 * neither the length nor the content of a token shows in the timing, and every candidate is compared,
 * so neither does the position of a match.
 */
export async function isApiToken(token: string | null, config: Config): Promise<boolean> {
  if (token === null) return false;
  let candidates = tokenHashes.get(config);
  if (!candidates) {
    // Kept as values, not as a promise: a promise made in one request is not awaited in another.
    candidates = await Promise.all(config.apiTokens.map(sha256));
    tokenHashes.set(config, candidates);
  }
  const presented = await sha256(token);
  let found = false;
  for (const candidate of candidates) {
    if (crypto.subtle.timingSafeEqual(presented, candidate)) found = true;
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
