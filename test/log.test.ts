import { afterEach, describe, expect, it, vi } from 'vitest';
import { logInBatch } from '../src/log';

afterEach(() => vi.restoreAllMocks());

function captureLines(): string[] {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
  return lines;
}

describe('logInBatch', () => {
  it('writes a lone record as one ordinary line', async () => {
    const lines = captureLines();
    await logInBatch('backend call', { route: 'complete', job: 'a', status: 200 });
    expect(lines).toHaveLength(1);
    expect(lines.map((line) => JSON.parse(line))).toEqual([{ level: 'info', msg: 'backend call', route: 'complete', job: 'a', status: 200 }]);
  });

  it('writes records that come together as one line that holds each of them', async () => {
    const lines = captureLines();
    const flushes = [1, 2, 3].map((n) => logInBatch('backend call', { job: `j${n}` }));
    expect(flushes.map((f) => f !== null)).toEqual([true, false, false]);
    await flushes[0];
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toEqual({ level: 'info', msg: 'backend call', count: 3, records: [{ job: 'j1' }, { job: 'j2' }, { job: 'j3' }] });
  });

  it('starts a new line once a batch is full', async () => {
    const lines = captureLines();
    await Promise.all(Array.from({ length: 150 }, (_, n) => logInBatch('backend call', { n })).filter((f) => f !== null));
    expect(lines.map((line) => JSON.parse(line).count)).toEqual([100, 50]);
  });
});
