// npm run bench:layers: what jobcast's worker itself costs per backend call, in microseconds, against a
// bare handler making the same hop (bench/layers/worker.ts), both in one runtime under wrangler dev and
// both calling a stand-in object that answers at once. Rounds alternate in a shuffled order; medians
// and minimums, since other processes on a 2-core machine only ever add time. Then the cost of a log
// line outside the isolate (runtime, wrangler's Node process), per line, from the process tree's CPU.
//   --rounds N (default 15)   --calls N per variant per round (default 2000)
//   --objects: the objects' side instead: jobcast's object against the floor+storage object (or the
//   objects named by --variants a,b,c, the last the one the others are compared with), all real
//   (SQLite, durable writes) in one runtime and called as their workers call them, in CPU of the whole
//   process tree and wall time per job, for register, complete (nobody listening), and stream (a stream
//   opened, the job completed, the stream read to its end). --jobs N per batch (default 300), --par P
//   calls at a time (default 1), --no-stream (register and complete only), --settle MS to wait after
//   each batch before reading the CPU (default 300).
import { startDevServer } from '../test/node/support/dev-server.ts';
import { treeStats } from './targets.ts';

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1]) || 15;
const calls = Number(args[args.indexOf('--calls') + 1]) || 2000;
const server = await startDevServer({}, undefined, 'bench/layers/wrangler.toml');
const bound = setTimeout(() => process.kill(process.pid, 'SIGTERM'), 10 * 60_000);
process.once('SIGTERM', async () => {
  await server.stop();
  process.exit(130);
});
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);

if (args.includes('--objects')) {
  try {
    await objectsSide();
  } finally {
    clearTimeout(bound);
    await server.stop();
  }
  process.exit(0);
}

try {
  await fetch(`${server.url}/?v=app,bare&n=500`).then((r) => r.text()); // warm-up
  const samples: Record<string, number[]> = { app: [], bare: [] };
  for (let round = 0; round < rounds; round++) {
    const order = Math.random() < 0.5 ? 'app,bare' : 'bare,app';
    const response = await fetch(`${server.url}/?v=${order}&n=${calls}`);
    if (!response.ok) throw new Error(await response.text());
    for (const [name, us] of Object.entries((await response.json()) as Record<string, number>)) samples[name].push(us);
  }
  const stats = Object.fromEntries(
    Object.entries(samples).map(([name, values]) => {
      const s = sorted(values);
      return [name, { median: s[Math.floor(s.length / 2)], min: s[0] }];
    }),
  );
  console.log(`µs per backend call (${rounds} rounds × ${calls} calls each, medians / minimums):`);
  for (const [name, { median, min }] of Object.entries(stats)) console.log(`  ${name.padEnd(5)} ${median.toFixed(1)} / ${min.toFixed(1)}`);
  console.log(`  jobcast's worker layers: ${(stats.app.median - stats.bare.median).toFixed(1)} / ${(stats.app.min - stats.bare.min).toFixed(1)} µs per call`);

  // Log lines: CPU of the whole tree (wrangler's Node process and its two runtimes) per line.
  const pids = [server.process.pid!];
  const linesCpu = async (n: number, bytes: number) => {
    const before = treeStats(pids).cpuMs;
    await fetch(`${server.url}/lines?n=${n}&bytes=${bytes}`).then((r) => r.text());
    await sleep(1500); // wrangler prints them after the request
    return treeStats(pids).cpuMs - before;
  };
  // The app's log batching under a load-like rhythm (bursts of 20 calls, batches closing between
  // them): CPU per call with the real console against the same calls with console.log a no-op.
  const batchedCpu = async (log: string) => {
    const before = treeStats(pids).cpuMs;
    await fetch(`${server.url}/batched?n=1000&burst=20&log=${log}`).then((r) => r.text());
    await sleep(1500);
    return (treeStats(pids).cpuMs - before) / 1000;
  };
  const batched: Record<string, number[]> = { on: [], off: [] };
  for (let i = 0; i < 6; i++) {
    for (const log of i % 2 ? ['off', 'on'] : ['on', 'off']) batched[log].push(await batchedCpu(log));
  }
  const mid = (values: number[]) => sorted(values)[Math.floor(values.length / 2)];
  console.log(
    `  the app's batched log lines under a load-like rhythm (1,000 calls in bursts of 20; 6 rounds): ` +
      `${mid(batched.on).toFixed(3)} ms of CPU per call with them, ${mid(batched.off).toFixed(3)} without`,
  );
  for (const bytes of [100, 2000]) {
    const per: number[] = [];
    for (let i = 0; i < 5; i++) per.push(((await linesCpu(300, bytes)) - (await linesCpu(0, bytes))) / 300);
    console.log(`  a log line of ~${bytes} bytes: ${sorted(per)[2].toFixed(2)} ms of CPU across the tree (median of 5 × 300 lines)`);
  }
} finally {
  clearTimeout(bound);
  await server.stop();
}
process.exit(0);

