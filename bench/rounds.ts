// The targets by name, and running each in turn for some rounds with the server always stopped
// afterwards, on a time bound and on a signal.
import { ClientPool } from './load/pool.ts';
import { startAssets, startFloor, startNode, startOurs, startPushpin, startRedisPair, startRelayFloor, type Target } from './targets.ts';

/** The column measured through `wrangler dev`'s proxy, with its trace store on, as `npm run dev` runs. */
export const THROUGH_DEV_PROXY = 'jobcast (wrangler dev)';

// Every jobcast target names its waiting mode: HIBERNATE=true is the default, and each mode is
// compared with its own floor (bench/report.ts).
export const STARTERS: Record<string, () => Promise<Target>> = {
  jobcast: () => startOurs('jobcast', { HIBERNATE: 'true' }),
  'jobcast (HIBERNATE=false)': () => startOurs('jobcast (HIBERNATE=false)', { HIBERNATE: 'false' }),
  'relay floor': startRelayFloor,
  floor: () => startFloor(),
  'floor+storage': () => startFloor(true),
  node: startNode,
  'node+redis': startRedisPair,
  pushpin: startPushpin,
  'jobcast (assets)': startAssets,
  [THROUGH_DEV_PROXY]: () => startOurs(THROUGH_DEV_PROXY, { HIBERNATE: 'true' }, true),
};

/**
 * Starts every named target `rounds` times, one after another (each round in a rotated order), hands it
 * to `each`, and stops it.
 * Past `boundMs` the running target is stopped and no further one started, so what was measured is
 * still written; on SIGINT/SIGTERM the running server is stopped and the process exits (wrangler runs
 * in its own process group, so nothing may be left behind).
 */
export async function inRounds(
  names: string[],
  rounds: number,
  boundMs: number,
  each: (target: Target, pool: ClientPool, round: number) => Promise<void>,
): Promise<void> {
  const pool = new ClientPool(4);
  let running: Target | null = null;
  let overBound = false;
  const bound = setTimeout(() => {
    console.error(`bench: over its ${boundMs / 60_000}-minute bound, stopping`);
    overBound = true;
    void running?.stop();
  }, boundMs);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, async () => {
      pool.stop();
      await running?.stop();
      process.exit(130);
    });
  }
  try {
    for (let round = 1; round <= rounds; round++) {
      // Each round starts one target further on, so no target always runs first or last (the
      // machine drifts within a round as well as between rounds).
      const order = names.map((_, i) => names[(i + round - 1) % names.length]);
      for (const name of order) {
        if (overBound) return;
        const start = STARTERS[name];
        if (!start) throw new Error(`no such target: ${name} (known: ${Object.keys(STARTERS).join(', ')})`);
        const target = await startOnceMore(name, start);
        running = target;
        try {
          await each(target, pool, round);
        } finally {
          await target.stop();
          running = null;
        }
      }
    }
  } finally {
    pool.stop();
    clearTimeout(bound);
  }
}

/**
 * Starts a target, and once more after a pause if that fails: a peer that does not come up once (it
 * happened to Pushpin in one round of a full run) should not throw away the rounds already measured.
 */
async function startOnceMore<T>(name: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    console.error(`bench: ${name} did not start (${String(error)}); trying once more in 10 s`);
    await new Promise((r) => setTimeout(r, 10_000));
    return start();
  }
}
