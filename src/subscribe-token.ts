/**
 * Subscribe tokens: `v1.<expiry>.<signature>`, where expiry is Unix seconds and signature is the
 * base64url (no padding) HMAC-SHA256, keyed with SIGNING_KEY, of the UTF-8 text
 * "jobcast-subscribe-v1\n<job id>\n<expiry>". A job id has no line breaks, so the text is unambiguous.
 * Verifying needs the key and the clock, never storage.
 */
const PREFIX = 'v1';
const encoder = new TextEncoder();

function signedText(jobId: string, expiresAt: number): Uint8Array<ArrayBuffer> {
  // A copy typed as owning its buffer, which the DOM's WebCrypto types ask for (the SDK builds with them).
  return Uint8Array.from(encoder.encode(`jobcast-subscribe-v1\n${jobId}\n${expiresAt}`));
}

async function hmacKey(signingKey: string, usage: 'sign' | 'verify'): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(signingKey), { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);
}

export function toBase64Url(bytes: ArrayBuffer): string {
  let binary = '';
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

/**
 * When a registered job's tokens expire, in Unix seconds: when its state is deleted at the latest,
 * RESULT_TTL_SECONDS after its ttl, so a page that reconnects after the job expired still gets the
 * expiry's result.
 */
export function tokenExpiry(job: { expiresAt: number }, config: { resultTtlSeconds: number }): number {
  return Math.floor(job.expiresAt / 1000) + config.resultTtlSeconds;
}

/** A token for `jobId` that is valid until `expiresAt` (Unix seconds). */
export async function mintSubscribeToken(signingKey: string, jobId: string, expiresAt: number): Promise<string> {
  const signature = await crypto.subtle.sign('HMAC', await hmacKey(signingKey, 'sign'), signedText(jobId, expiresAt));
  return `${PREFIX}.${expiresAt}.${toBase64Url(signature)}`;
}

/** True only for an unexpired token for this job, now: what a browser route asks of a token it was given. */
export async function isValidSubscribeToken(signingKey: string, jobId: string, token: string | null | undefined): Promise<boolean> {
  return !!token && verifySubscribeToken(signingKey, jobId, token, Math.floor(Date.now() / 1000));
}

/** True only for an unexpired token minted with this key for this job. */
export async function verifySubscribeToken(
  signingKey: string,
  jobId: string,
  token: string,
  nowSeconds: number,
): Promise<boolean> {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX || !/^\d{1,12}$/.test(parts[1])) return false;
  const expiresAt = Number(parts[1]);
  if (expiresAt <= nowSeconds) return false;
  const signature = fromBase64Url(parts[2]);
  if (!signature || signature.byteLength !== 32) return false;
  // crypto.subtle.verify compares in constant time.
  return crypto.subtle.verify('HMAC', await hmacKey(signingKey, 'verify'), signature, signedText(jobId, expiresAt));
}
