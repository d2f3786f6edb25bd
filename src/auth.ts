import { ApiError } from './errors';
import type { Config } from './config';
import { logInfo } from './log';

const encoder = new TextEncoder();

/**
 * The configured tokens as bytes, each zero-padded to one size, made once per configuration. The
 * size is at least COMPARE_BYTES, so it says nothing about the tokens unless one is longer than that.
 */
interface TokenSet {
  size: number;
  tokens: { bytes: Uint8Array; length: number }[];
}
const COMPARE_BYTES = 256;
const tokenSets = new WeakMap<Config, TokenSet>();

function tokenSet(config: Config): TokenSet {
  let set = tokenSets.get(config);
  if (!set) {
    const encoded = config.apiTokens.map((token) => encoder.encode(token));
    const size = Math.max(COMPARE_BYTES, ...encoded.map((bytes) => bytes.byteLength));
    const tokens = encoded.map((bytes) => {
      const padded = new Uint8Array(size);
      padded.set(bytes);
      return { bytes: padded, length: bytes.byteLength };
    });
    set = { size, tokens };
    tokenSets.set(config, set);
  }
  return set;
}

export function bearerToken(request: Request): string | null {
  const header = request.headers.get('Authorization');
  const match = header?.match(/^Bearer[ ]+([^\s]+)\s*$/i);
  return match ? match[1] : null;
}

/**
 * Equal-time check against every configured token: the presented token is written into a buffer of
 * the same fixed size as every configured one and the whole buffers are compared, lengths apart, so
 * neither the content nor the length of a token shows in the timing; every candidate is compared, so
 * neither does the position of a match. Synchronous: no digest per call (BENCHMARKS.md).
 */
export function isApiToken(token: string | null, config: Config): boolean {
  if (token === null) return false;
  const { size, tokens } = tokenSet(config);
  const presented = new Uint8Array(size);
  const { read, written } = encoder.encodeInto(token, presented);
  // A token longer than the buffer was cut short, and can equal none of them.
  const whole = read === token.length;
  let found = false;
  for (const candidate of tokens) {
    const same = crypto.subtle.timingSafeEqual(presented, candidate.bytes);
    if (same && whole && written === candidate.length) found = true;
  }
  return found;
}

let devTokenAnnounced = false;

/** Backend routes: a configured API token, or the dev token under `wrangler dev` with none set. */
export function requireApiToken(request: Request, config: Config): void {
  if (config.apiTokens.length === 0) {
    throw new ApiError('not_configured', 'No API tokens are configured: set the API_TOKENS secret (wrangler secret put API_TOKENS).');
  }
  if (config.usingDevToken && !devTokenAnnounced) {
    devTokenAnnounced = true;
    logInfo('API_TOKENS is unset: local development accepts the documented dev token (see README); deployed workers do not');
  }
  if (!isApiToken(bearerToken(request), config)) {
    throw new ApiError('unauthorized', 'Send a valid API token as "Authorization: Bearer <token>".', {
      'WWW-Authenticate': 'Bearer realm="jobcast"',
    });
  }
}
