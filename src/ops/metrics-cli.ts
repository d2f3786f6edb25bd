// npm run metrics -- --since 1h|1d [--from-file DIR]
// Runs the queries in ./metrics-queries.ts against the Analytics Engine SQL API (CF_ACCOUNT_ID,
// CF_API_TOKEN) and prints a short table. With --from-file, reads saved answers instead: DIR/<name>.json,
// each the SQL API's JSON answer to the query of that name (waits, latency, outcomes, notifications,
// refusals). docs/operations.md has the queries and the curl lines that save such answers.
// CF_API_BASE replaces https://api.cloudflare.com/client/v4 (for a proxy, or a test's fake API).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QUERIES, SINCE, sqlApiUrl, type Since } from './metrics-queries.ts';

type Row = Record<string, string | number | null>;
type Answers = Record<string, Row[]>;

const USAGE = 'usage: npm run metrics -- --since 1h|1d [--from-file DIR]';

function fail(message: string): never {
  console.error(`metrics: ${message}\n${USAGE}`);
  process.exit(2);
}

function readArgs(args: string[]): { since: Since; fromFile: string | null } {
  let since: string | null = null;
  let fromFile: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const value = args[i + 1];
    if (args[i] === '--since' && value !== undefined) [since, i] = [value, i + 1];
    else if (args[i] === '--from-file' && value !== undefined) [fromFile, i] = [value, i + 1];
    else fail(`unexpected argument ${JSON.stringify(args[i])}`);
  }
  if (since === null) fail('--since is required');
  if (!(since in SINCE)) fail(`--since must be 1h or 1d, got ${JSON.stringify(since)}`);
  return { since: since as Since, fromFile };
}

async function fromFiles(dir: string): Promise<Answers> {
  const answers: Answers = {};
  for (const { name } of QUERIES) {
    const path = join(dir, `${name}.json`);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      fail(`no saved answer at ${path}`);
    }
    answers[name] = rowsOf(text, path);
  }
  return answers;
}

async function fromApi(since: Since): Promise<Answers> {
  const account = process.env.CF_ACCOUNT_ID ?? '';
  const token = process.env.CF_API_TOKEN ?? '';
  if (account === '' || token === '') fail('set CF_ACCOUNT_ID and CF_API_TOKEN (a token with Account Analytics: Read), or use --from-file');
  const url = sqlApiUrl(account, process.env.CF_API_BASE);
  const answers: Answers = {};
  for (const { name, sql } of QUERIES) {
    const response = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: sql(since) });
    const text = await response.text();
    if (!response.ok) fail(`the SQL API answered ${response.status} to the ${name} query: ${text.slice(0, 300)}`);
    answers[name] = rowsOf(text, `the ${name} answer`);
  }
  return answers;
}

function rowsOf(text: string, source: string): Row[] {
  try {
    const { data } = JSON.parse(text) as { data?: unknown };
    if (Array.isArray(data)) return data as Row[];
  } catch {
    // reported below
  }
  fail(`${source} is not a SQL API JSON answer (an object with a "data" array)`);
}

/** The SQL API gives 64-bit sums as strings and an empty quantile as nan. */
const num = (value: unknown): number => (value === null || value === undefined || value === '' ? NaN : Number(value));
const count = (value: unknown): string => (Number.isFinite(num(value)) ? Math.round(num(value)).toLocaleString('en') : '0');
const ms = (value: unknown): string => (Number.isFinite(num(value)) ? `${Math.round(num(value))} ms` : '-');

function table(answers: Answers, since: Since): string {
  const waits = answers.waits.map((row) => num(row.waits)).filter(Number.isFinite);
  const latency = answers.latency[0] ?? {};
  const outcomes = answers.outcomes.map((row) => `${row.event === 'finished' ? row.status : row.event} ${count(row.jobs)}`);
  const notes = answers.notifications[0] ?? {};
  const rate = num(notes.attempts) > 0 ? ` (${((100 * num(notes.failed)) / num(notes.attempts)).toFixed(1)}%)` : '';
  const refusals = answers.refusals.map((row) => `${row.code} ${row.status}${row.event === 'retry' ? ' (retry)' : ''} × ${count(row.count)}`);
  const lines: [string, string][] = [
    ['waits started', `${count(waits.reduce((a, b) => a + b, 0))} (peak ${count(Math.max(0, ...waits))} a minute)`],
    ['latency p50 / p99', `${ms(latency.p50_ms)} / ${ms(latency.p99_ms)} over ${count(latency.results)} results delivered`],
    ['outcomes', outcomes.join(', ') || 'none'],
    ['notifications', `${count(notes.failed)} failed of ${count(notes.attempts)} attempts${rate}`],
    ['top refusals', refusals.join(', ') || 'none'],
  ];
  return [`jobcast over ${SINCE[since].words}`, ...lines.map(([name, value]) => `  ${name.padEnd(18)} ${value}`)].join('\n');
}

const { since, fromFile } = readArgs(process.argv.slice(2));
console.log(table(fromFile === null ? await fromApi(since) : await fromFiles(fromFile), since));
