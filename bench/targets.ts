// The servers under test, each started on free loopback ports and stopped by the bench itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, processTree, runtimePorts, socketInodes, startDevServer, type DevServer } from '../test/node/support/dev-server.ts';

/** jobcast's default HEARTBEAT_MS, so the bench measures what users run; BENCH_HEARTBEAT_MS overrides. */
export const HEARTBEAT_MS = Number(process.env.BENCH_HEARTBEAT_MS ?? 15_000);
const ROOT = resolve(import.meta.dirname, '..');
const NODE = join(ROOT, 'node_modules/.bin/node');

export interface Target {
  name: string;
  /** Where subscribers connect; several for the scaled-out peer, which splits them. */
  ports: number[];
  /** Where completions are posted. */
  postPort: number;
  headers: Record<string, string>;
  /** Requests go through wrangler dev's proxy (a second workerd in front of the runtime). */
  behindDevProxy?: boolean;
  /** A worker with a Durable Object per job (local workerd keeps files open per live object). */
  holdsObjects?: boolean;
  /** Root processes of everything this target runs (for CPU, memory and sockets). */
  pids: () => number[];
  stop: () => Promise<void>;
}

export interface TreeStats {
  cpuMs: number;
  rssBytes: number;
  sockets: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

export function treeStats(roots: number[]): TreeStats {
  let cpuMs = 0;
  let rssBytes = 0;
  let sockets = 0;
  for (const pid of roots.flatMap(processTree)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpuMs += (Number(fields[11]) + Number(fields[12])) * TICK_MS;
      rssBytes += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
      sockets += socketInodes(pid).length;
    } catch {
      // exited
    }
  }
  return { cpuMs, rssBytes, sockets };
}

