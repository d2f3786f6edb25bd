// npm run bench: starts every target on loopback, runs the same load against each, stops them,
// and writes BENCHMARKS.md with medians and ratios, plus docs/benchmarks.png.
//   --runs N (default 3; bounded at 60 minutes, 20 more per run past 3)   --tiny (1 run, small loads, for trying changes)
//   --only a,b (target names)
import { readFileSync, writeFileSync } from 'node:fs';
import { measure, type Sample, type Scale } from './metrics.ts';
import { chart, markdown, median, METRICS, perRound, type Medians } from './report.ts';
import { inRounds, STARTERS } from './rounds.ts';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || (args.includes('--tiny') ? 1 : 3);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
const scale: Scale = args.includes('--tiny')
  ? { m1Rounds: 40, m2Subscribers: 100, m3Jobs: 300, m4Full: [100, 20, 100], m4Quick: [50, 10, 50] }
  : { m1Rounds: 40, m2Subscribers: 1000, m3Jobs: 1000, m4Full: [5000, 1000, 3000], m4Quick: [1000, 200, 500] };
const published = ['jobcast', 'floor', 'floor (object at register)', 'floor+assets', 'floor+storage', 'node', 'node+redis', 'pushpin', 'jobcast direct', 'floor direct'];
const names = only ?? published;

const samples: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
// A round takes ~10 minutes (the first, with M4, a little more): the bound is 60 minutes for the default
// three, 20 more for each round past them.
const boundMinutes = 60 + Math.max(0, runs - 3) * 20;
await inRounds(names, runs, boundMinutes * 60_000, async (target, pool, run) => {
  console.log(`run ${run}/${runs}: ${target.name}`);
  const sample = await measure(target, pool, scale, run === 1);
  samples[target.name].push(sample);
  console.log(JSON.stringify(sample));
});

const medians: Medians = Object.fromEntries(
  names.map((name) => [name, Object.fromEntries(METRICS.map(({ key }) => [key, median(samples[name].map((s) => s[key] as number))]).concat([['loadCpuMs', median(samples[name].map((s) => s.loadCpuMs))], ['m3Errors', median(samples[name].map((s) => s.m3Errors))]])) as unknown as Sample]),
);
const command = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
const charted = await chart(medians, 'docs/benchmarks.png');
const loadCpu = names.map((n) => `${n}: ${Math.round(medians[n].loadCpuMs)} ms`).join(', ');
let extra = perRound(samples);
extra += `\nLoad generator CPU (4 client processes plus the orchestrator's poster), median per run: ${loadCpu}.\n`;
extra += charted ? '\n![ratios](docs/benchmarks.png)\n' : '\n(No chart: Chromium was not found.)\n';
const analysis = readFileSync(new URL('./analysis.md', import.meta.url), 'utf8');
const size = ([streams, over, jobs]: number[]) => `${streams} streams over ${over} jobs, then ${jobs} jobs with one stream each`;
const m4 = `full size: ${size(scale.m4Full)}; quick size (targets behind wrangler's proxy): ${size(scale.m4Quick)}`;
writeFileSync('BENCHMARKS.md', `${markdown(medians, runs, command, extra, m4)}\n${analysis}`);
console.log('wrote BENCHMARKS.md');
process.exit(0);
