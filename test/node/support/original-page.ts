import { spawn } from 'node:child_process';

/**
 * Runs the page code from shared/api.md, unchanged, in Node's WHATWG EventSource, with `location`
 * standing in for the browser's. Resolves with the URL the page moved to.
 */
export function runOriginalPage(baseUrl: string, id: string, timeoutMs: number): Promise<string> {
  const script = `
    const moved = new Promise((resolve) => {
      globalThis.location = { set href(value) { resolve(value); } };
    });
    const id = ${JSON.stringify(id)};
    const EventSourceAtBase = class extends EventSource {
      constructor(path) { super(new URL(path, ${JSON.stringify(baseUrl)})); }
    };
    (function (EventSource) {
      // --- the page code, as shared/api.md gives it ---
      const sse = new EventSource('/sse/connect/' + id);
      sse.addEventListener('result', (e) => {
        const d = JSON.parse(e.data);
        if (d.status === 'result') { sse.close(); location.href = d.moveUrl; }
      });
      // ---
    })(EventSourceAtBase);
    // A browser tab stays open; Node would exit while EventSource waits to reconnect.
    setInterval(() => {}, 1000);
    moved.then((href) => { process.stdout.write(href); process.exit(0); });
  `;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--experimental-eventsource', '--no-warnings', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`the page did not move within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) done(out);
      else fail(new Error(`page script exited ${code}: ${err}`));
    });
  });
}