async function waitHealthy(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nothing answered on ${port}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

async function nodePeer(env: Record<string, string>): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(NODE, [join(ROOT, 'bench/peers/node-peer.ts')], {
    env: { ...process.env, ...env, PORT: String(port), HEARTBEAT_MS: String(HEARTBEAT_MS) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitHealthy(port, child);
  return { port, child };
}

/**
 * The settings deployed code runs under, locally: requests sent straight to the workerd that runs the
 * worker (not through wrangler's dev proxy, a second workerd in front), and the dev-only trace store off.
 */
const AS_DEPLOYED = { X_LOCAL_OBSERVABILITY: 'false' };

/**
 * jobcast, with `vars` on top of the bench's settings, as deployed code runs (or through `wrangler
 * dev`'s proxy). HIBERNATE is always given, so a target measures the mode its name says whatever the
 * project's default is; `config` is the wrangler configuration (bench/assets/ for static assets).
 */
export async function startOurs(name: string, vars: Record<string, string> & { HIBERNATE: 'true' | 'false' }, throughDevProxy = false, config = 'wrangler.toml'): Promise<Target> {
  const server = await startDevServer(
    // As deployed: a console line costs microseconds there, but ~1.9 ms of CPU in wrangler's local
    // log pipe (BENCHMARKS.md), so the deployed path runs with LOG_LEVEL=warn; the dev column with logs.
    { HEARTBEAT_MS: String(HEARTBEAT_MS), MAX_SUBSCRIBERS_PER_JOB: '2000', API_TOKENS: 'bench-token', ...(throughDevProxy ? {} : { LOG_LEVEL: 'warn' }), ...vars },
    undefined,
    config,
    0,
    throughDevProxy ? {} : AS_DEPLOYED,
  );
  return workerTarget(name, server, { Authorization: 'Bearer bench-token' }, throughDevProxy);
}

/** The floor (bench/floor/worker.ts); with `persist`, floor+storage. */
export async function startFloor(persist = false): Promise<Target> {
  const server = await startDevServer(persist ? { PERSIST: 'true' } : {}, undefined, 'bench/floor/wrangler.toml', 0, AS_DEPLOYED);
  return workerTarget(persist ? 'floor+storage' : 'floor', server, {}, false);
}

/** The relay floor (bench/floor/relay.ts): the floor of the hibernate mode. */
export async function startRelayFloor(): Promise<Target> {
  const server = await startDevServer({}, undefined, 'bench/floor/relay.toml', 0, AS_DEPLOYED);
  return workerTarget('relay floor', server, {}, false);
}

/**
 * jobcast (HIBERNATE=true) with its files as Workers Static Assets (bench/assets/wrangler.toml). The
 * runtime's entry socket, which workerTarget finds, runs wrangler's asset router in front of the
 * worker (checked on 2026-11-30 with wrangler 4.156.2: `/styles.css` there is answered by the asset
 * server, with its own 32-hex ETag and `cf-cache-status`, not by the worker's src/static.ts and its
 * 8-hex ETag); this checks it again on every start, so the target measures the router hop.
 */
export async function startAssets(): Promise<Target> {
  const target = await startOurs('jobcast (assets)', { HIBERNATE: 'true' }, false, 'bench/assets/wrangler.toml');
  const etag = (await fetch(`http://127.0.0.1:${target.ports[0]}/styles.css`)).headers.get('ETag') ?? '';
  if (/^"[0-9a-f]{8}"$/.test(etag) || etag === '') {
    await target.stop();
    throw new Error(`jobcast (assets): /styles.css was not answered by the asset server (ETag ${etag || 'none'})`);
  }
  return target;
}

async function workerTarget(name: string, server: DevServer, headers: Record<string, string>, throughDevProxy: boolean): Promise<Target> {
  const target: Target = { name, ports: [server.port], postPort: server.port, behindDevProxy: true, holdsObjects: true, headers, pids: () => [server.process.pid!], stop: server.stop };
  if (throughDevProxy) return target;
  for (const port of runtimePorts(server)) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return { ...target, ports: [port], postPort: port, behindDevProxy: false };
    } catch {
      // not the worker's port
    }
  }
  await server.stop();
  throw new Error(`${name}: found no port of the runtime that serves the worker`);
}

export async function startNode(): Promise<Target> {
  const { port, child } = await nodePeer({});
  return { name: 'node', ports: [port], postPort: port, headers: {}, pids: () => [child.pid!], stop: () => stopChild(child) };
}

export async function startRedisPair(): Promise<Target> {
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await new Promise((r) => setTimeout(r, 300));
  const env = { REDIS_URL: `redis://127.0.0.1:${redisPort}` };
  const [a, b] = await Promise.all([nodePeer(env), nodePeer(env)]);
  return {
    name: 'node+redis',
    ports: [a.port, b.port],
    postPort: a.port,
    headers: {},
    pids: () => [a.child.pid!, b.child.pid!, redis.pid!],
    stop: async () => {
      await Promise.all([stopChild(a.child), stopChild(b.child)]);
      await stopChild(redis);
    },
  };
}

/**
 * Pushpin's own TCP ports (zmq in, HTTP publish, zmq sub, command) are 5560–5563 plus `port_offset`.
 * The offset keeps them below Linux's ephemeral range (32768 and up): a port there may be the local
 * end of a client connection, even one in TIME_WAIT after a big run, and Pushpin's publish server then
 * fails to bind without a word (it happened).
 */
async function pushpinPortOffset(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 10_000 + Math.floor(Math.random() * 17_000);
    const free = await Promise.all([0, 1, 2, 3].map((i) => canListen(5560 + offset + i)));
    if (free.every(Boolean)) return offset;
  }
  throw new Error('pushpin: found no four free ports below the ephemeral range');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/**
 * Pushpin (Debian's package), the GRIP proxy users pick for this: it holds the streams, and a small
 * Node origin (bench/peers/pushpin-origin.ts) answers connects with GRIP instructions and turns a
 * completion into one publish. Completions are posted to the origin, as a backend would.
 */
export async function startPushpin(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'jobcast-pushpin-'));
  const [httpPort, originPort] = [await freePort(), await freePort()];
  const offset = await pushpinPortOffset();
  const config = readFileSync('/etc/pushpin/pushpin.conf', 'utf8')
    .replace(/^rundir=.*$/m, `rundir=${dir}`)
    .replace(/^port_offset=.*$/m, `port_offset=${offset}`)
    .replace(/^logdir=.*$/m, `logdir=${dir}`)
    .replace(/^log_level=.*$/m, 'log_level=1')
    .replace(/^message_rate=.*$/m, 'message_rate=100000')
    // Debian runs zurl (Pushpin's outgoing HTTP client) as a system service; run a private one.
    .replace(/^services=.*$/m, 'services=condure,zurl,pushpin-proxy,pushpin-handler')
    .replace(
      /^\[proxy\]$/m,
      '[proxy]\nzurl_out_specs=ipc://{rundir}/{ipc_prefix}zurl-in\nzurl_out_stream_specs=ipc://{rundir}/{ipc_prefix}zurl-in-stream\nzurl_in_specs=ipc://{rundir}/{ipc_prefix}zurl-out',
    );
  writeFileSync(join(dir, 'pushpin.conf'), config);
  const pushpin = spawn('pushpin', ['--config', join(dir, 'pushpin.conf'), '--port', `127.0.0.1:${httpPort}`, '--route', `* 127.0.0.1:${originPort}`], {
    stdio: 'ignore',
    detached: true,
  });
  const origin = spawn(NODE, [join(ROOT, 'bench/peers/pushpin-origin.ts')], {
    env: { ...process.env, PORT: String(originPort), HEARTBEAT_MS: String(HEARTBEAT_MS), PUSHPIN_PUBLISH_URL: `http://127.0.0.1:${5561 + offset}` },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stop = async () => {
    await stopChild(origin);
    try {
      process.kill(-pushpin.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    await new Promise((r) => setTimeout(r, 1000));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(originPort, origin);
    await waitHealthy(httpPort, pushpin);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name: 'pushpin', ports: [httpPort], postPort: originPort, headers: {}, pids: () => [pushpin.pid!, origin.pid!], stop };
}
