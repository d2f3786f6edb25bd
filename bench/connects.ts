// Connects only, as M3 opens them: N jobs registered, then one stream each opened from the client
// processes, timed until every stream's connect bytes arrived, with the server's CPU for them; then
// completed and closed. For taking a connect's cost apart against its floor without the rest of the
// bench. Prints the medians and the first target's ratios to the others.
//   node bench/connects.ts --only "jobcast,relay floor" [--rounds 5] [--jobs 1000]
import { ClientPool } from './load/pool.ts';
import { median } from './report.ts';
import { inRounds } from './rounds.ts';
import { treeStats } from './targets.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const names = opt('--only', 'jobcast,relay floor').split(',');
const rounds = Number(opt('--rounds', '5'));
const jobs = Number(opt('--jobs', '1000'));
const perTarget: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
const cpuPerConnect: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
let batch = 0;

await inRounds(names, rounds, 30 * 60_000, async (target, pool) => {
  // Two batches per start, the first a warm-up (compilation, the first objects).
  for (const warm of [true, false]) {
    const ids = Array.from({ length: warm ? 100 : jobs }, (_, i) => `c-${process.pid}-${++batch}-${i}`);
    await ClientPool.each(ids, 32, async (id) => void (await pool.send(target, 'PUT', `/jobs/${id}`)));
    const cpuBefore = treeStats(target.pids()).cpuMs;
    const opened = await pool.open(target, ids.map((id) => `/sse/connect/${id}`));
    const cpuMs = (treeStats(target.pids()).cpuMs - cpuBefore) / ids.length;
    await ClientPool.each(ids, 32, async (id) => void (await pool.send(target, 'POST', `/jobs/${id}/complete`, { moveUrl: `/done?id=${id}` })));
    const got = (await pool.awaitResults(ids.length, 20_000)).filter(([, at]) => at !== null).length;
    await pool.closeAll();
    if (opened.errors > 0 || got < ids.length) console.error(`${target.name}: ${opened.errors} connect errors, ${ids.length - got} results missing`);
    if (!warm) {
      perTarget[target.name].push(jobs / (opened.ms / 1000));
      cpuPerConnect[target.name].push(cpuMs);
      console.log(`${target.name}: ${Math.round(jobs / (opened.ms / 1000))} connects/s, ${cpuMs.toFixed(3)} ms server CPU each`);
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
});
const [base, ...rest] = names;
for (const name of names) {
  console.log(`${name}: median ${Math.round(median(perTarget[name]))} connects/s, ${median(cpuPerConnect[name]).toFixed(3)} ms server CPU each, over ${perTarget[name].length}`);
}
for (const name of rest) {
  const rate = median(perTarget[base]) / median(perTarget[name]);
  const cpu = median(cpuPerConnect[base]) / median(cpuPerConnect[name]);
  console.log(`${base} ÷ ${name}: connects/s ${rate.toFixed(3)}, CPU per connect ${cpu.toFixed(3)}`);
}
process.exit(0);
