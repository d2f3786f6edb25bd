import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { freePort, startDevServer, type DevServer } from '../node/support/dev-server';
import { bundle, installPackedPackage, ROOT } from '../support/installed-package';
import { signatureHeader } from '../../src/webhook-signature';
import { launchBrowser, openPage } from './support/browser';

/**
 * Every fenced code block of README.md and docs/api.md with a language runs as written, against
 * `wrangler dev`, in its language: `sh` in bash (curl, the CLI), page code (`js`, `html`) in
 * Chromium (bundled with esbuild from the packed package when it imports one), `ts` type-checked
 * and run with the packed package installed, `java` with the JDK. The one substitution is the
 * service's URL (`https://jobs.example.com`, `http://127.0.0.1:8787`). A block not meant to run
 * says so in its fence (```sh no-run); a block with no language (wire bytes, diagrams) is text.
 * A block that names a file of examples/ in its fence (```tsx examples/react/src/Wait.tsx) must be
 * that file, word for word: test/e2e/examples.test.ts runs the example apps.
 */
const run = promisify(execFile);
const FILES = ['README.md', 'docs/api.md'];
const EXAMPLE_URLS = ['https://jobs.example.com', 'http://127.0.0.1:8787'];
const TOKEN = 'dev-api-token';
const SIGNING_KEY = 'snippet-signing-key-0123456789abcdef';
const WEBHOOK_SECRET = 'snippet-webhook-secret-0123456789abcdef';

interface Block {
  file: string;
  line: number;
  lang: string;
  flags: string[];
  code: string;
}

function blocksOf(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, lang, flags] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]); j++) body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
    blocks.push({ file, line: i + 1, lang, flags: flags.split(/\s+/).filter(Boolean), code: body.join('\n') + '\n' });
    i = j;
  }
  return blocks;
}

const RUNNERS = ['sh', 'js', 'html', 'ts', 'java'];
const all = FILES.flatMap(blocksOf).filter((block) => block.lang !== '');
const runnable = all.filter((block) => !block.flags.includes('no-run'));
const exampleFile = (block: Block) => block.flags.find((flag) => flag.startsWith('examples/'));

let server: DevServer;
/** A front end's own server, on another origin than the service: localhost against 127.0.0.1. */
let pages: Server;
let pageOrigin: string;
const pageBodies = new Map<string, string>();
let browser: Browser;
let dir: string;
let project: string;
let serial = 0;

