import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * The README's deploy section keeps every setting across deploys: settings live in wrangler.toml's
 * [vars], and `wrangler deploy` (plain, as at every later deploy) sends them all. A setting given
 * with `--var` would be dropped by the next plain deploy, so the section must never use one.
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

describe("the README's deploy section", () => {
  it('puts no setting on the deploy command line', () => {
    const section = deploySection();
    expect(section).toContain('npx wrangler deploy');
    expect(section).not.toMatch(/wrangler deploy[^\n]*--var/);
  });

  it('keeps every setting of wrangler.toml, an edited one included, in what a plain deploy sends', async () => {
    // Step 1 of the section: a setting edited in wrangler.toml's [vars].
    const edited = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8').replace(/^ALLOWED_ORIGINS = ""$/m, 'ALLOWED_ORIGINS = "https://shop.example.com"');
    const expected = vars(edited);
    expect(expected).toMatchObject({ ALLOWED_ORIGINS: 'https://shop.example.com', HIBERNATE: 'true' });
    // Beside wrangler.toml, so that `main` and the module rules resolve the same way.
    const config = join(ROOT, `.deploy-test-${process.pid}.toml`);
    const outdir = mkdtempSync(join(tmpdir(), 'jobcast-deploy-'));
    writeFileSync(config, edited);
    try {
      const { stdout } = await run(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '-c', config, '--outdir', outdir], {
        cwd: ROOT,
        env: { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', CI: '1' },
      });
      for (const [name, value] of Object.entries(expected)) expect(stdout).toContain(`env.${name} ("${value}")`);
    } finally {
      rmSync(config, { force: true });
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);
});
