// npm run bench:focus: M1, M2 and M3 completions only, jobcast and the floor alternating, for trying a
// change in a few minutes. Not the published bench (that is `npm run bench`).
//   --rounds N (default 3)   --only a,b (any target of bench/rounds.ts; `baseline` is FOCUS_BASELINE=/other/checkout/wrangler.toml, `baseline2` FOCUS_BASELINE2)
//   --m4 STREAMS,JOBS (M4 alone at that size)   FOCUS_GAP_MS=N: wait N ms between the stream opening and the completion
import { readFileSync } from 'node:fs';
import { processTree } from '../test/node/support/dev-server.ts';
import { ClientPool } from './load/pool.ts';
import { percentile } from './metrics.ts';
import { median } from './report.ts';
import { inRounds } from './rounds.ts';
import { treeStats, type Target } from './targets.ts';

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1]) || 3;
const names = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : ['jobcast', 'floor'];
const M1_ROUNDS = 60;
const M2_STREAMS = 1000;
const M3_JOBS = 1000;
// Diagnostic: a pause between the stream opening and the completion (FOCUS_GAP_MS; 0 as in the bench).
const GAP_MS = Number(process.env.FOCUS_GAP_MS ?? 0);

let counter = 0;
const ids = (n: number) => Array.from({ length: n }, () => `f-${process.pid}-${++counter}`);
const ms = (ns: bigint) => Number(ns) / 1e6;

