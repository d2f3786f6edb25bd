import { afterEach, describe, expect, it, vi } from 'vitest';
import { logError, logInfo, logWarn } from '../src/log';

afterEach(() => vi.restoreAllMocks());

describe('log lines', () => {
  it('are one flat JSON object per line, with the level and message first', () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    logInfo('backend call', { route: 'complete', job: 'a', status: 200, ms: 3, delivered: 2 });
    expect(lines).toEqual(['{"level":"info","msg":"backend call","route":"complete","job":"a","status":200,"ms":3,"delivered":2}']);
  });

  it('go to the console method of their level', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    logWarn('streams dropped', { overflow: 1 });
    logError('unhandled error', { error: 'boom' });
    expect(JSON.parse(warn.mock.calls[0][0] as string)).toEqual({ level: 'warn', msg: 'streams dropped', overflow: 1 });
    expect(JSON.parse(error.mock.calls[0][0] as string)).toEqual({ level: 'error', msg: 'unhandled error', error: 'boom' });
  });
});
