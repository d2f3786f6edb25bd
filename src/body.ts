import type * as z from 'zod/mini';
import { ApiError } from './errors';

export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Reads a JSON body of at most MAX_BODY_BYTES, counting bytes as they arrive (Content-Length may be
 * absent or wrong), and checks it against `schema`. An empty body is read as `{}`.
 */
export async function readJsonBody<S extends z.ZodMiniType>(request: Request, schema: S): Promise<z.output<S>> {
  const text = await readLimitedText(request);
  let parsed: unknown = {};
  if (text.trim() !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ApiError('invalid_body', 'The request body is not valid JSON.');
    }
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue.path.length > 0 ? issue.path.join('.') : issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : 'body';
    throw new ApiError('invalid_body', `Invalid field "${path}": ${issue.message}.`);
  }
  return result.data;
}

async function readLimitedText(request: Request): Promise<string> {
  const bytes = await readLimitedBytes(request);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError('invalid_body', 'The request body is not valid UTF-8.');
  }
}

function tooLarge(): ApiError {
  return new ApiError('payload_too_large', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
}

/**
 * A body over the limit is still read, and dropped, up to this many bytes before the 413 is sent: the
 * client is usually still sending it, and a body left unread makes the runtime close the connection,
 * which reaches the client as a reset in place of the answer (seen with Node's fetch under load). Past
 * this the body is cut off and the connection may go with it, as most servers do with a huge upload.
 */
export const DRAIN_MAX_BYTES = 1024 * 1024;

async function readLimitedBytes(request: Request): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const declared = request.headers.get('Content-Length');
  if (declared !== null && /^\d{1,9}$/.test(declared)) {
    if (Number(declared) > MAX_BODY_BYTES) {
      if (Number(declared) > DRAIN_MAX_BYTES) await request.body.cancel();
      else await drain(request.body.getReader(), 0);
      throw tooLarge();
    }
    // An HTTP request's body is framed by its Content-Length, so this reads at most what was declared;
    // one native read instead of a JavaScript loop (the backend's hot path, see BENCHMARKS.md).
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > MAX_BODY_BYTES) throw tooLarge();
    return bytes;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await drain(reader, total);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Reads and drops the rest of a refused body, `read` bytes of which are already in, up to DRAIN_MAX_BYTES. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, read: number): Promise<void> {
  let total = read;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    total += value.byteLength;
    if (total > DRAIN_MAX_BYTES) {
      await reader.cancel();
      return;
    }
  }
}