/** CPU ms of each process in the target's tree, keyed by its name and pid. */
function cpuByProcess(target: Target): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of target.pids().flatMap(processTree)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${name}:${pid}`, (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      // exited
    }
  }
  return out;
}

async function once(
  target: Target,
  pool: ClientPool,
): Promise<{ m1p50: number; m2p99: number; connectsPerS: number; cpuMsPerConnect: number; completionsPerS: number; cpuMsPerCompletion: number }> {
  const put = (id: string) => pool.send(target, 'PUT', `/jobs/${id}`);
  const complete = (id: string) => pool.send(target, 'POST', `/jobs/${id}/complete`, { moveUrl: `/done?id=${id}` });
  const latencies: number[] = [];
  for (const [i, id] of ids(M1_ROUNDS + 5).entries()) {
    await put(id);
    await pool.open(target, [`/sse/connect/${id}`]);
    if (GAP_MS > 0) await new Promise((r) => setTimeout(r, GAP_MS));
    const { sentAt } = await complete(id);
    const [[, at] = ['', null]] = await pool.awaitResults(1);
    if (at && i >= 5) latencies.push(ms(at - sentAt));
    await pool.closeAll();
  }
  // M2: one job, 1,000 streams, p99 of the last receipt after the completion was sent.
  const [m2] = ids(1);
  await put(m2);
  await pool.open(target, Array.from({ length: M2_STREAMS }, () => `/sse/connect/${m2}`));
  const { sentAt: m2Sent } = await complete(m2);
  const m2Receipts = (await pool.awaitResults(M2_STREAMS)).flatMap(([, at]) => (at ? [ms(at - m2Sent)] : []));
  await pool.closeAll();

  const m3 = ids(M3_JOBS);
  await ClientPool.each(m3, 32, async (id) => void (await put(id)));
  const cpuBeforeConnects = treeStats(target.pids()).cpuMs;
  const opened = await pool.open(target, m3.map((id) => `/sse/connect/${id}`));
  const cpuMsPerConnect = (treeStats(target.pids()).cpuMs - cpuBeforeConnects) / M3_JOBS;
  if (process.env.FOCUS_MARK) {
    // For an outside profiler (perf): say when the completion window starts and ends.
    console.log('completions: start');
    await new Promise((r) => setTimeout(r, 1500));
  }
  const cpuBefore = treeStats(target.pids()).cpuMs;
  const byProcessBefore = cpuByProcess(target);
  const started = process.hrtime.bigint();
  let failed = 0;
  await ClientPool.each(m3, 32, async (id) => {
    if ((await complete(id)).status !== 200) failed++;
  });
  const elapsed = ms(process.hrtime.bigint() - started);
  if (process.env.FOCUS_MARK) console.log('completions: end');
  const cpu = treeStats(target.pids()).cpuMs - cpuBefore;
  const perProcess = [...cpuByProcess(target)].map(([key, after]) => `${key} ${((after - (byProcessBefore.get(key) ?? 0)) / M3_JOBS).toFixed(2)}`);
  console.log(`  ${target.name}: CPU ms per completion by process: ${perProcess.join(', ')}`);
  await pool.awaitResults(M3_JOBS);
  await pool.closeAll();
  if (failed) console.log(`  ${target.name}: ${failed} completions failed`);
  return {
    m1p50: percentile(latencies, 0.5),
    m2p99: percentile(m2Receipts, 0.99),
    connectsPerS: M3_JOBS / (opened.ms / 1000),
    cpuMsPerConnect,
    completionsPerS: M3_JOBS / (elapsed / 1000),
    cpuMsPerCompletion: cpu / M3_JOBS,
  };
}

/** M4 alone at a chosen size: `--m4 STREAMS,JOBS`. Reports time to open, and every kind of failure apart. */
async function m4(target: Target, pool: ClientPool, streams: number, jobs: number): Promise<void> {
  const jobIds = ids(jobs);
  const started = Date.now();
  await ClientPool.each(jobIds, 32, async (id) => void (await pool.send(target, 'PUT', `/jobs/${id}`)));
  const registered = Date.now();
  const paths = Array.from({ length: streams }, (_, i) => `/sse/connect/${jobIds[i % jobs]}`);
  const opened = await pool.open(target, paths, 24, 30_000);
  const stats = treeStats(target.pids());
  let failed = 0;
  const completing = Date.now();
  await ClientPool.each(jobIds, 32, async (id) => {
    const answer = await pool.send(target, 'POST', `/jobs/${id}/complete`, { moveUrl: '/b' }).catch(() => null);
    if (answer?.status !== 200) failed++;
  });
  const completed = Date.now();
  const results = await pool.awaitResults(streams, 30_000);
  const missing = streams - results.filter(([, at]) => at !== null).length;
  await pool.closeAll();
  console.log(
    `${target.name} M4 ${streams}/${jobs}: register ${registered - started} ms, open ${Math.round(opened.ms)} ms (${opened.errors} failed), ` +
      `sockets ${stats.sockets}, rss ${Math.round(stats.rssBytes / 2 ** 20)} MiB, complete ${completed - completing} ms (${failed} failed), ${missing} results missing`,
  );
}

const samples: Record<string, Array<Awaited<ReturnType<typeof once>>>> = Object.fromEntries(names.map((n) => [n, []]));
await inRounds(names, rounds, 15 * 60_000, async (target, pool, round) => {
  if (args.includes('--m4')) {
    const [streams, jobs] = args[args.indexOf('--m4') + 1].split(',').map(Number);
    await m4(target, pool, streams, jobs);
    return;
  }
  const sample = await once(target, pool);
  samples[target.name].push(sample);
  console.log(`round ${round} ${target.name}: ${JSON.stringify(sample)}`);
});
if (args.includes('--m4')) process.exit(0);
const summary = Object.fromEntries(
  names.map((name) => [
    name,
    {
      m1p50: median(samples[name].map((s) => s.m1p50)),
      m2p99: median(samples[name].map((s) => s.m2p99)),
      connectsPerS: median(samples[name].map((s) => s.connectsPerS)),
      cpuMsPerConnect: median(samples[name].map((s) => s.cpuMsPerConnect)),
      completionsPerS: median(samples[name].map((s) => s.completionsPerS)),
      cpuMsPerCompletion: median(samples[name].map((s) => s.cpuMsPerCompletion)),
    },
  ]),
);
console.table(summary);
if (summary.jobcast && summary.floor) {
  console.log(
    `jobcast ÷ floor: M1 p50 ${(summary.jobcast.m1p50 / summary.floor.m1p50).toFixed(2)}, M2 p99 ${(summary.jobcast.m2p99 / summary.floor.m2p99).toFixed(2)}, completions/s ${(summary.jobcast.completionsPerS / summary.floor.completionsPerS).toFixed(2)}, CPU per completion ${(summary.jobcast.cpuMsPerCompletion / summary.floor.cpuMsPerCompletion).toFixed(2)}`,
  );
}
process.exit(0);
