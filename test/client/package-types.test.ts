import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
let dir: string;
let project: string;

/** A TypeScript backend that installed the packed package, as a user's project would. */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jobcast-pack-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir, ...NPM_FLAGS], { cwd: ROOT });
  const tarball = join(dir, (JSON.parse(stdout) as { filename: string }[])[0].filename);
  project = join(dir, 'backend');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'backend', private: true, type: 'module' }));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'], types: [], strict: true, noEmit: true } }),
  );
  await run('npm', ['install', tarball, ...NPM_FLAGS], { cwd: project });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function typecheck(source: string): Promise<{ ok: boolean; output: string }> {
  writeFileSync(join(project, 'backend.ts'), source);
  try {
    await run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', project]);
    return { ok: true, output: '' };
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    return { ok: false, output: stdout + stderr };
  }
}

const header = `import { JobcastApiError, JobcastClient, mintSubscribeToken } from 'jobcast/client';
const jobs = new JobcastClient({ baseUrl: 'https://jobs.example.com', token: 'secret' });
`;

describe('jobcast/client installed from the packed package', () => {
  it('type-checks correct calls, with the answers typed', async () => {
    const result = await typecheck(`${header}
const registered = await jobs.register('order-42', { ttlSeconds: 600 });
const url: string = registered.subscribeUrl;
const published = await jobs.complete('order-42', { moveUrl: '/done', data: { invoice: 'A-1', lines: [1, 2] } });
const eventId: number = published.eventId;
const failed = await jobs.fail('order-43', { error: 'declined' });
const view = await jobs.status('order-42');
const status: 'pending' | 'result' | 'failed' = view.status;
const token: string = await mintSubscribeToken('key', 'order-42', 1798761600);
try { await jobs.progress('order-42', 0.5, 'Half'); } catch (error) { if (error instanceof JobcastApiError) console.log(error.code, error.status); }
console.log(url, eventId, failed.delivered, status, token);
`);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  }, 60_000);

  it.each([
    // Reported at the moveUrl field itself (line 3, column 29).
    ['a moveUrl that is not a string', `await jobs.complete('id', { moveUrl: 42 });`, "backend.ts(3,29): error TS2322: Type 'number' is not assignable to type 'string'"],
    ['a completion without a moveUrl', `await jobs.complete('id', {});`, 'moveUrl'],
    ['a field the service refuses', `await jobs.register('id', { ttl: 5 });`, 'ttl'],
    ['a progress that is not a number', `await jobs.progress('id', '0.5');`, 'string'],
  ])('refuses %s', async (_name, call, named) => {
    const result = await typecheck(`${header}${call}\n`);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/backend\.ts\(\d+,\d+\): error TS\d+/);
    expect(result.output).toContain(named);
  }, 60_000);

  it('runs on the Node that installed it', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `import('jobcast/client').then((m) => console.log(typeof m.JobcastClient, typeof m.mintSubscribeToken))`], { cwd: project });
    expect(stdout.trim()).toBe('function function');
  });
});
