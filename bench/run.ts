// npm run bench: starts every target on loopback, runs the same load against each, stops them, and
// writes the generated part of BENCHMARKS.md (medians and ratios) and docs/benchmarks.png.
//   --runs N (default 1, about 13 minutes and at most 15; each more run about 11 more)   --only a,b (target names)
//   --tiny (small loads, for trying a change)
import { measure, type Sample, type Scale } from './metrics.ts';
import { chart, machine, median, METRICS, table, writeGenerated, type Medians } from './report.ts';
import { inRounds, STARTERS } from './rounds.ts';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 1;
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
const scale: Scale = args.includes('--tiny')
  ? { m1Rounds: 20, m2Subscribers: 100, m3Jobs: 200, m4: [100, 20, 100] }
  : { m1Rounds: 40, m2Subscribers: 1000, m3Jobs: 1000, m4: [5000, 1000, 3000] };
const names = only ?? Object.keys(STARTERS);

const samples: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
const failures: string[] = [];
await inRounds(names, runs, (15 + (runs - 1) * 13) * 60_000, async (target, pool, run) => {
  console.log(`run ${run}/${runs}: ${target.name}`);
  try {
    const sample = await measure(target, pool, scale, run === 1);
    samples[target.name].push(sample);
    console.log(JSON.stringify(sample));
  } catch (error) {
    // One target failing (a server that died under load) must not throw away the others' numbers.
    failures.push(`${target.name} (run ${run}): ${String(error)}`);
    console.error(`bench: ${failures.at(-1)}`);
  }
});

const medianOf = (name: string, key: keyof Sample) => median(samples[name].map((s) => s[key]));
const keys: (keyof Sample)[] = [...METRICS.map((m) => m.key), 'loadCpuMs'];
const medians: Medians = Object.fromEntries(names.map((name) => [name, Object.fromEntries(keys.map((key) => [key, medianOf(name, key)])) as unknown as Sample]));
const charted = await chart(medians, 'docs/benchmarks.png');
const size = ([streams, over, jobs]: number[]) => `${streams.toLocaleString('en')} streams over ${over.toLocaleString('en')} jobs, then ${jobs.toLocaleString('en')} jobs with one stream each`;
const loadCpu = names.map((n) => `${n} ${Math.round(medians[n].loadCpuMs)} ms`).join(', ');
writeGenerated(
  'BENCHMARKS.md',
  `Measured ${new Date().toISOString().slice(0, 16)}Z on ${machine()}, with \`npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}\`:
the median of ${runs} run(s) (M4 in the first only). M4: ${size(scale.m4)}.
Load generator CPU per run: ${loadCpu}.${failures.length ? `\n\nFailed, left out of the medians: ${failures.join('; ')}.` : ''}

${table(medians)}
${charted ? '![jobcast ÷ each peer](docs/benchmarks.png)' : '(No chart: Chromium was not found.)'}`,
);
console.log('wrote BENCHMARKS.md');
process.exit(0);
