import { app } from '../../src/app';
import type { Env } from '../../src/config';
import { ANSWER_HEADER, JOB_ID_HEADER } from '../../src/job-object';

/** A stand-in for the job's object: reads the call and answers at once, as the object's answer looks. */
const stub = {
  async fetch(input: RequestInfo, init?: RequestInit): Promise<Response> {
    await new Request(input, init).arrayBuffer();
    return new Response(null, { status: 200, headers: { [ANSWER_HEADER]: '{"eventId":1,"delivered":1}' } });
  },
};
const TOKEN = 'layers-token';
const env = { JOBS: { idFromName: (name: string) => name, get: () => stub }, API_TOKENS: TOKEN } as unknown as Env;
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

/** The same hop with nothing around it: the route's id, the body, the call, the answer. */
async function bare(request: Request): Promise<Response> {
  const id = /^\/jobs\/([^/]+)\/complete$/.exec(new URL(request.url).pathname)![1];
  const { moveUrl } = await request.json<{ moveUrl: string }>();
  const response = await (env.JOBS.get(env.JOBS.idFromName(id)) as unknown as typeof stub).fetch('https://job.internal/finish', {
    method: 'POST',
    headers: { [JOB_ID_HEADER]: id },
    body: JSON.stringify({ status: 'result', moveUrl }),
  });
  return new Response(response.headers.get(ANSWER_HEADER), { status: response.status, headers: { 'Content-Type': 'application/json' } });
}

const VARIANTS: Record<string, (request: Request) => Promise<Response> | Response> = {
  app: (request) => app.fetch(request, env, ctx),
  bare,
};

// The runtime's clock stands still while JavaScript runs and moves on at the next event: a timer
// turn before each reading makes Date.now() the time of that reading.
const tick = () => new Promise((done) => setTimeout(done, 0));
let next = 0;

/** A backend's completion call for a new job id, as a client sends it. */
function completion(): Request {
  const id = `layers-${++next}`;
  const body = JSON.stringify({ moveUrl: `/done?id=${id}` });
  return new Request(`http://127.0.0.1/jobs/${id}/complete`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', 'Content-Length': String(body.length) },
    body,
  });
}

export default {
  async fetch(request: Request, _env: unknown, realCtx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/healthz') return Response.json({ ok: true });
    if (url.pathname === '/batched') {
      // The app's own log batching as under load: bursts of `burst` calls, a pause longer than the
      // batch window between them, the request's real context (its waitUntil) and the real console.
      // `log=off` makes console.log a no-op for the same calls. Timed from outside by the tree's CPU.
      const calls = Number(url.searchParams.get('n') ?? 1000);
      const burst = Number(url.searchParams.get('burst') ?? 20);
      const print = console.log;
      if (url.searchParams.get('log') === 'off') console.log = () => {};
      try {
        for (let i = 0; i < calls; i++) {
          if (i > 0 && i % burst === 0) await new Promise((done) => setTimeout(done, 60));
          await (await app.fetch(completion(), env, realCtx)).arrayBuffer();
        }
        await new Promise((done) => setTimeout(done, 60));
      } finally {
        console.log = print;
      }
      return Response.json({ calls });
    }
    if (url.pathname === '/lines') {
      // Log lines of a given size, written as the app writes them, for their cost outside the isolate.
      const lines = Number(url.searchParams.get('n') ?? 0);
      const text = 'x'.repeat(Number(url.searchParams.get('bytes') ?? 100));
      for (let i = 0; i < lines; i++) console.log(JSON.stringify({ level: 'info', msg: 'layers', text }));
      return Response.json({ lines });
    }
    const calls = Number(url.searchParams.get('n') ?? 2000);
    const out: Record<string, number> = {};
    const print = console.log;
    console.log = () => {}; // the app's batched log lines: their JavaScript is timed, not their printing
    try {
      for (const name of (url.searchParams.get('v') ?? 'app,bare').split(',')) {
        const handle = VARIANTS[name];
        await tick();
        const started = Date.now();
        for (let i = 0; i < calls; i++) {
          const response = await handle(completion());
          if (response.status !== 200) return new Response(`${name}: ${response.status} ${await response.text()}`, { status: 500 });
          await response.arrayBuffer();
        }
        await tick();
        out[name] = ((Date.now() - started) * 1000) / calls;
      }
    } finally {
      console.log = print;
    }
    return Response.json(out);
  },
};
