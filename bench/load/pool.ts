// The orchestrator's side of the load generator: several client processes and a keep-alive poster.
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join, resolve } from 'node:path';
import type { Target } from '../targets.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export class ClientPool {
  readonly #children: ChildProcess[];
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(size: number) {
    this.#children = Array.from({ length: size }, () =>
      fork(join(ROOT, 'bench/load/sse-clients.ts'), [], { execPath: join(ROOT, 'node_modules/.bin/node'), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
  }

  get pids(): number[] {
    return this.#children.map((child) => child.pid!);
  }

  #ask<T>(child: ChildProcess, message: object): Promise<T> {
    return new Promise((done) => {
      child.once('message', (reply) => done(reply as T));
      child.send(message);
    });
  }

  /** Opens every path, split over the client processes and the target's ports; returns errors. */
  async open(target: Target, paths: string[], concurrency = 24, timeoutMs = 20_000): Promise<{ errors: number; ms: number }> {
    const started = process.hrtime.bigint();
    const shares = this.#children.map((): string[] => []);
    paths.forEach((path, i) => shares[i % shares.length].push(path));
    const replies = await Promise.all(
      this.#children.map((child, i) =>
        shares[i].length === 0
          ? { errors: 0 }
          : this.#ask<{ errors: number }>(child, {
              cmd: 'open',
              host: '127.0.0.1',
              port: target.ports[i % target.ports.length],
              paths: shares[i],
              concurrency,
              timeoutMs,
            }),
      ),
    );
    return { errors: replies.reduce((sum, r) => sum + r.errors, 0), ms: Number(process.hrtime.bigint() - started) / 1e6 };
  }

  /** When each open stream received its result (hrtime ns), with its path; null where none came. */
  async results(): Promise<Array<[string, bigint | null]>> {
    const replies = await Promise.all(this.#children.map((child) => this.#ask<{ times: [string, string | null][] }>(child, { cmd: 'results' })));
    return replies.flatMap(({ times }) => times.map(([path, at]): [string, bigint | null] => [path, at === null ? null : BigInt(at)]));
  }

  /** Waits until `expected` open streams have their result, or the time is up. */
  async awaitResults(expected: number, timeoutMs = 15_000): Promise<Array<[string, bigint | null]>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const results = await this.results();
      const received = results.filter(([, at]) => at !== null).length;
      if (received >= expected || Date.now() > deadline) return results;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.#children.map((child) => this.#ask(child, { cmd: 'close' })));
  }

  async cpuMs(): Promise<number> {
    const replies = await Promise.all(this.#children.map((child) => this.#ask<{ usage: NodeJS.CpuUsage }>(child, { cmd: 'cpu' })));
    return replies.reduce((sum, { usage }) => sum + (usage.user + usage.system) / 1000, 0);
  }

  /** One request on a keep-alive connection; `sentAt` is taken just before it is written. */
  send(target: Target, method: string, path: string, body?: unknown): Promise<{ status: number; body: string; sentAt: bigint }> {
    return new Promise((done, fail) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        { host: '127.0.0.1', port: target.postPort, method, path, agent: this.#agent, headers: { ...target.headers, 'Content-Type': 'application/json' } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => done({ status: res.statusCode ?? 0, body: text, sentAt }));
        },
      );
      req.on('error', fail);
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
      const sentAt = process.hrtime.bigint();
      req.end(payload);
    });
  }

  /** Runs `task` over `items` with at most `concurrency` at once. */
  static async each<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
    const queue = [...items];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let item = queue.shift(); item !== undefined; item = queue.shift()) await task(item);
      }),
    );
  }

  stop(): void {
    for (const child of this.#children) child.kill();
    this.#agent.destroy();
  }
}