async function objectsSide(): Promise<void> {
  const jobs = Number(args[args.indexOf('--jobs') + 1]) || 300;
  const par = Number(args[args.indexOf('--par') + 1]) || 1;
  const objectRounds = Number(args[args.indexOf('--rounds') + 1]) || 9;
  const settle = Number(args[args.indexOf('--settle') + 1]) || 300;
  const variants = args.includes('--variants') ? args[args.indexOf('--variants') + 1].split(',') : ['jobcast', 'floor'];
  const phases = args.includes('--no-stream') ? ['register', 'complete'] : ['register', 'complete', 'stream'];
  const pids = [server.process.pid!];
  let batches = 0;
  const phase = async (v: string, name: string, batch: string) => {
    const before = treeStats(pids).cpuMs;
    const response = await fetch(`${server.url}/objects?v=${v}&phase=${name}&batch=${batch}&n=${jobs}&par=${par}`);
    if (!response.ok) throw new Error(`${v} ${name}: ${await response.text()}`);
    const { usPerJob } = (await response.json()) as { usPerJob: number };
    await sleep(settle); // what the request left running (writes, logs) finishes
    return { cpu: (treeStats(pids).cpuMs - before) / jobs, wall: usPerJob / 1000 };
  };
  const results: Record<string, { cpu: number[]; wall: number[] }> = {};
  const add = (key: string, sample: { cpu: number; wall: number }) => {
    results[key] ??= { cpu: [], wall: [] };
    results[key].cpu.push(sample.cpu);
    results[key].wall.push(sample.wall);
  };
  for (const v of variants) {
    // warm-up: the code paths compiled, the state directory's first files made
    await phase(v, 'register', `warm-${v}`);
    await phase(v, 'complete', `warm-${v}`);
  }
  for (let round = 0; round < objectRounds; round++) {
    // each round starts one variant further on
    for (const v of variants.map((_, i) => variants[(i + round) % variants.length])) {
      const quiet = `${v}-q${++batches}`;
      add(`${v} register`, await phase(v, 'register', quiet));
      add(`${v} complete`, await phase(v, 'complete', quiet));
      if (!phases.includes('stream')) continue;
      const listened = `${v}-s${++batches}`;
      await phase(v, 'register', listened);
      add(`${v} stream`, await phase(v, 'stream', listened));
    }
  }
  const mid = (values: number[]) => sorted(values)[Math.floor(values.length / 2)];
  const peer = variants[variants.length - 1];
  console.log(`The objects' side: ms per job, CPU of the whole tree / wall (medians of ${objectRounds} rounds × ${jobs} jobs, ${par} at a time); − ${peer}: the median of the rounds' paired differences in CPU`);
  for (const name of phases) {
    const base = results[`${peer} ${name}`];
    const cells = variants.map((v) => {
      const { cpu, wall } = results[`${v} ${name}`];
      const diff = v === peer ? '' : ` (− ${peer} ${mid(cpu.map((c, i) => c - base.cpu[i])).toFixed(3)})`;
      return `${v} ${mid(cpu).toFixed(3)} / ${mid(wall).toFixed(3)}${diff}`;
    });
    console.log(`  ${name.padEnd(8)} ${cells.join('   ')}`);
  }
}
