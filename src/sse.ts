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

/** A comment line: ignored by EventSource, but it makes the connection write. */
export function formatComment(text: string): string {
  if (/[\r\n]/.test(text)) throw new Error('SSE comment must not contain CR or LF');
  return `: ${text}\n\n`;
}

/** The headers of every event stream jobcast answers. */
export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
} as const;
