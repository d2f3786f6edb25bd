/** Reads a real SSE response the way EventSource would, keeping comments so heartbeats can be seen. */
export interface SseFrame {
  comment?: string;
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
}

export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';
  #ended = false;
  /** Every byte received so far, for exact-bytes assertions. */
  raw = '';

  constructor(readonly response: Response) {
    if (!response.body) throw new Error(`no body (status ${response.status})`);
    this.#reader = response.body.getReader();
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The next frame, or null once the server has ended the stream. Rejects after `timeoutMs`. */
  async next(timeoutMs = 5000): Promise<SseFrame | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // A heartbeat is a lone comment line between events: a frame of its own here.
      const lineEnd = this.#buffer.indexOf('\n');
      if (this.#buffer.startsWith(':') && lineEnd >= 0) {
        const line = this.#buffer.slice(0, lineEnd);
        this.#buffer = this.#buffer.slice(lineEnd + 1);
        return { comment: line.slice(1).trim() };
      }
      if (this.#buffer.startsWith('\n')) {
        this.#buffer = this.#buffer.slice(1); // an empty block dispatches nothing
        continue;
      }
      const boundary = this.#buffer.indexOf('\n\n');
      if (boundary >= 0) {
        const block = this.#buffer.slice(0, boundary);
        this.#buffer = this.#buffer.slice(boundary + 2);
        return parseFrame(block);
      }
      if (this.#ended) return null;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no SSE frame within ${timeoutMs} ms; buffered: ${JSON.stringify(this.#buffer)}`);
      const chunk = await Promise.race([
        this.#reader.read(),
        new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), remaining)),
      ]);
      if (chunk === 'timeout') continue;
      if (chunk.done) {
        this.#ended = true;
        continue;
      }
      const text = this.#decoder.decode(chunk.value, { stream: true });
      this.raw += text;
      this.#buffer += text;
    }
  }

  /** Frames up to and including the first that matches, skipping the rest. */
  async until(match: (frame: SseFrame) => boolean, timeoutMs = 5000): Promise<SseFrame[]> {
    const seen: SseFrame[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = await this.next(Math.max(1, deadline - Date.now()));
      if (frame === null) throw new Error(`stream ended before a matching frame; saw ${JSON.stringify(seen)}`);
      seen.push(frame);
      if (match(frame)) return seen;
    }
  }

  /** All remaining frames until the server ends the stream. */
  async rest(timeoutMs = 5000): Promise<SseFrame[]> {
    const frames: SseFrame[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = await this.next(Math.max(1, deadline - Date.now()));
      if (frame === null) return frames;
      frames.push(frame);
    }
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

function parseFrame(block: string): SseFrame {
  const frame: SseFrame = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      frame.comment = line.slice(1).trim();
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
    else if (name === 'id') frame.id = value;
    else if (name === 'event') frame.event = value;
    else if (name === 'retry') frame.retry = Number(value);
  }
  return frame;
}

export const isEvent = (name: string) => (frame: SseFrame) => frame.event === name;
