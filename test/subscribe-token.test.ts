import { describe, expect, it } from 'vitest';
import { mintSubscribeToken, verifySubscribeToken } from '../src/subscribe-token';

const KEY = 'test-signing-key-0123456789abcdef';
const EXP = 1_798_761_600; // 2027-01-01T00:00:00Z
const NOW = EXP - 60;

describe('subscribe tokens', () => {
  it('match the test vector in docs/api.md', async () => {
    expect(await mintSubscribeToken(KEY, 'order-42', EXP)).toBe('v1.1798761600.leldmoQ0kQX4WBbuOJH4Fq38_Bj-0yVA-OCeeMbyDHQ');
  });

  it('verify for their own job before they expire', async () => {
    const token = await mintSubscribeToken(KEY, 'order-42', EXP);
    expect(await verifySubscribeToken(KEY, 'order-42', token, NOW)).toBe(true);
  });

  const rejected: [string, (token: string) => string, string?, number?][] = [
    ['another job', (t) => t, 'order-43'],
    ['expired', (t) => t, undefined, EXP],
    ['a later expiry written in', (t) => t.replace(String(EXP), String(EXP + 3600))],
    ['a flipped signature character', (t) => t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A')],
    ['a truncated signature', (t) => t.slice(0, -4)],
    ['no version', (t) => t.slice(3)],
    ['another version', (t) => 'v2' + t.slice(2)],
    ['an empty string', () => ''],
    ['padding added', (t) => `${t}=`],
    ['standard base64 characters', (t) => t.replace(/_/g, '/').replace(/-/g, '+') + (/[-_]/.test(t) ? '' : '+')],
    ['an extra part', (t) => `${t}.x`],
    ['a non-numeric expiry', (t) => t.replace(String(EXP), 'soon')],
  ];
  for (const [name, alter, job = 'order-42', now = NOW] of rejected) {
    it(`reject ${name}`, async () => {
      const token = alter(await mintSubscribeToken(KEY, 'order-42', EXP));
      expect(await verifySubscribeToken(KEY, job, token, now)).toBe(false);
    });
  }

  it('reject a token signed with another key', async () => {
    const token = await mintSubscribeToken('other-key', 'order-42', EXP);
    expect(await verifySubscribeToken(KEY, 'order-42', token, NOW)).toBe(false);
  });
});
