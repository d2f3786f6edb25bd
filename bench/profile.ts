// npm run bench:profile: a V8 CPU profile of the worker and its objects under `wrangler dev` while
// 1,000 jobs complete, summed by function. Tells where our JavaScript spends its time.
// `-- --floor-storage` profiles the floor with its durable write instead, to set the two side by side.
import { ClientPool } from './load/pool.ts';
import { startFloorStorage, startOurs } from './targets.ts';
import { freePort } from '../test/node/support/dev-server.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

const inspectorPort = await freePort();
const target = process.argv.includes('--floor-storage') ? await startFloorStorage(inspectorPort) : await startOurs({ inspectorPort });
const pool = new ClientPool(4);
const bound = setTimeout(() => process.kill(process.pid, 'SIGTERM'), 5 * 60_000);
process.once('SIGTERM', async () => {
  pool.stop();
  await target.stop();
  process.exit(130);
});
try {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string; title: string }[];
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl, { headers: { Origin: 'http://127.0.0.1', Host: `127.0.0.1:${inspectorPort}` } } as never);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', (e) => reject(new Error(`inspector: ${String((e as ErrorEvent).message ?? e)}`)), { once: true });
    socket.addEventListener('close', (e) => reject(new Error(`inspector closed: ${e.code} ${e.reason}`)), { once: true });
  });
  let nextId = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<any>((resolve) => {
      const id = ++nextId;
      const onMessage = (event: MessageEvent) => {
        const message = JSON.parse(String(event.data));
        if (message.id === id) {
          socket.removeEventListener('message', onMessage);
          resolve(message.result);
        }
      };
      socket.addEventListener('message', onMessage);
      socket.send(JSON.stringify({ id, method, params }));
    });

  const ids = Array.from({ length: 1000 }, (_, i) => `prof-${i}`);
  await ClientPool.each(ids, 32, async (id) => void (await pool.send(target, 'PUT', `/jobs/${id}`)));
  await pool.open(target, ids.map((id) => `/sse/connect/${id}`));
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: 100 });
  await call('Profiler.start');
  await ClientPool.each(ids, 32, async (id) => void (await pool.send(target, 'POST', `/jobs/${id}/complete`, { moveUrl: '/x' })));
  await pool.awaitResults(1000);
  const { profile } = await call('Profiler.stop');
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((n: ProfileNode) => [n.id, n]));
  const totals = new Map<string, number>();
  const deltas: number[] = profile.timeDeltas;
  profile.samples.forEach((nodeId: number, i: number) => {
    const { functionName, url, lineNumber } = byNode.get(nodeId)!.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    totals.set(key, (totals.get(key) ?? 0) + (deltas[i + 1] ?? 0));
  });
  const all = [...totals.values()].reduce((a, b) => a + b, 0);
  console.log(`sampled ${(all / 1000).toFixed(0)} ms over 1,000 completions; self time by function:`);
  for (const [key, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`${(us / 1000).toFixed(1).padStart(8)} ms  ${((us / all) * 100).toFixed(1).padStart(5)}%  ${key}`);
  }
  socket.close();
  clearTimeout(bound);
} finally {
  pool.stop();
  await target.stop();
}
process.exit(0);
