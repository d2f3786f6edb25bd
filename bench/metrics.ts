// M1–M6 and the socket check, measured the same way against every target.
import { ClientPool } from './load/pool.ts';
import { HEARTBEAT_MS, treeStats, type Target } from './targets.ts';

export interface Sample {
  m1p50: number;
  m1p90: number;
  /**
   * Register + connect + complete of one wait, each from request to answer, median over M1's rounds:
   * an upper bound on the object's handler time for a wait, which is what hibernate mode is billed.
   */
  waitCallsMs: number;
  m2p99: number;
  m3ConnectsPerS: number;
  m3CompletionsPerS: number;
  m3FanoutP99: number;
  m3Errors: number;
  /** M4 (5,000 streams over 1,000 jobs, then 3,000 jobs); NaN where not run. */
  m4Errors: number;
  m5CpuMsPerEvent: number;
  m6BytesPerStream: number;
  socketsBefore: number;
  socketsAfter: number;
  loadCpuMs: number;
}

export interface Scale {
  m1Rounds: number;
  m2Subscribers: number;
  m3Jobs: number;
  /** M4 sizes: [streams, jobs those streams spread over, jobs with one stream each]. */
  m4: [number, number, number];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (ns: bigint) => Number(ns) / 1e6;

export function percentile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

let counter = 0;
const newIds = (prefix: string, n: number) => Array.from({ length: n }, () => `${prefix}-${process.pid}-${++counter}`);

async function register(pool: ClientPool, target: Target, ids: string[]): Promise<void> {
  await ClientPool.each(ids, 32, async (id) => {
    const { status } = await pool.send(target, 'PUT', `/jobs/${id}`);
    if (status !== 201 && status !== 200) throw new Error(`${target.name}: register answered ${status}`);
  });
}

async function complete(pool: ClientPool, target: Target, id: string) {
  return pool.send(target, 'POST', `/jobs/${id}/complete`, { moveUrl: `/done?id=${id}` });
}

const phase = (target: Target, name: string) => console.log(`  ${new Date().toISOString().slice(11, 19)} ${target.name}: ${name}`);

/** `withM4` false leaves out the long M4 soak (the bench runs it in its first round only). */
export async function measure(target: Target, pool: ClientPool, scale: Scale, withM4 = true): Promise<Sample> {
  // Warm up: one full wait, so no first-request compilation lands in a measurement.
  const [warm] = newIds('warm', 1);
  await register(pool, target, [warm]);
  await pool.open(target, [`/sse/connect/${warm}`]);
  await complete(pool, target, warm);
  await pool.awaitResults(1);
  await pool.closeAll();
  await sleep(5_000);
  const socketsBefore = treeStats(target.pids()).sockets;
  const loadCpuBefore = await pool.cpuMs();

  phase(target, 'M1');
  // M1: notify latency with one subscriber.
  const latencies: number[] = [];
  const waitCalls: number[] = [];
  let missedInARow = 0;
  for (const id of newIds('m1', scale.m1Rounds)) {
    const registerAt = process.hrtime.bigint();
    await register(pool, target, [id]);
    const registerMs = ms(process.hrtime.bigint() - registerAt);
    const { ms: connectMs } = await pool.open(target, [`/sse/connect/${id}`]);
    const { sentAt } = await complete(pool, target, id);
    waitCalls.push(registerMs + connectMs + ms(process.hrtime.bigint() - sentAt));
    const [[, at] = ['', null]] = await pool.awaitResults(1);
    if (at) latencies.push(ms(at - sentAt));
    await pool.closeAll();
    // A target that delivers nothing is broken, not slow: stop rather than wait out every timeout.
    missedInARow = at ? 0 : missedInARow + 1;
    if (missedInARow === 3) throw new Error(`${target.name}: no result in three M1 rounds in a row`);
  }

  phase(target, 'M2');
  // M2: fan-out to many subscribers of one job.
  const [m2] = newIds('m2', 1);
  await register(pool, target, [m2]);
  const m2Path = `/sse/connect/${m2}`;
  await pool.open(target, Array.from({ length: scale.m2Subscribers }, () => m2Path));
  const { sentAt: m2Sent } = await complete(pool, target, m2);
  const m2Receipts = (await pool.awaitResults(scale.m2Subscribers)).flatMap(([, at]) => (at ? [ms(at - m2Sent)] : []));
  await pool.closeAll();
  const m2p99 = percentile(m2Receipts, 0.99);

  phase(target, 'M3');
  // M3: many jobs with one subscriber each: connects/s, completions/s, fan-out p99; M5 and M6.
  const m3 = newIds('m3', scale.m3Jobs);
  await register(pool, target, m3);
  const before = treeStats(target.pids());
  const opened = await pool.open(target, m3.map((id) => `/sse/connect/${id}`));
  const withStreams = treeStats(target.pids());
  const sent = new Map<string, bigint>();
  const completionsStarted = process.hrtime.bigint();
  await ClientPool.each(m3, 32, async (id) => {
    const { sentAt } = await complete(pool, target, id);
    sent.set(id, sentAt);
  });
  const completionsMs = ms(process.hrtime.bigint() - completionsStarted);
  const m3Results = new Map(await pool.awaitResults(scale.m3Jobs));
  const afterCompletions = treeStats(target.pids());
  const fanout = m3.flatMap((id) => {
    const at = m3Results.get(`/sse/connect/${id}`);
    return at ? [ms(at - sent.get(id)!)] : [];
  });
  const delivered = fanout.length;
  await pool.closeAll();

  // M4: many streams over many jobs, then many jobs with one stream each; every stream must get its result.
  const m3Errors = opened.errors + (scale.m3Jobs - delivered);
  // Not through wrangler's proxy: it stops answering somewhere between 1,000 and 5,000 open streams
  // for any worker, so M4 there would measure the proxy.
  const m4Size = scale.m4;
  withM4 &&= !target.behindDevProxy;
  let m4Errors = withM4 ? 0 : NaN;
  for (const [streams, jobs] of withM4 ? [
    [m4Size[0], m4Size[1]],
    [m4Size[2], m4Size[2]],
  ] : []) {
    // Local workerd keeps 3 SQLite files open per live object and evicts idle objects after about
    // 10 s; without this pause the objects of the previous phase and this one's sockets together
    // pass the machine's 20,000 open files, and workerd dies (it did once; such a target is then
    // reported as failed). The Node peers and Pushpin hold no objects and need no pause.
    if (target.holdsObjects) await sleep(15_000);
    phase(target, `M4: ${streams} streams over ${jobs} jobs`);
    const ids = newIds('m4', jobs);
    await register(pool, target, ids);
    const paths = Array.from({ length: streams }, (_, i) => `/sse/connect/${ids[i % jobs]}`);
    const { errors } = await pool.open(target, paths, 24, 30_000);
    await ClientPool.each(ids, 32, async (id) => {
      const answer = await complete(pool, target, id).catch(() => null);
      if (answer?.status !== 200) m4Errors++;
    });
    const results = await pool.awaitResults(streams, 30_000);
    const missing = streams - results.filter(([, at]) => at !== null).length;
    m4Errors += errors + missing;
    await pool.closeAll();
  }

  // One heartbeat (and a half) after the last client left: every departed stream has been written to
  // by then, which is what reveals a departed client. wrangler's proxy also drops its idle
  // keep-alive connections to the runtime within about 15 s.
  await sleep(HEARTBEAT_MS * 1.5);
  const socketsAfter = treeStats(target.pids()).sockets;
  return {
    m1p50: percentile(latencies, 0.5),
    m1p90: percentile(latencies, 0.9),
    waitCallsMs: percentile(waitCalls, 0.5),
    m2p99,
    m3ConnectsPerS: scale.m3Jobs / (opened.ms / 1000),
    m3CompletionsPerS: scale.m3Jobs / (completionsMs / 1000),
    m3FanoutP99: percentile(fanout, 0.99),
    m3Errors,
    m4Errors,
    m5CpuMsPerEvent: (afterCompletions.cpuMs - withStreams.cpuMs) / Math.max(1, delivered),
    m6BytesPerStream: (withStreams.rssBytes - before.rssBytes) / scale.m3Jobs,
    socketsBefore,
    socketsAfter,
    loadCpuMs: (await pool.cpuMs()) - loadCpuBefore,
  };
}
