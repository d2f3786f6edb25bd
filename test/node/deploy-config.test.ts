import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * What `wrangler deploy --dry-run` would upload. The README's deploy section keeps every setting
 * across deploys: settings live in wrangler.toml's [vars], and a plain `wrangler deploy` (as at every
 * later deploy) sends them all; a setting given with `--var` would be dropped by the next plain
 * deploy, so the section must never use one. And the bundle stays within its size bound.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

function deploySection(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Deploying');
  return readme.slice(start, readme.indexOf('\n## ', start + 1));
}

/** `NAME = "value"` lines of the top-level [vars] table. */
function vars(toml: string): Record<string, string> {
  const table = /^\[vars\]\n([\s\S]*?)(?=^\[|$(?![\s\S]))/m.exec(toml)?.[1] ?? '';
  return Object.fromEntries([...table.matchAll(/^([A-Z_]+) = "([^"]*)"$/gm)].map(([, name, value]) => [name, value]));
}

/**
 * The bound on the worker's bundle: every new isolate parses and evaluates all of it before its first
 * request. It catches a dependency pulled in whole (full zod was 892 KiB), not a few KiB of features.
 */
const MAX_BUNDLE_KIB = 260;

// Step 1 of the README's deploy section: a setting edited in wrangler.toml's [vars]; then the dry
// run of a plain deploy, beside wrangler.toml so that `main` and the module rules resolve alike.
const edited = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8').replace(/^ALLOWED_ORIGINS = ""$/m, 'ALLOWED_ORIGINS = "https://shop.example.com"');
const config = join(ROOT, `.deploy-test-${process.pid}.toml`);
const outdir = mkdtempSync(join(tmpdir(), 'jobcast-deploy-'));
let stdout = '';

beforeAll(async () => {
  writeFileSync(config, edited);
  try {
    ({ stdout } = await run(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '-c', config, '--outdir', outdir], {
      cwd: ROOT,
      env: { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', CI: '1' },
    }));
  } finally {
    rmSync(config, { force: true });
  }
}, 60_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe("the README's deploy section", () => {
  it('puts no setting on the deploy command line', () => {
    const section = deploySection();
    expect(section).toContain('npx wrangler deploy');
    expect(section).not.toMatch(/wrangler deploy[^\n]*--var/);
  });

  it('keeps every setting of wrangler.toml, an edited one included, in what a plain deploy sends', () => {
    const expected = vars(edited);
    expect(expected).toMatchObject({ ALLOWED_ORIGINS: 'https://shop.example.com', HIBERNATE: 'true' });
    for (const [name, value] of Object.entries(expected)) expect(stdout).toContain(`env.${name} ("${value}")`);
  });
});

describe('the metrics binding', () => {
  it('is declared, so a plain deploy binds METRICS to the Analytics Engine dataset jobcast (docs/operations.md)', () => {
    expect(stdout).toMatch(/env\.METRICS \(jobcast\)\s+Analytics Engine Dataset/);
  });
});

describe('the deployed bundle', () => {
  it(`is at most ${MAX_BUNDLE_KIB} KiB`, () => {
    const kib = statSync(join(outdir, 'index.js')).size / 1024;
    expect(kib, `index.js is ${kib.toFixed(1)} KiB; see what grew with \`npx wrangler deploy --dry-run --outdir out --metafile out/meta.json\``).toBeLessThanOrEqual(MAX_BUNDLE_KIB);
  });
});
