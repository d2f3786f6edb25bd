import { jittered } from '../public/backoff.js';
import { logWarn } from './log';
import { formatComment, SSE_HEADERS } from './sse';

export type RetryReason = 'too_many_subscribers' | 'unavailable' | 'not_configured';

/**
 * The retry hint's ceiling by reason (the hint is half to all of it): a full job frees a slot soon; a
 * failing object may need longer; a setting that cannot be read waits for the operator's deploy.
 */
const RETRY_CEILING_MS: Record<RetryReason, number> = {
  too_many_subscribers: 4000,
  unavailable: 8000,
  not_configured: 15_000,
};

/**
 * The stream route's answer to a condition that will pass. A spec EventSource gives up for good on
 * any status but 200 and 204, so this is a 200 event stream holding only a `retry:` hint (jittered,
 * so a crowd turned away together does not come back together), a comment naming the reason, and a
 * clean end: the browser comes back by itself. No `connect` frame, which would tell the page it is in.
 */
export function retryAnswer(reason: RetryReason, job: string, detail?: string): Response {
  const retry = jittered(RETRY_CEILING_MS[reason]);
  logWarn('stream retry', { job, reason, retry, detail });
  // Each line ends in one newline and no blank line follows: a blank line ends an event, which
  // fetch-based clients hand to the page as an empty message. A spec EventSource applies `retry:`
  // as it reads the line.
  return new Response(`retry: ${retry}\n${formatComment(`retry ${reason}`)}`, { headers: SSE_HEADERS });
}
