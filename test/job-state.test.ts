import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  eventsToReplay,
  isPastEnd,
  parseLastEventId,
  type JobRecord,
  type StoredEvent,
} from '../src/job-state';

const progressEvent = (id: number): StoredEvent => ({ id, name: 'progress', data: `{"p":${id}}` });
const resultEvent = (id: number): StoredEvent => ({ id, name: 'result', data: '{"status":"result"}' });

function job(lastEventId: number, finished = false): JobRecord {
  return {
    id: 'j',
    status: finished ? 'result' : 'pending',
    createdAt: 0,
    expiresAt: 1,
    lastEventId,
  };
}

describe('parseLastEventId', () => {
  const cases: [string | null, number | null][] = [
    [null, null],
    ['', null],
    ['0', 0],
    ['42', 42],
    [' 7 ', 7],
    ['-1', null],
    ['1.5', null],
    ['abc', null],
    ['1e3', null],
    ['9'.repeat(16), null],
  ];
  for (const [input, want] of cases) {
    it(`reads ${JSON.stringify(input)} as ${want}`, () => expect(parseLastEventId(input)).toBe(want));
  }
});

describe('eventsToReplay', () => {
  const history = [1, 2, 3].map(progressEvent);

  it('gives a first join only the latest progress', () => {
    expect(eventsToReplay(job(3), history, null)).toEqual([progressEvent(3)]);
  });

  it('gives a first join of a finished job the latest progress, then the result', () => {
    expect(eventsToReplay(job(4, true), [...history, resultEvent(4)], null)).toEqual([progressEvent(3), resultEvent(4)]);
  });

  it('gives a first join of a job finished without progress only the result', () => {
    expect(eventsToReplay(job(1, true), [resultEvent(1)], null)).toEqual([resultEvent(1)]);
  });

  it('gives nothing to a first join of a job with no events', () => {
    expect(eventsToReplay(job(0), [], null)).toEqual([]);
  });

  it('gives a resume everything after its id', () => {
    expect(eventsToReplay(job(3), history, 1)).toEqual([progressEvent(2), progressEvent(3)]);
  });

  it('gives a resume from 0 everything while event 1 is still kept', () => {
    expect(eventsToReplay(job(3), history, 0)).toEqual(history);
  });

  it('gives a resume at the latest id nothing', () => {
    expect(eventsToReplay(job(3), history, 3)).toEqual([]);
  });

  it('answers a resume older than the kept history as a first join', () => {
    const kept = [5, 6, 7].map(progressEvent);
    expect(eventsToReplay(job(7), kept, 3)).toEqual([progressEvent(7)]);
    expect(eventsToReplay(job(7), kept, 4)).toEqual(kept);
  });

  it('answers a resume from an id the job never reached as a first join', () => {
    expect(eventsToReplay(job(3), history, 9)).toEqual([progressEvent(3)]);
  });
});

describe('isPastEnd', () => {
  it('is true at or past the terminal event', () => {
    expect(isPastEnd(job(4, true), 4)).toBe(true);
    expect(isPastEnd(job(4, true), 5)).toBe(true);
  });
  it('is false before the terminal event, without a resume point, or for a pending job', () => {
    expect(isPastEnd(job(4, true), 3)).toBe(false);
    expect(isPastEnd(job(4, true), null)).toBe(false);
    expect(isPastEnd(job(4), 9)).toBe(false);
  });
});

describe('canonicalJson', () => {
  it('ignores key order at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 1, x: 2 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { x: 2, y: 1 }] }, b: 1 }),
    );
  });
  it('keeps array order and value types apart', () => {
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
  });
});
