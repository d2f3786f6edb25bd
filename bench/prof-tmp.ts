import { readFileSync } from 'node:fs';
import { ClientPool } from './load/pool.ts';
import { startOurs } from './targets.ts';
import { processTree } from '../test/node/support/dev-server.ts';
function cpu(root: number) {
  const out: number[] = [];
  for (const pid of processTree(root)) {
    try { const st = readFileSync(`/proc/${pid}/stat`, 'utf8'); const f = st.slice(st.lastIndexOf(')') + 2).split(' '); out.push((Number(f[11]) + Number(f[12])) * 10); } catch {}
  }
  return out;
}
const pool = new ClientPool(4);
const t = await startOurs();
for (let round = 0; round < 2; round++) {
  const ids = Array.from({ length: 1000 }, (_, i) => `p-${round}-${i}`);
  await ClientPool.each(ids, 32, async (id) => void (await pool.send(t, 'PUT', `/jobs/${id}`)));
  await pool.open(t, ids.map((id) => `/sse/connect/${id}`));
  const a = cpu(t.pids()[0]);
  await ClientPool.each(ids, 32, async (id) => void (await pool.send(t, 'POST', `/jobs/${id}/complete`, { moveUrl: '/x' })));
  await pool.awaitResults(1000);
  const b = cpu(t.pids()[0]);
  console.log('cpu ms per 1000:', b.map((v, i) => v - a[i]).join(' '));
  await pool.closeAll();
}
await t.stop();
pool.stop(); process.exit(0);
