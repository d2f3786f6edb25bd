import { request, type ClientRequest, type IncomingMessage } from 'node:http';

/** An SSE connection over its own TCP socket, so that destroying it is a real client departure. */
export interface RawStream {
  status: number;
  text: () => string;
  ended: Promise<void>;
  destroy: () => void;
  /** Stops reading, as a stalled client does: the server's writes pile up in its buffers. */
  pause: () => void;
  waitFor: (pattern: string, timeoutMs?: number) => Promise<void>;
}

export function openRaw(url: string, headers: Record<string, string> = {}): Promise<RawStream> {
  return new Promise((done, fail) => {
    const req: ClientRequest = request(url, { headers, agent: false });
    req.on('error', fail);
    req.on('response', (res: IncomingMessage) => {
      let text = '';
      const listeners = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        for (const listener of listeners) listener();
      });
      const ended = new Promise<void>((resolveEnd) => res.on('end', resolveEnd));
      res.on('error', () => {});
      done({
        status: res.statusCode ?? 0,
        text: () => text,
        ended,
        destroy: () => req.destroy(),
        pause: () => res.pause(),
        waitFor: (pattern, timeoutMs = 5000) =>
          new Promise((found, missing) => {
            if (text.includes(pattern)) return found();
            const timer = setTimeout(() => {
              listeners.delete(check);
              missing(new Error(`no ${JSON.stringify(pattern)} within ${timeoutMs} ms; got ${JSON.stringify(text)}`));
            }, timeoutMs);
            const check = () => {
              if (!text.includes(pattern)) return;
              clearTimeout(timer);
              listeners.delete(check);
              found();
            };
            listeners.add(check);
          }),
      });
    });
    req.end();
  });
}
