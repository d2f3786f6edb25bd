import { describe, expect, it } from 'vitest';
import { verifyWebhook } from '../src/sdk/webhook';
import { parseSignatureHeader, signatureHeader } from '../src/webhook-signature';

const CURRENT = 'whsec-current-0123456789abcdef0123456789';
const PREVIOUS = 'whsec-previous-0123456789abcdef012345678';
const BODY = '{"id":"ntf_1","type":"job.vacated","job":"42","at":"2026-12-02T08:00:00.000Z"}';
const T = 1_798_761_600;

describe('verifyWebhook options', () => {
  // Regression: `Math.abs(Δ) > NaN` is false, so toleranceSeconds: Number(undefined) skipped the age check.
  const bad: [string, object][] = [
    ['a NaN tolerance', { toleranceSeconds: Number(undefined) }],
    ['a negative tolerance', { toleranceSeconds: -1 }],
    ['an infinite tolerance', { toleranceSeconds: Infinity }],
    ['a tolerance given as text', { toleranceSeconds: '300' }],
    ['a NaN now', { nowSeconds: NaN }],
    ['a negative now', { nowSeconds: -5 }],
  ];
  it.each(bad)('refuse %s with a TypeError, before any check', async (_name, options) => {
    const header = await signatureHeader(CURRENT, 1_000_000_000, BODY); // signed in 2001
    await expect(verifyWebhook(BODY, header, CURRENT, options)).rejects.toBeInstanceOf(TypeError);
  });

  it('refuse an empty secret, or an empty list of them', async () => {
    const header = await signatureHeader(CURRENT, T, BODY);
    await expect(verifyWebhook(BODY, header, '', { nowSeconds: T })).rejects.toBeInstanceOf(TypeError);
    await expect(verifyWebhook(BODY, header, [], { nowSeconds: T })).rejects.toBeInstanceOf(TypeError);
  });

  it('still refuse a signature from 2001 with the default tolerance', async () => {
    const header = await signatureHeader(CURRENT, 1_000_000_000, BODY);
    await expect(verifyWebhook(BODY, header, CURRENT)).rejects.toMatchObject({ reason: 'stale' });
  });
});

describe('rotating WEBHOOK_SECRET', () => {
  it('signs with the current secret, then the previous one, each a v1 of its own', async () => {
    const header = await signatureHeader([CURRENT, PREVIOUS], T, BODY);
    const [current, previous] = parseSignatureHeader(header)!.signatures;
    expect(header).toBe(`t=${T},v1=${current},v1=${previous}`);
    expect(`t=${T},v1=${current}`).toBe(await signatureHeader(CURRENT, T, BODY));
    expect(`t=${T},v1=${previous}`).toBe(await signatureHeader(PREVIOUS, T, BODY));
  });

  it('lets a receiver holding either secret, or both, verify a notification signed during the rotation', async () => {
    const header = await signatureHeader([CURRENT, PREVIOUS], T, BODY);
    for (const secret of [CURRENT, PREVIOUS, [PREVIOUS, CURRENT]]) {
      expect(await verifyWebhook(BODY, header, secret, { nowSeconds: T })).toMatchObject({ id: 'ntf_1', job: '42' });
    }
    await expect(verifyWebhook(BODY, header, 'whsec-other-0123456789abcdef0123456789ab', { nowSeconds: T })).rejects.toMatchObject({ reason: 'bad_signature' });
  });

  it('lets a receiver that already holds both secrets verify a notification signed with the old one only', async () => {
    const header = await signatureHeader(PREVIOUS, T, BODY);
    expect(await verifyWebhook(BODY, header, [CURRENT, PREVIOUS], { nowSeconds: T })).toMatchObject({ type: 'job.vacated' });
  });
});
