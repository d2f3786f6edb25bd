/**
 * Operators' numbers, as Workers Analytics Engine data points in the dataset `jobcast` (the optional
 * METRICS binding in wrangler.toml; without it nothing is written). One point per event, never one
 * per listener: the platform bills per point. `writeDataPoint` is not awaited (the runtime sends the
 * point on its own) and a throw from it is swallowed, so a metric never holds up or fails an answer.
 *
 * LAYOUT is the only place that says what each column holds: the writers below fill the columns in
 * its order, docs/operations.md shows it as a table, and the SQL in src/ops/metrics-queries.ts reads
 * it. No token, no job data and no moveUrl ever goes into a point; the job id does, since operators
 * look jobs up by it.
 *
 * This module imports nothing, so that the Node command (`npm run metrics`) can read LAYOUT too.
 */

export const DATASET = 'jobcast';

/** The index of every point is its event; when each is written, and the blobs and doubles it fills, in column order. */
export const LAYOUT = {
  registered: { when: 'a job was registered (PUT, not a repeat)', blobs: ['job id'], doubles: [] },
  stream_opened: {
    when: "a browser's stream opened on a pending job",
    blobs: ['job id', 'mode: `hibernate` or `stream`', '`first`, or `resume` when the browser sent Last-Event-ID'],
    doubles: [],
  },
  finished: {
    when: 'the backend stored a result or a failure (not a repeat)',
    blobs: ['job id', '`result` or `failed`'],
    doubles: ['listeners it was delivered to', "ms from the backend call to the object's answer, sent after the last listener's write"],
  },
  expired: { when: 'a pending job reached its ttl', blobs: ['job id'], doubles: ['listeners it was delivered to'] },
  vacated: { when: "with notifications on, a pending job's last stream left and none came back within VACATED_AFTER_MS", blobs: ['job id'], doubles: [] },
  notification: {
    when: 'each attempt to deliver a backend notification',
    blobs: ['job id', 'type: `job.vacated` or `job.expired`', 'answer: an HTTP status, `timeout` or `unreachable`'],
    doubles: ['attempt number (1 for the first)', '1 if it landed, 0 if it failed'],
  },
  refusal: {
    when: 'an error answer on a job or stream route (not an unknown route or method)',
    blobs: ['job id, or empty when the call named no valid one', 'route, like `PUT /jobs/:id`', 'error code'],
    doubles: ['HTTP status'],
  },
  retry: {
    when: 'a retry answer on the stream route',
    blobs: ['job id', 'route: `GET /sse/connect/:id`', 'reason: `too_many_subscribers`, `unavailable` or `not_configured`'],
    doubles: ['the HTTP status the reason stands for: 429 or 503'],
  },
} as const satisfies Record<string, { when: string; blobs: readonly string[]; doubles: readonly string[] }>;

export type MetricEvent = keyof typeof LAYOUT;

export interface DataPoint {
  indexes: [MetricEvent];
  blobs: string[];
  doubles: number[];
}

/** What jobcast uses of the runtime's AnalyticsEngineDataset. */
export interface MetricsDataset {
  writeDataPoint(point: DataPoint): void;
}

/** Anything that carries the binding: the worker's and the object's `env`. */
export interface MetricsEnv {
  METRICS?: MetricsDataset;
}

function write(env: MetricsEnv, event: MetricEvent, blobs: string[], doubles: number[] = []): void {
  try {
    env.METRICS?.writeDataPoint({ indexes: [event], blobs, doubles });
  } catch {
    // Over the platform's per-invocation limit, or a binding that failed: the answer matters more.
  }
}

const CONNECT_ROUTE = 'GET /sse/connect/:id';

export const metrics = {
  registered: (env: MetricsEnv, job: string) => write(env, 'registered', [job]),
  streamOpened: (env: MetricsEnv, job: string, mode: 'hibernate' | 'stream', resumed: boolean) =>
    write(env, 'stream_opened', [job, mode, resumed ? 'resume' : 'first']),
  finished: (env: MetricsEnv, job: string, status: 'result' | 'failed', delivered: number, ms: number) =>
    write(env, 'finished', [job, status], [delivered, ms]),
  expired: (env: MetricsEnv, job: string, delivered: number) => write(env, 'expired', [job], [delivered]),
  vacated: (env: MetricsEnv, job: string) => write(env, 'vacated', [job]),
  notification: (env: MetricsEnv, job: string, type: string, status: number | string, attempt: number, ok: boolean) =>
    write(env, 'notification', [job, type, String(status)], [attempt, ok ? 1 : 0]),
  refusal: (env: MetricsEnv, job: string, route: string, code: string, status: number) => write(env, 'refusal', [job, route, code], [status]),
  retry: (env: MetricsEnv, job: string, reason: 'too_many_subscribers' | 'unavailable' | 'not_configured') =>
    write(env, 'retry', [job, CONNECT_ROUTE, reason], [reason === 'too_many_subscribers' ? 429 : 503]),
};

/**
 * A request's route as a pattern, for a refusal's point: never the path itself, which holds a job id
 * (in its own column) or, from a scanner, anything at all.
 */
export function routeOf(method: string, path: string): string {
  if (path.startsWith('/sse/connect/')) return `${method} /sse/connect/:id`;
  const action = /^\/jobs\/.+\/(progress|complete|fail)$/.exec(path)?.[1];
  if (action) return `${method} /jobs/:id/${action}`;
  if (path.startsWith('/jobs/')) return `${method} /jobs/:id`;
  if (path === '/demo/jobs') return `${method} /demo/jobs`;
  return `${method} other`;
}
