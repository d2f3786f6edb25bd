// Verifying jobcast's backend notifications (docs/api.md, "Backend notifications"), as Stripe's
// constructEvent does: the raw body and the Jobcast-Signature header in, the notification out, or an
// error saying which check failed.
import { isValidSignature, parseSignatureHeader, type Notification, type NotificationType } from '../webhook-signature.ts';

export type { Notification, NotificationType };

export type WebhookFailure = 'no_signature' | 'stale' | 'bad_signature' | 'invalid_body';

/** A notification that must not be trusted; `reason` says which check failed. */
export class JobcastWebhookError extends Error {
  readonly reason: WebhookFailure;

  constructor(reason: WebhookFailure, message: string) {
    super(message);
    this.name = 'JobcastWebhookError';
    this.reason = reason;
  }
}

export interface VerifyOptions {
  /** How far `t` may be from now, either way: a finite number ≥ 0. Default 300 (5 minutes). */
  toleranceSeconds?: number;
  /** Now, in Unix seconds (a finite number ≥ 0); for tests. */
  nowSeconds?: number;
}

const TYPES: readonly string[] = ['job.vacated', 'job.expired'] satisfies NotificationType[];

/**
 * Checks a notification's signature over its raw body (the bytes as received: parse it only after
 * this), and that it was signed within `toleranceSeconds` of now, so a captured one cannot be
 * replayed later. `secret` is WEBHOOK_SECRET, or several while it rotates (a signature by any of them
 * passes). Returns the notification; throws `JobcastWebhookError` otherwise, and a `TypeError` for
 * options that would skip a check (a tolerance of `NaN` would accept any age). Deliveries are at
 * least once: drop repeats by `id` (also the `Jobcast-Event-Id` header).
 */
export async function verifyWebhook(
  rawBody: string | Uint8Array,
  signatureHeader: string | null | undefined,
  secret: string | readonly string[],
  { toleranceSeconds = 300, nowSeconds = Math.floor(Date.now() / 1000) }: VerifyOptions = {},
): Promise<Notification> {
  requireSeconds('toleranceSeconds', toleranceSeconds);
  requireSeconds('nowSeconds', nowSeconds);
  const secrets = typeof secret === 'string' ? [secret] : [...secret];
  if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s === '')) {
    throw new TypeError('secret must be a non-empty string, or an array of them.');
  }
  const body = typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody);
  const parsed = signatureHeader ? parseSignatureHeader(signatureHeader) : null;
  if (!parsed) throw new JobcastWebhookError('no_signature', 'No readable Jobcast-Signature header (t=…,v1=…).');
  if (Math.abs(nowSeconds - parsed.timestamp) > toleranceSeconds) {
    throw new JobcastWebhookError('stale', `The signature's time is more than ${toleranceSeconds} s from now: a replay, or a clock that is off.`);
  }
  let valid = false;
  for (const key of secrets) {
    for (const signature of parsed.signatures) valid ||= await isValidSignature(key, parsed.timestamp, body, signature);
  }
  if (!valid) throw new JobcastWebhookError('bad_signature', 'The signature does not match the body: not from jobcast, altered, or signed with another WEBHOOK_SECRET.');
  let notification: Partial<Notification> | null = null;
  try {
    notification = JSON.parse(body) as Partial<Notification>;
  } catch {
    // reported below
  }
  const { id, type, job, at } = notification ?? {};
  if (typeof id !== 'string' || typeof type !== 'string' || !TYPES.includes(type) || typeof job !== 'string' || typeof at !== 'string') {
    throw new JobcastWebhookError('invalid_body', 'A signed body that is not a notification this SDK knows; update the SDK.');
  }
  return { id, type: type as NotificationType, job, at };
}

function requireSeconds(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a finite number of seconds, 0 or more; got ${String(value)}.`);
  }
}