beforeAll(async () => {
  const pagePort = await freePort();
  pageOrigin = `http://localhost:${pagePort}`;
  pages = createServer((request, response) => {
    const url = new URL(request.url ?? '/', pageOrigin);
    const body = url.pathname === '/done' ? '<!doctype html><title>page B</title>' : pageBodies.get(url.pathname);
    if (body === undefined) return void response.writeHead(404).end();
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(body);
  });
  await new Promise<void>((listening) => pages.listen(pagePort, 'localhost', listening));
  [server, browser, { dir, project }] = await Promise.all([
    startDevServer({ ALLOWED_ORIGINS: pageOrigin }),
    launchBrowser(),
    installPackedPackage('snippets'),
  ]);
  // What the blocks import besides jobcast, at the versions this repository tests with.
  const version = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  const extras = ['@microsoft/fetch-event-source', 'hono', '@types/node'].map((name) => `${name}@${version(name)}`);
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...extras], { cwd: project });
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'], types: ['node'], strict: true, noEmit: true, allowImportingTsExtensions: true } }),
  );
}, 180_000);
afterAll(async () => {
  await Promise.all([browser?.close(), server?.stop(), new Promise((closed) => pages?.close(closed))]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function substitute(code: string): string {
  return EXAMPLE_URLS.reduce((text, url) => text.split(url).join(server.url), code);
}

const jobId = () => `snippet-${Math.random().toString(36).slice(2)}`;
const backend = (method: string, path: string, body?: unknown) =>
  fetch(`${server.url}${path}`, { method, headers: { Authorization: `Bearer ${TOKEN}` }, body: body === undefined ? undefined : JSON.stringify(body) });

async function runShell(block: Block): Promise<void> {
  const { stdout, stderr } = await run('bash', ['-euo', 'pipefail', '-c', substitute(block.code)], {
    cwd: ROOT,
    timeout: 60_000,
    env: { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`, JOBCAST_URL: server.url, SIGNING_KEY },
  });
  // curl exits 0 on an HTTP error: an error answer must not be in what the block printed.
  expect(stdout + stderr).not.toMatch(/"error":"/);
}

/** Page code: opened on a job of its own (?id=), which then progresses and completes; the page must move to its moveUrl. */
async function runPage(block: Block): Promise<void> {
  const code = substitute(block.code);
  const crossOrigin = EXAMPLE_URLS.some((url) => block.code.includes(url));
  const origin = crossOrigin ? pageOrigin : server.url;
  let script: string;
  if (block.lang === 'html') script = code;
  else if (/^import .* from '[^./]/m.test(code)) {
    const name = `page-${++serial}`;
    writeFileSync(join(project, `${name}.js`), code);
    await bundle(project, `${name}.js`, `out/${name}.js`);
    script = `<script type="module">${readFileSync(join(project, `out/${name}.js`), 'utf8')}</script>`;
  } else script = `<script type="module">${code}</script>`;
  const html = `<!doctype html><meta charset="utf-8"><title>snippet</title><progress max="1"></progress>${script}`;
  const { page, errors } = await openPage(browser);
  try {
    // Same-origin page code is served as if by the service itself (its other routes pass through).
    const path = `/snippet-${++serial}`;
    if (crossOrigin) pageBodies.set(path, html);
    else await page.route(`${origin}${path}?*`, (route) => route.fulfill({ contentType: 'text/html', body: html }));
    const id = jobId();
    expect((await backend('PUT', `/jobs/${id}`)).status).toBe(201);
    await page.goto(`${origin}${path}?id=${id}`);
    await expect
      .poll(async () => ((await (await backend('GET', `/jobs/${id}`)).json()) as { listeners: number }).listeners, { timeout: 10_000, message: `no stream opened; the page said: ${errors.join(' | ')}` })
      .toBe(1);
    expect((await backend('POST', `/jobs/${id}/progress`, { progress: 0.5 })).status).toBe(202);
    expect((await backend('POST', `/jobs/${id}/complete`, { moveUrl: `/done?id=${id}` })).status).toBe(200);
    await page.waitForURL((url) => url.pathname === '/done' && url.searchParams.get('id') === id, { timeout: 10_000 });
    expect(errors.filter((error) => error.startsWith("pageerror"))).toEqual([]);
  } finally {
    await page.close();
  }
}

async function runTypeScript(block: Block): Promise<void> {
  const name = `snippet-${++serial}`;
  writeFileSync(join(project, `${name}.ts`), substitute(block.code));
  await run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', project], { cwd: project }).catch((error) => {
    throw new Error(`tsc: ${error.stdout}${error.stderr}`);
  });
  const env = { ...process.env, JOBCAST_TOKEN: TOKEN, JOBCAST_WEBHOOK_SECRET: WEBHOOK_SECRET };
  const node = join(ROOT, 'node_modules/.bin/node');
  if (!/^export default app\b/m.test(block.code)) {
    await run(node, [`${name}.ts`], { cwd: project, env, timeout: 30_000 });
    return;
  }
  // A webhook receiver: sent a notification signed as jobcast signs, then the same one altered.
  const body = JSON.stringify({ id: 'ntf_snippet', type: 'job.vacated', job: '42', at: new Date().toISOString() });
  const signature = await signatureHeader(WEBHOOK_SECRET, Math.floor(Date.now() / 1000), body);
  writeFileSync(
    join(project, `${name}-driver.ts`),
    `import app from './${name}.ts';
const send = (body: string) => app.request('/jobcast-hooks', { method: 'POST', body, headers: { 'Jobcast-Signature': ${JSON.stringify(signature)} } });
console.log((await send(${JSON.stringify(body)})).status, (await send(${JSON.stringify(body.replace('"42"', '"43"'))})).status);
`,
  );
  const { stdout } = await run(node, [`${name}-driver.ts`], { cwd: project, env, timeout: 30_000 });
  expect(stdout.trim()).toBe('204 400');
}

/** What a Java block that is a library (no main) must do, by its class name. */
const JAVA_CHECKS: Record<string, string> = {
  SubscribeToken: `System.out.println(SubscribeToken.mint("test-signing-key-0123456789abcdef", "order-42", 1798761600L));`,
  JobcastSignature: 'System.out.println(JobcastSignature.verify(args[0], args[1], args[2]) + " " + JobcastSignature.verify(args[0] + " ", args[1], args[2]));',
};
const JAVA_EXPECTED: Record<string, string> = {
  SubscribeToken: 'v1.1798761600.leldmoQ0kQX4WBbuOJH4Fq38_Bj-0yVA-OCeeMbyDHQ',
  JobcastSignature: 'true false',
};

async function runJava(block: Block): Promise<void> {
  const code = substitute(block.code);
  const className = /public (?:final )?class (\w+)/.exec(code)?.[1];
  if (!className) throw new Error('a Java block must be a whole class, imports included');
  const javaDir = join(dir, `java-${++serial}`);
  mkdirSync(javaDir);
  writeFileSync(join(javaDir, `${className}.java`), code);
  const env = { ...process.env, JOBCAST_TOKEN: TOKEN };
  if (/public static void main\(/.test(code)) {
    const id = jobId();
    await run('java', [`${className}.java`, id], { cwd: javaDir, env, timeout: 60_000 });
    return;
  }
  const check = JAVA_CHECKS[className];
  if (!check) throw new Error(`no check for the Java class ${className}: give it a main or add one here`);
  writeFileSync(join(javaDir, 'Check.java'), `public class Check { public static void main(String[] args) throws Exception { ${check} } }`);
  await run('javac', ['-d', javaDir, join(javaDir, `${className}.java`), join(javaDir, 'Check.java')], { cwd: javaDir, timeout: 60_000 });
  const body = '{"id":"ntf_x","type":"job.expired","job":"42","at":"2026-12-02T08:00:00.000Z"}';
  const args = className === 'JobcastSignature' ? [body, await signatureHeader(WEBHOOK_SECRET, Math.floor(Date.now() / 1000), body), WEBHOOK_SECRET] : [];
  const { stdout } = await run('java', ['-cp', javaDir, 'Check', ...args], { cwd: javaDir, timeout: 60_000 });
  expect(stdout.trim()).toBe(JAVA_EXPECTED[className]);
}

describe('the code blocks of README.md and docs/api.md', () => {
  it('each has a runner, or says no-run in its fence', () => {
    const orphans = all.filter((block) => !block.flags.includes('no-run') && !RUNNERS.includes(block.lang) && !exampleFile(block)).map((b) => `${b.file}:${b.line} (${b.lang})`);
    expect(orphans).toEqual([]);
    expect(runnable.length).toBeGreaterThanOrEqual(10);
  });

  for (const block of runnable) {
    const example = exampleFile(block);
    if (example) {
      it(`${block.file}:${block.line} (${block.lang}) is ${example} as it is`, () => {
        expect(block.code).toBe(readFileSync(join(ROOT, example), 'utf8'));
      });
      continue;
    }
    it(`${block.file}:${block.line} (${block.lang}) runs as written`, async () => {
      if (block.lang === 'sh') return runShell(block);
      if (block.lang === 'js' || block.lang === 'html') return runPage(block);
      if (block.lang === 'ts') return runTypeScript(block);
      if (block.lang === 'java') return runJava(block);
    }, 90_000);
  }
});
