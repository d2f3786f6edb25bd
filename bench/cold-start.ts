// npm run bench:cold-start: how long a fresh runtime takes from start to its first answered request,
// for the worker as deployed (`wrangler deploy --dry-run --outdir`) now and at an earlier commit,
// measured in turns in one run. Writes BENCHMARKS.md's cold-start section.
//   --before <git ref> (default 24dfcb0, the last commit before the bundle was trimmed)   --runs N (default 15)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { median, writeGenerated } from './report.ts';

const ROOT = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const before = opt('--before', '24dfcb0');
const runs = Number(opt('--runs', '15'));

/** The worker's bundle as `wrangler deploy` would upload it, built from the checkout at `dir`. */
function build(dir: string): string {
  const out = mkdtempSync(join(tmpdir(), 'jobcast-cold-'));
  execFileSync(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', out], { cwd: dir, stdio: 'ignore', env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' } });
  return out;
}

/** A fresh runtime process serving the bundle in `out`: milliseconds from start to the first answer. */
async function coldStart(out: string): Promise<number> {
  const files = readdirSync(out).filter((name) => name !== 'index.js' && name !== 'README.md' && !name.endsWith('.map'));
  const started = performance.now();
  // Miniflare's plain worker options (its v4 shape), as the vitest plugin passes them too.
  const runtime = new Miniflare(convertV4MiniflareOptions({
    workers: [
      {
        name: 'jobcast',
        modules: [{ type: 'ESModule', path: join(out, 'index.js') }, ...files.map((name) => ({ type: 'Text' as const, path: join(out, name) }))],
        modulesRoot: out,
        compatibilityDate: '2026-10-01',
        durableObjects: { JOBS: 'JobObject' },
        bindings: { API_TOKENS: 'cold-start-token' },
      },
    ],
  }));
  try {
    const response = await runtime.dispatchFetch('http://localhost/healthz');
    if (!response.ok) throw new Error(`/healthz answered ${response.status}`);
    await response.text();
    return performance.now() - started;
  } finally {
    await runtime.dispose();
  }
}

const checkout = mkdtempSync(join(tmpdir(), 'jobcast-before-'));
execFileSync('git', ['worktree', 'add', '--detach', checkout, before], { cwd: ROOT, stdio: 'ignore' });
try {
  symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
  const bundles = { before: build(checkout), now: build(ROOT) };
  const size = (out: string) => statSync(join(out, 'index.js')).size / 1024;
  const times: Record<keyof typeof bundles, number[]> = { before: [], now: [] };
  await coldStart(bundles.now); // the first start of all pays for the runtime's own files to be read
  for (let run = 0; run < runs; run++) {
    // In turns, the order swapped every run, so drift over the run falls on both alike.
    for (const which of run % 2 ? (['now', 'before'] as const) : (['before', 'now'] as const)) times[which].push(await coldStart(bundles[which]));
    process.stdout.write('.');
  }
  const [b, n] = [median(times.before), median(times.now)];
  const text = `Measured ${new Date().toISOString().slice(0, 16)}Z with \`npm run bench:cold-start -- --runs ${runs}\` (median of ${runs} starts each, in turns):

| | \`index.js\` | start to first answer | ratio |
|---|---:|---:|---:|
| before (\`${before}\`) | ${size(bundles.before).toFixed(0)} KiB | ${b.toFixed(0)} ms | 1 |
| now | ${size(bundles.now).toFixed(0)} KiB | ${n.toFixed(0)} ms | ${(n / b).toFixed(3)} |`;
  writeGenerated(join(ROOT, 'BENCHMARKS.md'), text, 'cold-start');
  console.log(`\n${text}`);
  for (const out of Object.values(bundles)) rmSync(out, { recursive: true, force: true });
} finally {
  execFileSync('git', ['worktree', 'remove', '--force', checkout], { cwd: ROOT, stdio: 'ignore' });
}
