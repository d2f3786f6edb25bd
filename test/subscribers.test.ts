import { describe, expect, it } from 'vitest';
import { SubscriberSet, type DropReason } from '../src/subscribers';

const bytes = (text: string) => new TextEncoder().encode(text);
const PING = bytes(': ping\n\n');

function setup(maxBufferedBytes = 1024) {
  const drops: DropReason[] = [];
  const set = new SubscriberSet(maxBufferedBytes, (reason) => drops.push(reason));
  return { set, drops };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

/** Lets the runtime finish what writes and cancels set off (they complete outside JavaScript). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('SubscriberSet', () => {
  it('starts each stream with its first bytes and broadcasts the same bytes to all', async () => {
    const { set } = setup();
    const a = set.open(0, bytes('A\n'));
    const b = set.open(0, bytes('B\n'));
    expect(set.broadcast(bytes('x\n'), 1)).toBe(2);
    set.closeAll();
    expect(await readAll(a)).toBe('A\nx\n');
    expect(await readAll(b)).toBe('B\nx\n');
    expect(set.size).toBe(0);
  });

  it('drops a subscriber whose client cancelled, at once and only once', async () => {
    const { set, drops } = setup();
    const a = set.open(0, bytes('A'));
    set.open(0, bytes('B'));
    await a.cancel();
    expect(set.size).toBe(1);
    expect(drops).toEqual(['departed']);
    expect(set.broadcast(bytes('x'), 1)).toBe(1);
    await settle();
    expect(drops).toEqual(['departed']);
  });

  it('drops a client that left after reading everything as soon as a heartbeat reveals it', async () => {
    const { set, drops } = setup();
    const gone = set.open(0, bytes('A'));
    const reader = gone.getReader();
    await reader.read();
    // Like the runtime's response pump on a closed socket: it takes the next bytes, fails to send
    // them, and cancels the stream.
    const pump = reader.read().then(() => reader.cancel());
    await settle();
    expect(drops).toEqual([]);
    expect(set.sweep(1000, PING, 1000, 60_000, 0).pinged).toBe(1);
    await pump;
    expect(drops).toEqual(['departed']);
    expect(set.size).toBe(0);
  });

  it('ends a subscriber that falls more than the buffer behind, and keeps the others', async () => {
    const { set, drops } = setup(100);
    const slow = set.open(0, bytes('S'));
    const fast = set.open(0, bytes('F'));
    const fastBody = readAll(fast);
    const delivered: number[] = [];
    for (let i = 0; i < 5; i++) {
      delivered.push(set.broadcast(new Uint8Array(30), i));
      await settle();
    }
    // slow: 1 + 4 × 30 bytes unread passes 100 at the fourth broadcast.
    expect(delivered).toEqual([2, 2, 2, 1, 1]);
    expect(drops).toEqual(['overflow']);
    expect(set.size).toBe(1);
    await expect(slow.getReader().read()).rejects.toThrow();
    set.closeAll();
    expect((await fastBody).length).toBe(1 + 5 * 30);
  });

  it('pings only streams idle for the heartbeat time, then says when the next is due', async () => {
    const { set } = setup();
    const early = set.open(0, bytes(''));
    const late = set.open(500, bytes(''));
    const sweep = set.sweep(1000, PING, 1000, 60_000, 0);
    expect(sweep).toEqual({ ended: 0, pinged: 1, nextDueAt: 1500 });
    set.closeAll();
    expect(await readAll(early)).toBe(': ping\n\n');
    expect(await readAll(late)).toBe('');
  });

  it('counts a broadcast as activity, so no ping follows it within the heartbeat time', () => {
    const { set } = setup();
    set.open(0, bytes(''));
    set.broadcast(bytes('x'), 900);
    expect(set.sweep(1000, PING, 1000, 60_000, 0)).toEqual({ ended: 0, pinged: 0, nextDueAt: 1900 });
  });

  it('pings streams coming due within the slack together', () => {
    const { set } = setup();
    set.open(0, bytes(''));
    set.open(40, bytes(''));
    set.open(400, bytes(''));
    expect(set.sweep(1000, PING, 1000, 60_000, 50).pinged).toBe(2);
  });

  it('closes streams at their maximum age, cleanly', async () => {
    const { set, drops } = setup();
    const old = set.open(0, bytes('old'));
    set.open(3000, bytes('new'));
    const sweep = set.sweep(4000, PING, 10_000, 4000, 0);
    expect(sweep).toEqual({ ended: 1, pinged: 0, nextDueAt: 7000 });
    expect(await readAll(old)).toBe('old');
    expect(drops).toEqual([]);
    expect(set.size).toBe(1);
  });

  it('has nothing due when empty', () => {
    const { set } = setup();
    expect(set.sweep(0, PING, 1000, 1000, 0)).toEqual({ ended: 0, pinged: 0, nextDueAt: null });
  });
});
