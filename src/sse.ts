/** The Server-Sent Events wire format (WHATWG HTML §9.2), and nothing else. */
export interface SseMessage {
  id?: string | number;
  event?: string;
  data: string;
  retry?: number;
}

const LINE_BREAK = /\r\n|\r|\n/;

function field(name: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`SSE ${name} must not contain CR or LF`);
  return `${name}: ${value}\n`;
}

export function formatMessage(message: SseMessage): string {
  let out = '';
  if (message.retry !== undefined) {
    if (!Number.isSafeInteger(message.retry) || message.retry < 0) {
      throw new Error('SSE retry must be a non-negative whole number');
    }
    out += `retry: ${message.retry}\n`;
  }
  if (message.id !== undefined) out += field('id', String(message.id));
  if (message.event !== undefined) out += field('event', message.event);
  for (const line of message.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return out + '\n';
}

/**
 * A lone comment line, ignored by EventSource, that makes the connection write. No blank line after
 * it: a blank line is an event boundary, and fetch-based clients (@microsoft/fetch-event-source) hand
 * each one to the page as an empty message, which a handler that parses `data` throws on.
 */
export function formatComment(text: string): string {
  if (/[\r\n]/.test(text)) throw new Error('SSE comment must not contain CR or LF');
  return `: ${text}\n`;
}

/** The headers of every event stream jobcast answers. */
export const SSE_HEADERS = {
  // No parameter: the format is always UTF-8, and clients that compare the header to exactly
  // 'text/event-stream' (the pattern in @microsoft/fetch-event-source's README) refuse any other.
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
} as const;
