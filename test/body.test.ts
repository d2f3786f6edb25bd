import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { DRAIN_MAX_BYTES, MAX_BODY_BYTES, readJsonBody } from '../src/body';
import { ApiError } from '../src/errors';

const Anything = z.object({ pad: z.string() });

/** A JSON body of exactly `bytes` bytes. */
function jsonOfSize(bytes: number): string {
  const body = `{"pad":"${'a'.repeat(bytes - '{"pad":""}'.length)}"}`;
  expect(body.length).toBe(bytes);
  return body;
}

/** The same bytes as a stream with no length, so only counting them as they arrive can limit it. */
function streamed(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + 1000));
      offset += 1000;
    },
  });
}

function withLength(body: string | Uint8Array, length = new TextEncoder().encode(String(body)).byteLength): Request {
  return new Request('http://jobcast.test/', { method: 'POST', body, headers: { 'Content-Length': String(length) } });
}

async function errorOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error.code;
    throw error;
  }
  return 'none';
}

describe('readJsonBody with a Content-Length', () => {
  it('accepts a body of exactly the limit', async () => {
    const body = await readJsonBody(withLength(jsonOfSize(MAX_BODY_BYTES)), Anything);
    expect(body.pad).toHaveLength(MAX_BODY_BYTES - 10);
  });

  it('refuses a body one byte over the limit', async () => {
    expect(await errorOf(readJsonBody(withLength(jsonOfSize(MAX_BODY_BYTES + 1)), Anything))).toBe('payload_too_large');
  });

  /** A body of `total` bytes in 1,000-byte chunks, counting what was pulled from it. */
  function counted(total: number): { body: ReadableStream<Uint8Array>; pulled: () => number } {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= total) return controller.close();
        pulled += 1000;
        controller.enqueue(new Uint8Array(1000));
      },
    });
    return { body, pulled: () => pulled };
  }

  it('reads and drops a refused body up to DRAIN_MAX_BYTES, so the client gets the 413 rather than a reset', async () => {
    const { body, pulled } = counted(200_000);
    const request = new Request('http://jobcast.test/', { method: 'POST', body, headers: { 'Content-Length': '200000' } });
    expect(await errorOf(readJsonBody(request, Anything))).toBe('payload_too_large');
    expect(pulled()).toBe(200_000);
  });

  it('cuts off a declared length over DRAIN_MAX_BYTES without reading it', async () => {
    const { body, pulled } = counted(DRAIN_MAX_BYTES * 4);
    const request = new Request('http://jobcast.test/', { method: 'POST', body, headers: { 'Content-Length': String(DRAIN_MAX_BYTES * 4) } });
    expect(await errorOf(readJsonBody(request, Anything))).toBe('payload_too_large');
    expect(pulled()).toBeLessThanOrEqual(1000);
  });

  it('refuses bytes that are not UTF-8', async () => {
    expect(await errorOf(readJsonBody(withLength(new Uint8Array([0x7b, 0xff, 0x7d]), 3), Anything))).toBe('invalid_body');
  });
});

describe('readJsonBody without a Content-Length', () => {
  const encode = (text: string) => new TextEncoder().encode(text);
  const request = (bytes: Uint8Array) => new Request('http://jobcast.test/', { method: 'POST', body: streamed(bytes) });

  it('accepts a streamed body of exactly the limit', async () => {
    const req = request(encode(jsonOfSize(MAX_BODY_BYTES)));
    expect(req.headers.get('Content-Length')).toBeNull();
    expect((await readJsonBody(req, Anything)).pad).toHaveLength(MAX_BODY_BYTES - 10);
  });

  it('refuses a streamed body one byte over the limit', async () => {
    expect(await errorOf(readJsonBody(request(encode(jsonOfSize(MAX_BODY_BYTES + 1))), Anything))).toBe('payload_too_large');
  });

  it('drains a streamed body over the limit up to DRAIN_MAX_BYTES, then stops reading', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1000;
        controller.enqueue(new Uint8Array(1000));
      },
    });
    const req = new Request('http://jobcast.test/', { method: 'POST', body: endless });
    expect(await errorOf(readJsonBody(req, Anything))).toBe('payload_too_large');
    expect(pulled).toBeGreaterThan(DRAIN_MAX_BYTES);
    expect(pulled).toBeLessThanOrEqual(DRAIN_MAX_BYTES + 3000);
  });

  it('refuses streamed bytes that are not UTF-8', async () => {
    expect(await errorOf(readJsonBody(request(new Uint8Array([0x7b, 0xff, 0x7d])), Anything))).toBe('invalid_body');
  });

  it('reads an empty body as {}', async () => {
    const Empty = z.strictObject({});
    expect(await readJsonBody(new Request('http://jobcast.test/', { method: 'POST' }), Empty)).toEqual({});
  });
});
