import { backoffDelay } from '../public/backoff.js';
import type { Notification, NotificationType } from './webhook-signature';
import { signatureHeader } from './webhook-signature';

/** A notification waiting in a job's outbox: its body is fixed when it is made, its signature per attempt. */
export interface Outgoing {
  seq: number;
  id: string;
  type: NotificationType;
  body: string;
  /** Attempts made so far. */
  attempts: number;
  /** When it was stored, then when it was first attempted: the retries' 10 minutes run from that. */
  firstAt: number;
  nextAt: number;
  /**
   * A departure's grace rather than a notification: a `job.vacated` (its body made when it is sent)
   * to send at `nextAt` only if the job is still pending and unwatched then. Stored at the departure,
   * it is the grace's only record, and the notification's row once sent.
   */
  tentative?: boolean;
}

/** The grace of a departure whose job is vacated at `endsAt` unless watched again by then. */
export function tentativeVacancy(seq: number, endsAt: number): Outgoing {
  return { seq, id: newNotificationId(), type: 'job.vacated', body: '', attempts: 0, firstAt: endsAt, nextAt: endsAt, tentative: true };
}

function newNotificationId(): string {
  return `ntf_${crypto.randomUUID()}`;
}

/** An answer slower than this counts as a failed attempt. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Retries go on until this long after the first attempt, then the notification is given up. */
export const GIVE_UP_AFTER_MS = 10 * 60_000;
const RETRY_STEPS = { firstMs: 1000, maxMs: 120_000 };

export function notificationBody(type: NotificationType, job: string, at: number, id = newNotificationId()): { id: string; body: string } {
  const notification: Notification = { id, type, job, at: new Date(at).toISOString() };
  return { id: notification.id, body: JSON.stringify(notification) };
}

/** When to try again after failed attempt number `attempts` (1 for the first), or null to give up. */
export function retryAt(attempts: number, firstAt: number, now: number, random = Math.random): number | null {
  if (now - firstAt >= GIVE_UP_AFTER_MS) return null;
  return now + backoffDelay(attempts, random, RETRY_STEPS);
}

/**
 * One attempt: a signed POST, signed also with the previous secret while one rotates out. `status`
 * is the answer's HTTP status, or why there was none. The attempt's timer is cleared when it ends:
 * a pending timer keeps the object in memory, and billed, until it fires.
 */
export async function deliver(
  webhook: { url: string; secret: string; previousSecret: string | null },
  outgoing: Outgoing,
  now: number,
): Promise<{ ok: boolean; status: number | 'timeout' | 'unreachable' }> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, DELIVERY_TIMEOUT_MS);
  const secrets = webhook.previousSecret === null ? [webhook.secret] : [webhook.secret, webhook.previousSecret];
  try {
    const response = await fetch(webhook.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Jobcast-Event-Id': outgoing.id,
        'Jobcast-Signature': await signatureHeader(secrets, Math.floor(now / 1000), outgoing.body),
      },
      body: outgoing.body,
      signal: controller.signal,
      // A redirect is not an acknowledgement: followed, a 301 or 302 would turn the POST into a GET
      // without the body, and a 2xx to that would drop the notification. Stripe does the same.
      redirect: 'manual',
    });
    // The answer's body is not needed; reading it frees the connection.
    await response.body?.cancel();
    return { ok: response.status >= 200 && response.status < 300, status: response.status };
  } catch {
    return { ok: false, status: timedOut ? 'timeout' : 'unreachable' };
  } finally {
    clearTimeout(timer);
  }
}
