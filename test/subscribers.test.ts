import { describe, expect, it } from 'vitest';
import { SubscriberSet, type DropReason } from '../src/subscribers';

const bytes = (text: string) => new TextEncoder().encode(text);
const PING = bytes(': ping\n');

function setup(maxBufferedBytes = 1024) {
  const drops: DropReason[] = [];
  const set = new SubscriberSet(maxBufferedBytes, (reason) => drops.push(reason));
  return { set, drops };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

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

  it('broadcasts an event only to streams that have not seen it, and keeps heartbeat order right', async () => {
    const { set } = setup();
    const before = set.open(0, bytes('A\n'), 0);
    const after = set.open(500, bytes('B\n'), 1);
    expect(set.broadcast(bytes('x\n'), 900, 1)).toBe(1);
    // The stream written at 900 is now the less idle one: only the later-opened stream is due at 1,500.
    expect(set.sweep(1500, PING, 1000, 60_000, 0)).toMatchObject({ pinged: 1, nextDueAt: 1900 });
    set.closeAll();
    expect(await readAll(before)).toBe('A\nx\n');
    expect(await readAll(after)).toBe('B\n: ping\n');
  });

  it('drops a subscriber whose client cancelled, at once and only once', async () => {
    const { set, drops } = setup();
    const a = set.open(0, bytes('A'));
    set.open(0, bytes('B'));
    await a.cancel();
    expect(set.size).toBe(1);
    expect(drops).toEqual(['departed']);
    expect(set.broadcast(bytes('x'), 1)).toBe(1);
    expect(drops).toEqual(['departed']);
  });

  it('ends a subscriber that falls more than the buffer behind, and keeps the others', async () => {
    const { set, drops } = setup(100);
    const slow = set.open(0, bytes('S'));
    const fast = set.open(0, bytes('F'));
    const fastReader = fast.getReader();
    let delivered = 0;
    for (let i = 0; i < 5; i++) {
      delivered = set.broadcast(new Uint8Array(40), i);
      await fastReader.read();
    }
    expect(delivered).toBe(1);
    expect(drops).toEqual(['overflow']);
    expect(set.size).toBe(1);
    await expect(slow.getReader().read()).rejects.toThrow(/behind/);
  });

  it('pings only streams idle for the heartbeat time, then says when the next is due', async () => {
    const { set } = setup();
    const early = set.open(0, bytes(''));
    const late = set.open(500, bytes(''));
    const sweep = set.sweep(1000, PING, 1000, 60_000, 0);
    expect(sweep).toEqual({ ended: 0, pinged: 1, nextDueAt: 1500 });
    set.closeAll();
    expect(await readAll(early)).toBe(': ping\n');
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
