import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ROOT, run, withLockFolder, withPackLock } from '../../support/installed-package';

const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
/** What an app is made of, without what installing or building it makes. */
const appFile = (path: string) => !/[/\\](node_modules|dist)$/.test(path);

/**
 * An app of examples/ as its user gets it: the packed `jobcast` installed from its tarball next to
 * the app's own locked dependencies, in a folder outside the repository. The install is kept in the
 * temp folder under a key of the tarball's and the app's lockfile's hashes, so that both waiting
 * modes' test runs, and later runs with the same package, install once.
 */
export async function installedExample(name: string): Promise<string> {
  const pack = mkdtempSync(join(tmpdir(), `jobcast-example-pack-`));
  try {
    const { stdout } = await withPackLock(() => run('npm', ['pack', '--json', '--pack-destination', pack, ...NPM_FLAGS], { cwd: ROOT }));
    const tarball = (JSON.parse(stdout) as { filename: string }[])[0]!.filename;
    const source = join(ROOT, 'examples', name);
    const spec = (JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies.jobcast;
    if (spec !== `file:../${tarball}`) throw new Error(`examples/${name}/package.json must depend on "jobcast": "file:../${tarball}" (npm pack's name), not ${spec}`);
    const hash = createHash('sha256');
    for (const file of [join(pack, tarball), join(source, 'package-lock.json'), join(source, 'package.json')]) hash.update(readFileSync(file));
    const cached = join(tmpdir(), `jobcast-example-${name}-${hash.digest('hex').slice(0, 16)}`);
    return await withLockFolder(`${cached}.lock`, 300_000, async () => {
      if (existsSync(join(cached, name, 'node_modules', '.installed'))) {
        utimesSync(cached, new Date(), new Date()); // in use: not pruned by a run of another package
        return join(cached, name);
      }
      const building = `${cached}.${process.pid}`;
      rmSync(building, { recursive: true, force: true });
      // The app's files, the tarball beside them as its package.json expects; only node_modules is used.
      cpSync(source, join(building, name), { recursive: true, filter: appFile });
      copyFileSync(join(pack, tarball), join(building, tarball));
      await run('npm', ['ci', ...NPM_FLAGS], { cwd: join(building, name) });
      writeFileSync(join(building, name, 'node_modules', '.installed'), '');
      rmSync(cached, { recursive: true, force: true });
      renameSync(building, cached);
      pruneOlderInstalls(name, cached);
      return join(cached, name);
    });
  } finally {
    rmSync(pack, { recursive: true, force: true });
  }
}

/** Drops installs of earlier packages (a running test's working copy keeps its own hard links). */
function pruneOlderInstalls(name: string, current: string): void {
  for (const entry of readdirSync(tmpdir())) {
    const path = join(tmpdir(), entry);
    if (!entry.startsWith(`jobcast-example-${name}-`) || path === current || !/^[0-9a-f]{16}$/.test(entry.slice(`jobcast-example-${name}-`.length))) continue;
    if (Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true });
  }
}

/**
 * A working copy of an app for one test run: its files as the repository has them now, and the
 * installed node_modules hard-linked (nothing in them is written) into folders of its own, so that
 * Vite's caches and builds of concurrent runs stay apart.
 */
export async function workingCopy(name: string, installed: string): Promise<{ dir: string; remove: () => void }> {
  const parent = mkdtempSync(join(tmpdir(), 'jobcast-example-run-'));
  const dir = join(parent, name);
  cpSync(join(ROOT, 'examples', name), dir, { recursive: true, filter: appFile });
  await run('cp', ['-al', join(installed, 'node_modules'), join(dir, 'node_modules')]);
  return { dir, remove: () => rmSync(parent, { recursive: true, force: true }) };
}

/**
 * A port on localhost, held until `release`: the apps' origins must be known before the service
 * starts (its ALLOWED_ORIGINS), and Vite must be told a port; holding it leaves no other test the
 * time to take it.
 */
export async function reservePort(): Promise<{ port: number; release: () => Promise<void> }> {
  const holder = createServer();
  await new Promise<void>((listening) => holder.listen(0, 'localhost', listening));
  return { port: (holder.address() as AddressInfo).port, release: () => new Promise((closed) => holder.close(() => closed())) };
}

/** A Vite command (`vite`, `vite preview`) of the app, on the reserved localhost port, until stopped. */
export async function startVite(dir: string, args: string[], reserved: { port: number; release: () => Promise<void> }, env: Record<string, string>): Promise<{ origin: string; stop: () => Promise<void> }> {
  const { port } = reserved;
  await reserved.release();
  const child: ChildProcess = spawn(join(dir, 'node_modules/.bin/vite'), [...args, '--host', 'localhost', '--port', String(port), '--strictPort'], {
    cwd: dir,
    env: shellEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  };
  const origin = `http://localhost:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`vite ${args.join(' ')} exited early:\n${output}`);
    try {
      if ((await fetch(origin)).ok) return { origin, stop };
    } catch {
      // not listening yet
    }
    await new Promise((again) => setTimeout(again, 100));
  }
  await stop();
  throw new Error(`vite ${args.join(' ')} did not answer within 30 s:\n${output}`);
}

/**
 * The environment of a user's shell plus `vars`: without what Vitest sets for its own run, above all
 * NODE_ENV=test, which would make `vite build` bundle React's development build.
 */
export function shellEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_ENV' && name !== 'TEST' && !name.startsWith('VITEST')));
  return { ...env, ...vars };
}

