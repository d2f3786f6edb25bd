// npm run soak: about 10 minutes of steady mixed load on loopback against `wrangler dev` — connects,
// departures, progress, completions — recording the runtime's memory and open sockets over time.
// Writes the generated part of SOAK.md (the run's summary and table). Stops by itself.
//   --minutes N (default 10)   --hibernate (HIBERNATE=true, written to its own section; without it,
//   HIBERNATE=false, whatever the project's default)
import { ClientPool } from './load/pool.ts';
import { writeGenerated } from './report.ts';
import { HEARTBEAT_MS, startOurs, treeStats } from './targets.ts';

const args = process.argv.slice(2);
const minutes = Number(args[args.indexOf('--minutes') + 1]) || 10;
const hibernate = args.includes('--hibernate');
const CYCLE_JOBS = 40;

const target = await startOurs('jobcast', { HIBERNATE: hibernate ? 'true' : 'false' }, true);
const pool = new ClientPool(2);
const stop = async () => {
  pool.stop();
  await target.stop();
};
process.once('SIGTERM', async () => {
  await stop();
  process.exit(130);
});
const bound = setTimeout(() => process.kill(process.pid, 'SIGTERM'), (minutes + 3) * 60_000);

const samples: { s: number; rssMiB: number; sockets: number; jobs: number; errors: number }[] = [];
const settleMs = Math.round(HEARTBEAT_MS * 1.5) + 15_000;
const socketsBefore = treeStats(target.pids()).sockets;
const started = Date.now();
let jobs = 0;
let errors = 0;
let cycle = 0;
try {
  while (Date.now() - started < minutes * 60_000) {
    cycle++;
    const ids = Array.from({ length: CYCLE_JOBS }, (_, i) => `soak-${cycle}-${i}`);
    await ClientPool.each(ids, 16, async (id) => void (await pool.send(target, 'PUT', `/jobs/${id}`)));
    // Two streams per job; half the jobs finish while their streams listen, the other half are
    // left by their clients (the departures), and expire later through their ttl.
    const opened = await pool.open(target, ids.flatMap((id) => [`/sse/connect/${id}`, `/sse/connect/${id}`]), 16);
    errors += opened.errors;
    const finishing = ids.slice(0, CYCLE_JOBS / 2);
    await ClientPool.each(finishing, 16, async (id) => {
      await pool.send(target, 'POST', `/jobs/${id}/progress`, { progress: 0.5, message: 'halfway' });
      const { status } = await pool.send(target, 'POST', `/jobs/${id}/complete`, { moveUrl: `/b/${id}` });
      if (status !== 200) errors++;
    });
    const received = (await pool.awaitResults(finishing.length * 2, 10_000)).filter(([, at]) => at !== null).length;
    errors += finishing.length * 2 - received;
    await pool.closeAll();
    jobs += CYCLE_JOBS;
    if (cycle % 5 === 0) {
      const stats = treeStats(target.pids());
      const sample = { s: Math.round((Date.now() - started) / 1000), rssMiB: Math.round(stats.rssBytes / 2 ** 20), sockets: stats.sockets, jobs, errors };
      samples.push(sample);
      console.log(JSON.stringify(sample));
    }
  }
  // A departed client is noticed at its next heartbeat, and wrangler's proxy closes idle keep-alive
  // connections ~15 s after; so wait a heartbeat and a half, plus those 15 s, before counting.
  await new Promise((r) => setTimeout(r, settleMs));
  const end = treeStats(target.pids());
  samples.push({ s: Math.round((Date.now() - started) / 1000), rssMiB: Math.round(end.rssBytes / 2 ** 20), sockets: end.sockets, jobs, errors });
} finally {
  clearTimeout(bound);
  await stop();
}

const first = samples.slice(0, Math.max(1, Math.floor(samples.length / 4)));
const last = samples.slice(-Math.max(1, Math.floor(samples.length / 4)));
const mean = (rows: typeof samples, key: 'rssMiB' | 'sockets') => rows.reduce((sum, r) => sum + r[key], 0) / rows.length;
let report = `${new Date().toISOString().slice(0, 16)}Z: \`npm run soak -- --minutes ${minutes}${hibernate ? ' --hibernate' : ''}\` against \`wrangler dev\` (heartbeat ${HEARTBEAT_MS} ms). `;
report += `Each cycle registers ${CYCLE_JOBS} jobs, opens 2 streams per job, sends progress and a completion to half of them, and drops the other half's clients.\n\n`;
report += `${jobs} jobs, ${errors} errors. Memory of the whole wrangler tree: first quarter ${mean(first, 'rssMiB').toFixed(0)} MiB, last quarter ${mean(last, 'rssMiB').toFixed(0)} MiB. `;
report += `Sockets: before the load ${socketsBefore}, first quarter ${mean(first, 'sockets').toFixed(0)}, last quarter ${mean(last, 'sockets').toFixed(0)}; ${settleMs / 1000} s after the load: ${samples.at(-1)!.sockets}.\n\n`;
report += `| seconds | memory (MiB) | sockets | jobs so far | errors |\n|---:|---:|---:|---:|---:|\n`;
for (const row of samples) report += `| ${row.s} | ${row.rssMiB} | ${row.sockets} | ${row.jobs} | ${row.errors} |\n`;
writeGenerated('SOAK.md', report, hibernate ? 'hibernate' : '');
console.log('wrote SOAK.md');
process.exit(0);
