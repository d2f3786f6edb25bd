// Jittered backoff, shared by the browser client (public/jobcast.js), the backend SDK
// (src/sdk/client.ts) and the service's retry answers (src/retry.ts). An ES module with JSDoc types.

/**
 * Between half and all of `ceilingMs`, at random: a crowd sent away together comes back spread out,
 * and none sooner than half the ceiling.
 * @param {number} ceilingMs
 * @param {() => number} [random]  Returns a number in [0, 1).
 * @returns {number}
 */
export function jittered(ceilingMs, random = Math.random) {
  return Math.round(ceilingMs / 2 + random() * (ceilingMs / 2));
}

/**
 * The delay before retry `attempt`: `firstMs` doubling per attempt up to `maxMs`, jittered.
 * @param {number} attempt  1 for the first retry.
 * @param {() => number} [random]
 * @param {{ firstMs?: number, maxMs?: number }} [steps]  Default 1 s doubling to 30 s.
 * @returns {number}
 */
export function backoffDelay(attempt, random = Math.random, { firstMs = 1000, maxMs = 30_000 } = {}) {
  return jittered(Math.min(maxMs, firstMs * 2 ** Math.max(0, attempt - 1)), random);
}
