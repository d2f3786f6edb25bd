import { describe, expect, it } from 'vitest';
import { GIVE_UP_AFTER_MS, notificationBody, retryAt } from '../src/notifications';
import { isValidSignature, parseSignatureHeader, signatureHeader } from '../src/webhook-signature';

const SECRET = 'whsec-0123456789abcdef0123456789abcdef';

describe('notification bodies', () => {
  it('hold an id, the type, the job and the time, in that order', () => {
    const { id, body } = notificationBody('job.vacated', 'order-42', Date.UTC(2026, 11, 2, 8, 0, 0));
    expect(id).toMatch(/^ntf_[0-9a-f-]{36}$/);
    expect(body).toBe(`{"id":"${id}","type":"job.vacated","job":"order-42","at":"2026-12-02T08:00:00.000Z"}`);
  });
});

describe('retries', () => {
  it('back off from about a second, doubling, and give up 10 minutes after the first attempt', () => {
    const first = 1_000_000;
    expect([1, 2, 3].map((n) => retryAt(n, first, first, () => 1)! - first)).toEqual([1000, 2000, 4000]);
    expect(retryAt(20, first, first + 60_000, () => 1)! - (first + 60_000)).toBe(120_000);
    expect(retryAt(9, first, first + GIVE_UP_AFTER_MS - 1, () => 0)).not.toBeNull();
    expect(retryAt(9, first, first + GIVE_UP_AFTER_MS, () => 0)).toBeNull();
  });
});

describe('Jobcast-Signature', () => {
  it('is t and the hex HMAC-SHA256 of "<t>.<body>", as Stripe signs', async () => {
    const header = await signatureHeader(SECRET, 1798761600, '{"a":1}');
    // openssl: printf '1798761600.{"a":1}' | openssl dgst -sha256 -hmac whsec-0123456789abcdef0123456789abcdef
    expect(header).toBe('t=1798761600,v1=7f1e66b8e3a770ae5ed1f213eceae99b2e8286de5fa6c71e7bd9fdab5f7b5ba7');
    expect(parseSignatureHeader(header)).toEqual({ timestamp: 1798761600, signatures: [header.slice(header.indexOf('v1=') + 3)] });
  });

  const rows: [string, string][] = [
    ['no t', 'v1=' + 'a'.repeat(64)],
    ['no v1', 't=1798761600'],
    ['a v1 that is not 64 hex digits', 't=1798761600,v1=abc'],
    ['a t that is not a number', 't=soon,v1=' + 'a'.repeat(64)],
  ];
  it.each(rows)('is unreadable with %s', (_name, header) => {
    expect(parseSignatureHeader(header)).toBeNull();
  });

  it('verifies only the body and time it was made for', async () => {
    const signature = (await signatureHeader(SECRET, 100, 'body')).split('v1=')[1];
    expect(await isValidSignature(SECRET, 100, 'body', signature)).toBe(true);
    expect(await isValidSignature(SECRET, 101, 'body', signature)).toBe(false);
    expect(await isValidSignature(SECRET, 100, 'body ', signature)).toBe(false);
  });
});
