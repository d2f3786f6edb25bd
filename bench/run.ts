// npm run bench: starts every target on loopback, runs the same load against each, stops them,
// and writes BENCHMARKS.md with medians and ratios, plus docs/benchmarks.png.
//   --runs N (default 3)   --tiny (1 run, small loads, for trying changes)
//   --only a,b (target names)
import { readFileSync, writeFileSync } from 'node:fs';
import { measure, type Sample, type Scale } from './metrics.ts';
import { ClientPool } from './load/pool.ts';
import { chart, markdown, median, METRICS, type Medians } from './report.ts';
import { direct, startFloor, startFloorAssets, startFloorAssetsStorage, startNode, startOurs, startPushpin, startRedisPair, type Target } from './targets.ts';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || (args.includes('--tiny') ? 1 : 3);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
const scale: Scale = args.includes('--tiny')
  ? { m1Rounds: 40, m2Subscribers: 100, m3Jobs: 300, m4Full: [100, 20, 100], m4Quick: [50, 10, 50] }
  : { m1Rounds: 40, m2Subscribers: 1000, m3Jobs: 1000, m4Full: [5000, 1000, 3000], m4Quick: [1000, 200, 500] };

const starters: Record<string, () => Promise<Target>> = {
  jobcast: startOurs,
  floor: startFloor,
  'floor+assets': startFloorAssets,
  'floor+assets+storage': startFloorAssetsStorage,
  node: startNode,
  'node+redis': startRedisPair,
  pushpin: startPushpin,
  'jobcast direct': () => direct(startOurs, 'jobcast direct'),
  'floor direct': () => direct(startFloor, 'floor direct'),
};
const names = Object.keys(starters).filter((name) => !only || only.includes(name));

const deadline = setTimeout(() => {
  console.error('bench: over its 60-minute bound, stopping');
  process.kill(process.pid, 'SIGTERM');
}, 60 * 60_000);

const pool = new ClientPool(4);
// wrangler runs in its own process group; make sure an interrupted bench leaves no server behind.
let running: Target | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    pool.stop();
    await running?.stop();
    process.exit(130);
  });
}
const samples: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
try {
  for (let run = 1; run <= runs; run++) {
    for (const name of names) {
      const target = await starters[name]();
      running = target;
      try {
        console.log(`run ${run}/${runs}: ${name}`);
        const sample = await measure(target, pool, scale, run === 1);
        samples[name].push(sample);
        console.log(JSON.stringify(sample));
      } finally {
        await target.stop();
        running = null;
      }
    }
  }
} finally {
  pool.stop();
  clearTimeout(deadline);
}

const medians: Medians = Object.fromEntries(
  names.map((name) => [name, Object.fromEntries(METRICS.map(({ key }) => [key, median(samples[name].map((s) => s[key] as number))]).concat([['loadCpuMs', median(samples[name].map((s) => s.loadCpuMs))], ['m3Errors', median(samples[name].map((s) => s.m3Errors))]])) as unknown as Sample]),
);
const command = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
const charted = await chart(medians, 'docs/benchmarks.png');
const loadCpu = names.map((n) => `${n}: ${Math.round(medians[n].loadCpuMs)} ms`).join(', ');
let extra = `\nLoad generator CPU (4 client processes plus the orchestrator's poster), median per run: ${loadCpu}.\n`;
extra += charted ? '\n![ratios](docs/benchmarks.png)\n' : '\n(No chart: Chromium was not found.)\n';
const analysis = readFileSync(new URL('./analysis.md', import.meta.url), 'utf8');
const size = ([streams, over, jobs]: number[]) => `${streams} streams over ${over} jobs, then ${jobs} jobs with one stream each`;
const m4 = `full size: ${size(scale.m4Full)}; quick size (targets behind wrangler's proxy): ${size(scale.m4Quick)}`;
writeFileSync('BENCHMARKS.md', `${markdown(medians, runs, command, extra, m4)}\n${analysis}`);
console.log('wrote BENCHMARKS.md');
process.exit(0);
