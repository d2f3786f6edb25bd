import { describe, expect, it } from 'vitest';
import { formatComment, formatMessage, type SseMessage } from '../src/sse';

describe('formatMessage writes exact SSE bytes', () => {
  const cases: { name: string; input: SseMessage; want: string }[] = [
    { name: 'data only', input: { data: 'hello' }, want: 'data: hello\n\n' },
    { name: 'id, event and data in that order', input: { data: '{}', event: 'result', id: 4 }, want: 'id: 4\nevent: result\ndata: {}\n\n' },
    { name: 'retry first', input: { retry: 1000, event: 'connect', data: 'x' }, want: 'retry: 1000\nevent: connect\ndata: x\n\n' },
    { name: 'LF splits data lines', input: { data: 'a\nb' }, want: 'data: a\ndata: b\n\n' },
    { name: 'CRLF splits data lines', input: { data: 'a\r\nb' }, want: 'data: a\ndata: b\n\n' },
    { name: 'lone CR splits data lines', input: { data: 'a\rb' }, want: 'data: a\ndata: b\n\n' },
    { name: 'trailing newline keeps an empty data line', input: { data: 'a\n' }, want: 'data: a\ndata: \n\n' },
    { name: 'empty data is one empty data line', input: { data: '' }, want: 'data: \n\n' },
    { name: 'string id', input: { id: 'abc', data: 'x' }, want: 'id: abc\ndata: x\n\n' },
    { name: 'retry zero', input: { retry: 0, data: 'x' }, want: 'retry: 0\ndata: x\n\n' },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(formatMessage(input)).toBe(want));
  }
});

describe('formatMessage rejects fields that would break framing', () => {
  const cases: { name: string; input: SseMessage }[] = [
    { name: 'LF in event', input: { event: 'a\nb', data: 'x' } },
    { name: 'CR in event', input: { event: 'a\rb', data: 'x' } },
    { name: 'LF in id', input: { id: '1\n2', data: 'x' } },
    { name: 'CR in id', input: { id: '1\r', data: 'x' } },
    { name: 'negative retry', input: { retry: -1, data: 'x' } },
    { name: 'fractional retry', input: { retry: 1.5, data: 'x' } },
  ];
  for (const { name, input } of cases) {
    it(name, () => expect(() => formatMessage(input)).toThrow());
  }
});

describe('formatComment', () => {
  it('writes a lone comment line, with no blank line after it', () => expect(formatComment('ping')).toBe(': ping\n'));
  it('rejects a line break', () => expect(() => formatComment('a\nb')).toThrow());
});
