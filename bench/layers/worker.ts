import { app } from '../../src/app';
import type { Env } from '../../src/config';
import { ANSWER_HEADER, JOB_ID_HEADER, JobObject, LAST_EVENT_ID_HEADER, type JobStub } from '../../src/job-object';

export { JobObject };
export { FloorObject } from '../floor/worker';

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

/** The objects' side: jobcast's object (src/job-object.ts) and the floor+storage object, really called. */
interface ObjectsEnv {
  JOBS: DurableObjectNamespace;
  JOBS_NO_ALARM: DurableObjectNamespace;
  FLOOR: DurableObjectNamespace;
}

/**
 * jobcast's object with `setAlarm` a no-op: a diagnostic of what its expiry alarm costs the calls.
 * Its storage (after the constructor, which only reads) is the real one behind a proxy that only drops
 * `setAlarm`.
 */
export class JobObjectNoAlarm extends JobObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const storage = new Proxy(ctx.storage, {
      get(target, key) {
        if (key === 'setAlarm') return async () => {};
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const state = new Proxy(ctx, { get: (target, key) => (key === 'storage' ? storage : (Reflect.get(target, key, target) as unknown)) });
    Object.defineProperty(this, 'ctx', { value: state });
  }
}

/**
 * One kind of object driven as its worker drives it, without the worker's own layers: register, open
 * a stream, complete. jobcast's calls are the ones src/app.ts makes (RPC register, fetch connect and
 * finish); the floor's are the floor worker's (PUT, GET, POST of the incoming shape).
 */
interface ObjectDriver {
  register(id: string): Promise<unknown>;
  connect(id: string): Promise<Response>;
  complete(id: string): Promise<Response>;
}

function drivers(realEnv: ObjectsEnv): Record<string, ObjectDriver> {
  const jobcast = (namespace: DurableObjectNamespace): ObjectDriver => {
    const job = (id: string) => namespace.get(namespace.idFromName(id)) as unknown as JobStub;
    return {
      register: (id) => job(id).register(id, undefined),
      connect: (id) => job(id).fetch('https://job.internal/connect', { headers: { [JOB_ID_HEADER]: id, [LAST_EVENT_ID_HEADER]: '' } }),
      complete: (id) =>
        job(id).fetch('https://job.internal/finish', {
          method: 'POST',
          headers: { [JOB_ID_HEADER]: id },
          body: JSON.stringify({ status: 'result', moveUrl: `/done?id=${id}` }),
        }),
    };
  };
  const floor = (id: string) => realEnv.FLOOR.get(realEnv.FLOOR.idFromName(id));
  return {
    jobcast: jobcast(realEnv.JOBS),
    'jobcast-no-alarm': jobcast(realEnv.JOBS_NO_ALARM),
    floor: {
      register: (id) => floor(id).fetch(`https://floor.internal/jobs/${id}`, { method: 'PUT' }).then((r) => r.arrayBuffer()),
      connect: (id) => floor(id).fetch(`https://floor.internal/sse/connect/${id}`),
      complete: (id) =>
        floor(id).fetch(`https://floor.internal/jobs/${id}/complete`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ moveUrl: `/done?id=${id}` }),
        }),
    },
  };
}

/**
 * `/objects?v=jobcast|jobcast-no-alarm|floor&phase=register|complete|stream&batch=B&n=N&par=P`: N
 * jobs named B-0..B-N-1, P at a time. `register` makes them; `complete` completes them with nobody listening; `stream` opens a
 * stream on each, completes it and reads the stream to its end. Answers the wall time per job in µs;
 * the CPU is read from outside, per request.
 */
async function objects(url: URL, realEnv: ObjectsEnv): Promise<Response> {
  const driver = drivers(realEnv)[url.searchParams.get('v') ?? ''];
  if (!driver) return new Response('v must be jobcast, jobcast-no-alarm or floor', { status: 400 });
  const phase = url.searchParams.get('phase');
  const batch = url.searchParams.get('batch') ?? 'b';
  const n = Number(url.searchParams.get('n') ?? 200);
  const par = Number(url.searchParams.get('par') ?? 1);
  const one = async (id: string): Promise<void> => {
    if (phase === 'register') {
      await driver.register(id);
    } else if (phase === 'complete') {
      const response = await driver.complete(id);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`complete ${id}: ${response.status}`);
    } else if (phase === 'stream') {
      const stream = await driver.connect(id);
      const reader = stream.body!.getReader();
      await reader.read(); // the connect event
      const response = await driver.complete(id);
      await response.arrayBuffer();
      let text = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
      if (!text.includes('event: result')) throw new Error(`stream ${id} ended without its result`);
    } else {
      throw new Error('phase must be register, complete or stream');
    }
  };
  await tick();
  const started = Date.now();
  for (let i = 0; i < n; i += par) {
    await Promise.all(Array.from({ length: Math.min(par, n - i) }, (_, k) => one(`${batch}-${i + k}`)));
  }
  await tick();
  return Response.json({ usPerJob: ((Date.now() - started) * 1000) / n });
}

export default {
  async fetch(request: Request, realEnv: ObjectsEnv, realCtx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/healthz') return Response.json({ ok: true });
    if (url.pathname === '/objects') return objects(url, realEnv);
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
