/**
 * Backend notifications' signatures, shared by the service (which signs) and the SDK (which checks):
 * `Jobcast-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with
 * WEBHOOK_SECRET>`, as Stripe signs its webhooks. The body is signed as sent, byte for byte, so a
 * receiver must check the raw body before parsing it.
 */
const encoder = new TextEncoder();

export type NotificationType = 'job.vacated' | 'job.expired';

/** What a notification's body holds. */
export interface Notification {
  /** The notification's id, also in `Jobcast-Event-Id`: the same on every retry of it. */
  id: string;
  type: NotificationType;
  /** The job's id. */
  job: string;
  /** When it happened, ISO 8601. */
  at: string;
}

function hmacKey(secret: string, usage: 'sign' | 'verify'): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);
}

function signed(timestamp: number, body: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(encoder.encode(`${timestamp}.${body}`));
}

/**
 * The `Jobcast-Signature` header for `body` sent at `timestamp` (Unix seconds): one `v1` per secret,
 * in the order given (the current secret, then one being rotated out).
 */
export async function signatureHeader(secrets: string | readonly string[], timestamp: number, body: string): Promise<string> {
  let header = `t=${timestamp}`;
  for (const secret of typeof secrets === 'string' ? [secrets] : secrets) {
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret, 'sign'), signed(timestamp, body)));
    header += `,v1=${Array.from(mac, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
  }
  return header;
}

/** `t` and every `v1` of a header (a receiver may be sent several signatures while a secret rotates). */
export function parseSignatureHeader(header: string): { timestamp: number; signatures: string[] } | null {
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [name, value = ''] = part.trim().split('=', 2);
    if (name === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    if (name === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  return timestamp === null || signatures.length === 0 ? null : { timestamp, signatures };
}

/** True when `signature` (hex) is the HMAC of `body` at `timestamp`; compared in constant time. */
export async function isValidSignature(secret: string, timestamp: number, body: string, signature: string): Promise<boolean> {
  const bytes = Uint8Array.from(signature.match(/../g) ?? [], (pair) => parseInt(pair, 16));
  return crypto.subtle.verify('HMAC', await hmacKey(secret, 'verify'), bytes, signed(timestamp, body));
}
