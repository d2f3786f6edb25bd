import { expect } from 'vitest';

/** A retry answer: 200, an event stream holding only a jittered retry hint and the reason, then a clean end. */
export async function expectRetryAnswer(response: Response, reason: string, [low, high]: [number, number]): Promise<void> {
  expect(response.status).toBe(200);
  expect(response.headers.get('Content-Type')).toBe('text/event-stream');
  const body = await response.text();
  // No blank line: it would end an event, and reach a fetch-based client as an empty message.
  const match = /^retry: (\d+)\n: retry (\w+)\n$/.exec(body);
  expect(match, body).not.toBeNull();
  expect(match![2]).toBe(reason);
  expect(Number(match![1])).toBeGreaterThanOrEqual(low);
  expect(Number(match![1])).toBeLessThanOrEqual(high);
  expect(body).not.toContain('event: connect');
}
