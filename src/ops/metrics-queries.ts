/**
 * The SQL that answers the operators' questions, the one copy of it: `npm run metrics` sends these,
 * docs/operations.md shows them (test/node/metrics-cli.test.ts checks the two match), and the columns
 * they read are laid out in src/metrics.ts. Every count is SUM(_sample_interval) and every quantile
 * is weighted by it, so the answers stay right when Analytics Engine samples.
 */
import { DATASET } from '../metrics.ts';

export type Since = '1h' | '1d';
export const SINCE: Record<Since, { interval: string; words: string }> = {
  '1h': { interval: "INTERVAL '1' HOUR", words: 'the last hour' },
  '1d': { interval: "INTERVAL '1' DAY", words: 'the last day' },
};

export interface Query {
  name: string;
  question: string;
  sql: (since: Since) => string;
}

const within = (since: Since) => `timestamp > NOW() - ${SINCE[since].interval}`;

export const QUERIES: Query[] = [
  {
    name: 'waits',
    question: 'Waits started per minute: streams opened without Last-Event-ID.',
    sql: (since) => `SELECT intDiv(toUInt32(timestamp), 60) * 60 AS minute, SUM(_sample_interval) AS waits
FROM ${DATASET}
WHERE index1 = 'stream_opened' AND blob3 = 'first' AND ${within(since)}
GROUP BY minute
ORDER BY minute
FORMAT JSON`,
  },
  {
    name: 'latency',
    question: 'Delivery latency p50 and p99: from the backend call to the last listener, over results that reached one.',
    sql: (since) => `SELECT quantileWeighted(0.5, double2, _sample_interval) AS p50_ms,
  quantileWeighted(0.99, double2, _sample_interval) AS p99_ms,
  SUM(_sample_interval) AS results
FROM ${DATASET}
WHERE index1 = 'finished' AND double1 > 0 AND ${within(since)}
FORMAT JSON`,
  },
  {
    name: 'outcomes',
    question: 'Outcomes: results, failures, expiries and vacancies.',
    sql: (since) => `SELECT index1 AS event, blob2 AS status, SUM(_sample_interval) AS jobs
FROM ${DATASET}
WHERE index1 IN ('finished', 'expired', 'vacated') AND ${within(since)}
GROUP BY event, status
ORDER BY jobs DESC
FORMAT JSON`,
  },
  {
    name: 'notifications',
    question: 'Notification failure rate: failed attempts over all attempts.',
    sql: (since) => `SELECT SUM(_sample_interval) AS attempts,
  SUM(_sample_interval * (1 - double2)) AS failed,
  SUM(_sample_interval * (1 - double2)) / SUM(_sample_interval) AS failure_rate
FROM ${DATASET}
WHERE index1 = 'notification' AND ${within(since)}
FORMAT JSON`,
  },
  {
    name: 'refusals',
    question: 'Refusals and retry answers by code, most frequent first.',
    sql: (since) => `SELECT index1 AS event, blob3 AS code, double1 AS status, SUM(_sample_interval) AS count
FROM ${DATASET}
WHERE index1 IN ('refusal', 'retry') AND ${within(since)}
GROUP BY event, code, status
ORDER BY count DESC
LIMIT 10
FORMAT JSON`,
  },
];

/** The SQL API's address for an account (the same for curl, Grafana and the command). */
export function sqlApiUrl(accountId: string, base = 'https://api.cloudflare.com/client/v4'): string {
  return `${base}/accounts/${accountId}/analytics_engine/sql`;
}
