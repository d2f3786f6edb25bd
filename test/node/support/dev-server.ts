import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** `wrangler dev` of this project on a free loopback port, with its own state directory. */
export interface DevServer {
  url: string;
  port: number;
  process: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

const ROOT = resolve(import.meta.dirname, '../../..');

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

export async function startDevServer(
  vars: Record<string, string> = {},
  persistTo?: string,
  configPath = 'wrangler.toml',
  inspectorPort = 0,
  env: Record<string, string> = {},
): Promise<DevServer> {
  const port = await freePort();
  const state = persistTo ?? mkdtempSync(join(tmpdir(), 'jobcast-dev-'));
  const args = ['dev', '-c', configPath, '--ip', '127.0.0.1', '--port', String(port), '--persist-to', state, '--inspector-port', String(inspectorPort)];
  // The *-no-hibernate test projects run every server with HIBERNATE=false; the others set nothing,
  // so they run the default, as `npm run dev` does.
  const modeVars = process.env.JOBCAST_TEST_HIBERNATE === 'false' ? { HIBERNATE: 'false' } : {};
  for (const [name, value] of Object.entries({ ...modeVars, ...vars })) args.push('--var', `${name}:${value}`);
  const child = spawn(join(ROOT, 'node_modules/.bin/wrangler'), args, {
    cwd: ROOT,
    env: { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', CI: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      await new Promise((done) => {
        const timer = setTimeout(() => {
          try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
          done(undefined);
        }, 5000);
        child.once('exit', () => { clearTimeout(timer); done(undefined); });
      });
    }
    if (!persistTo) rmSync(state, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${output}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return { url, port, process: child, output: () => output, stop };
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  await stop();
  throw new Error(`wrangler dev did not answer /healthz within 60 s:\n${output}`);
}

/**
 * Open sockets, from /proc: `total` over wrangler's whole process tree, and `runtime` for the workerd
 * that runs this project's worker and objects (not the one serving wrangler's public proxy port).
 */
export function socketCounts(server: DevServer): { total: number; runtime: number } {
  const proxyListener = listeningInode(server.port);
  let total = 0;
  let runtime = 0;
  for (const pid of processTree(server.process.pid!)) {
    const sockets = socketInodes(pid);
    total += sockets.length;
    const isWorkerd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('workerd');
    if (isWorkerd && !sockets.includes(proxyListener)) runtime += sockets.length;
  }
  return { total, runtime };
}

export function socketInodes(pid: number): string[] {
  const inodes: string[] = [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.push(match[1]);
    } catch {
      // closed while we looked
    }
  }
  return inodes;
}

function listeningInode(port: number): string {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A') return fields[9];
  }
  throw new Error(`nothing listens on port ${port}`);
}
export function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // exited
    }
  }
  const tree: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/**
 * Loopback ports the project's own workerd (not wrangler's proxy) listens on. Requests sent there
 * skip wrangler's proxy hop, which is how the bench takes the runtime's floor apart.
 */
export function runtimePorts(server: DevServer): number[] {
  const proxyListener = listeningInode(server.port);
  const inodes = new Set<string>();
  for (const pid of processTree(server.process.pid!)) {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('workerd')) continue;
    const sockets = socketInodes(pid);
    if (sockets.includes(proxyListener)) continue;
    for (const inode of sockets) inodes.add(inode);
  }
  const ports: number[] = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[3] === '0A' && inodes.has(fields[9])) ports.push(parseInt(fields[1].split(':')[1], 16));
  }
  return ports;
}
