import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle, installPackedPackage, ROOT, run, withPackLock } from '../support/installed-package';

let dir: string;
let project: string;

/** A TypeScript project, backend and front end in one, that installed the packed package as a user's would. */
beforeAll(async () => {
  ({ dir, project } = await installPackedPackage('app'));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'], types: [], strict: true, noEmit: true }, include: ['backend.ts'] }),
  );
  writeFileSync(
    join(project, 'tsconfig.page.json'),
    JSON.stringify({ compilerOptions: { target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], types: [], strict: true, noEmit: true }, include: ['page.ts'] }),
  );
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function typecheck(source: string, file = 'backend.ts'): Promise<{ ok: boolean; output: string }> {
  writeFileSync(join(project, file), source);
  try {
    await run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(project, file === 'page.ts' ? 'tsconfig.page.json' : 'tsconfig.json')]);
    return { ok: true, output: '' };
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    return { ok: false, output: stdout + stderr };
  }
}

const header = `import { JobcastApiError, JobcastClient, JobcastWebhookError, mintSubscribeToken, verifyWebhook } from 'jobcast/client';
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
if (view.status === 'result') console.log(view.moveUrl.length, view.data?.invoice);
else if (view.status === 'failed') console.log(view.error, view.moveUrl?.length);
const token: string = await mintSubscribeToken('key', 'order-42', 1798761600);
const event = await verifyWebhook('{}', 't=1,v1=00', 'secret', { toleranceSeconds: 60 });
const kind: 'job.vacated' | 'job.expired' = event.type;
console.log(kind, event.job, event.id, JobcastWebhookError.name);
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
    ['a moveUrl read as a string before the view is narrowed', `const v = await jobs.status('id'); const u: string = v.moveUrl;`, 'moveUrl'],
  ])('refuses %s', async (_name, call, named) => {
    const result = await typecheck(`${header}${call}\n`);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/backend\.ts\(\d+,\d+\): error TS\d+/);
    expect(result.output).toContain(named);
  }, 60_000);

  it('installs no runtime dependency but zod, whose types the answers are', () => {
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules/jobcast/package.json'), 'utf8')) as { dependencies?: Record<string, string>; engines?: { node?: string } };
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(['zod']);
    expect(manifest.engines?.node).toBe('>=20');
  });

  it('is accepted by npm publish --dry-run', async () => {
    const { stdout } = await withPackLock(() => run('npm', ['publish', '--dry-run', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: ROOT }));
    expect(stdout).toMatch(/^\+ jobcast@\d+\.\d+\.\d+$/m);
  }, 60_000);

  it('runs on the Node that installed it', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `import('jobcast/client').then((m) => console.log(typeof m.JobcastClient, typeof m.mintSubscribeToken))`], { cwd: project });
    expect(stdout.trim()).toBe('function function');
  });
});

const page = `import { JobcastError, redirectWhenDone, waitForJob, type ConnectionState, type JobOutcome } from 'jobcast/browser';
const controller = new AbortController();
`;

describe('jobcast/browser installed from the packed package', () => {
  it('ships the very file the service serves at /jobcast.js', () => {
    for (const name of ['jobcast.js', 'backoff.js']) {
      expect(readFileSync(join(project, 'node_modules/jobcast/public', name), 'utf8')).toBe(readFileSync(join(ROOT, 'public', name), 'utf8'));
    }
  });

  it('type-checks correct calls, with the outcome typed', async () => {
    const result = await typecheck(
      `${page}
const outcome: JobOutcome = await waitForJob({ id: '42', baseUrl: 'https://jobs.example.com', signal: controller.signal, notFoundTimeoutMs: 30_000,
  onProgress: ({ progress, message }) => console.log(progress.toFixed(2), message) });
const status: 'result' | 'failed' = outcome.status;
try { await redirectWhenDone({ id: '42', token: 't', onFailed: (failed) => console.log(failed.error) }); }
catch (error) { if (error instanceof JobcastError && error.code === 'job_not_found') console.log(status); }
const navigate = (url: string) => console.log(url);
if (outcome.status === 'result') navigate(outcome.moveUrl);
else console.log(outcome.error ?? 'failed', outcome.moveUrl?.length);
const shown: Record<ConnectionState, string> = { relayed: '', connecting: '', streaming: '', offline: 'reconnecting…', polling: '', settled: '' };
await waitForJob({ id: '42', onState: (state) => console.log(shown[state]) });
`,
      'page.ts',
    );
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  }, 60_000);

  it.each([
    ['a wait without an id', `await waitForJob({ baseUrl: 'https://jobs.example.com' });`, "'id'"],
    ['a progress handler that takes a string', `await waitForJob({ id: '42', onProgress: (p: string) => p });`, 'string'],
    ['an outcome status that does not exist', `const o = await waitForJob({ id: '42' }); if (o.status === 'done') {}`, '"done"'],
    ['a moveUrl used as a string before the outcome is narrowed', `const o = await waitForJob({ id: '42' }); const url: string = o.moveUrl;`, 'undefined'],
    ['data read from a failure', `const o = await waitForJob({ id: '42' }); if (o.status === 'failed') console.log(o.data);`, "'data'"],
    ['a state that does not exist', `await waitForJob({ id: '42', onState: (s) => { if (s === 'reconnecting') {} } });`, '"reconnecting"'],
  ])('refuses %s', async (_name, call, named) => {
    const result = await typecheck(`${page}${call}\n`, 'page.ts');
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/page\.ts\(\d+,\d+\): error TS\d+/);
    expect(result.output).toContain(named);
  }, 60_000);

  it('bundles into a page with esbuild', async () => {
    writeFileSync(join(project, 'main.js'), `import { waitForJob } from 'jobcast/browser';\nwindow.wait = waitForJob;\n`);
    await bundle(project, 'main.js', 'out/main.js');
    const bundled = readFileSync(join(project, 'out/main.js'), 'utf8');
    expect(bundled).toContain('job_not_found');
    expect(bundled).not.toMatch(/from ['"]\.\/backoff\.js['"]/); // resolved into the bundle
    // It runs: the module evaluates and exports what the page uses.
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `globalThis.window = globalThis; await import(${JSON.stringify(join(project, 'out/main.js'))}); console.log(typeof window.wait)`]);
    expect(stdout.trim()).toBe('function');
  }, 60_000);

  it('adds at most 6 KB to a page (2.5 KB gzipped), as the README says', async () => {
    writeFileSync(join(project, 'sized.js'), `import { redirectWhenDone, waitForJob } from 'jobcast/browser';\nwindow.jobcast = { redirectWhenDone, waitForJob };\n`);
    await bundle(project, 'sized.js', 'out/sized.js', true);
    const bytes = readFileSync(join(project, 'out/sized.js'));
    const kb = (n: number) => (n / 1024).toFixed(1);
    const [minified, gzipped] = [bytes.length, gzipSync(bytes, { level: 9 }).length];
    expect(minified).toBeLessThanOrEqual(6 * 1024);
    expect(gzipped).toBeLessThanOrEqual(2.5 * 1024);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain(`\`jobcast/browser\` adds ${kb(minified)} KB to a page (${kb(gzipped)} KB gzipped)`);
  }, 60_000);
});
