import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, '../..');
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/**
 * A fresh project outside the repository that installed the packed package (`npm pack`, then
 * `npm install <tarball>`), as a user's would. `dir` holds it and the tarball; remove it when done.
 */
export async function installPackedPackage(name: string): Promise<{ dir: string; project: string }> {
  const dir = mkdtempSync(join(tmpdir(), `jobcast-pack-${name}-`));
  const { stdout } = await withPackLock(() => run('npm', ['pack', '--json', '--pack-destination', dir, ...NPM_FLAGS], { cwd: ROOT }));
  const tarball = join(dir, (JSON.parse(stdout) as { filename: string }[])[0].filename);
  const project = join(dir, name);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  await run('npm', ['install', tarball, ...NPM_FLAGS], { cwd: project });
  return { dir, project };
}

/**
 * Runs `fn` while no other test process packs: packing rebuilds dist/ (prepack), and test files of
 * several projects pack at the same time. A lock left by a killed run is taken after two minutes.
 */
export function withPackLock<T>(fn: () => Promise<T>): Promise<T> {
  return withLockFolder(join(tmpdir(), 'jobcast-npm-pack.lock'), 120_000, fn);
}

/** Runs `fn` while holding a lock folder, across processes; a lock older than `staleMs` was left by a killed run. */
export async function withLockFolder<T>(lock: string, staleMs: number, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > staleMs) rmSync(lock, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      await new Promise((again) => setTimeout(again, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Bundles `entry` (in `project`) for the browser with esbuild, the bundler wrangler itself uses. */
export async function bundle(project: string, entry: string, outfile: string, minify = false): Promise<void> {
  const flags = minify ? ['--minify'] : [];
  await run(join(ROOT, 'node_modules/.bin/esbuild'), [entry, '--bundle', '--format=esm', '--platform=browser', ...flags, `--outfile=${outfile}`], { cwd: project });
}
