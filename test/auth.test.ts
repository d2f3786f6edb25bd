import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { isApiToken } from '../src/auth';
import { readConfig, type Env } from '../src/config';

const configWith = (tokens: string[]) => readConfig({ JOBS: env.JOBS, API_TOKENS: tokens.join(',') } as Env);

describe('isApiToken', () => {
  const long = 'L'.repeat(300);
  const config = configWith(['short', 'shorter', 'ümlaut-ß', long]);

  it('takes every configured token, whatever its length or characters', () => {
    for (const token of ['short', 'shorter', 'ümlaut-ß', long]) expect(isApiToken(token, config), token.slice(0, 12)).toBe(true);
  });

  it('takes no prefix, extension or padded form of one', () => {
    const refused = ['shor', 'shortest', 'short\u0000', 'short\u0000\u0000', '', 'ümlaut-', 'ümlaut-ß\u0000'];
    for (const token of refused) expect(isApiToken(token, config), JSON.stringify(token)).toBe(false);
    expect(isApiToken(null, config)).toBe(false);
  });

  it('compares a token longer than the fixed buffer in full', () => {
    expect(isApiToken(long.slice(0, -1), config)).toBe(false);
    expect(isApiToken(`${long}L`, config)).toBe(false);
    expect(isApiToken(`${long.slice(0, -1)}M`, config)).toBe(false);
    // Longer than every buffer: cut short when written, so it can equal nothing.
    expect(isApiToken('L'.repeat(1000), config)).toBe(false);
    expect(isApiToken('s'.repeat(257), configWith(['s'.repeat(256)]))).toBe(false);
    expect(isApiToken('s'.repeat(256), configWith(['s'.repeat(256)]))).toBe(true);
  });

  it('refuses everything when no token is configured', () => {
    const none = readConfig({ JOBS: env.JOBS } as Env);
    expect(none.apiTokens).toEqual([]);
    expect(isApiToken('', none)).toBe(false);
    expect(isApiToken('anything', none)).toBe(false);
  });
});
