import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LAYOUT } from '../../src/metrics.ts';
import { QUERIES } from '../../src/ops/metrics-queries.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(import.meta.dirname, 'fixtures/metrics');
const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
const section = (title: string) => doc.slice(doc.indexOf(`## ${title}`), doc.indexOf('\n## ', doc.indexOf(`## ${title}`) + 1));

/** `npm run metrics -- ...args`, as the package script runs it (Node 22 from node_modules/.bin). */
async function metrics(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const node = join(ROOT, 'node_modules/.bin/node');
  try {
    const { stdout, stderr } = await promisify(execFile)(node, ['src/ops/metrics-cli.ts', ...args], { cwd: ROOT, env: { PATH: process.env.PATH, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

const TABLE = `jobcast over the last hour
  waits started      100 (peak 57 a minute)
  latency p50 / p99  12 ms / 141 ms over 1,100 results delivered
  outcomes           result 1,000, failed 20, vacated 12, expired 5
  notifications      3 failed of 40 attempts (7.5%)
  top refusals       unauthorized 401 × 12, too_many_subscribers 429 (retry) × 4, job_not_found 404 × 2
`;

describe('docs/operations.md', () => {
  it('shows exactly the queries npm run metrics sends, each with its curl line, in the same order', () => {
    const ready = section('Ready SQL');
    const shown = [...ready.matchAll(/```sh\ncurl -s "https:\/\/api\.cloudflare\.com\/client\/v4\/accounts\/\$CF_ACCOUNT_ID\/analytics_engine\/sql" \\\n {2}-H "Authorization: Bearer \$CF_API_TOKEN" --data-binary @- <<'SQL'\n([\s\S]*?)\nSQL\n```/g)].map((m) => m[1]);
    expect(shown).toEqual(QUERIES.map((query) => query.sql('1h')));
    for (const query of QUERIES) expect(ready).toContain(`### ${query.question}\n`);
  });

  it("says truly that the last day's queries differ only in their interval", () => {
    for (const query of QUERIES) expect(query.sql('1d')).toBe(query.sql('1h').replace("INTERVAL '1' HOUR", "INTERVAL '1' DAY"));
  });

  it('has the data point layout of src/metrics.ts as its table', () => {
    const rows = Object.entries(LAYOUT).map(([event, { when, blobs, doubles }]) => {
      const cells = [`\`${event}\``, when, ...pad(blobs, 3), ...pad(doubles, 2)];
      return `| ${cells.join(' | ')} |`;
    });
    const table = section('The data points').split('\n').filter((line) => line.startsWith('| `'));
    expect(table).toEqual(rows);
  });

  it('shows the table npm run metrics prints', () => {
    expect(section('`npm run metrics`')).toContain(`\`\`\`text\n${TABLE}\`\`\``);
  });
});

function pad(cells: readonly string[], width: number): string[] {
  return [...cells, ...Array.from({ length: width - cells.length }, () => '—')];
}

describe('npm run metrics', () => {
  it('prints its table from saved SQL API answers with --from-file', async () => {
    const { code, stdout, stderr } = await metrics(['--since', '1h', '--from-file', FIXTURES]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe(TABLE);
  });

  it('sends each query to the SQL API with the account and token, and prints the same table from its answers', async () => {
    const received: { url?: string; auth?: string; body: string }[] = [];
    const server = createServer(async (request, response) => {
      const body = await text(request);
      received.push({ url: request.url, auth: request.headers.authorization, body });
      const query = QUERIES.find((candidate) => candidate.sql('1d') === body);
      response.writeHead(query ? 200 : 400, { 'Content-Type': 'application/json' });
      response.end(query ? readFileSync(join(FIXTURES, `${query.name}.json`)) : '{"errors":[{"message":"unknown query"}]}');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as { port: number };
    try {
      const { code, stdout } = await metrics(['--since', '1d'], { CF_ACCOUNT_ID: 'acct123', CF_API_TOKEN: 'token-xyz', CF_API_BASE: `http://127.0.0.1:${port}` });
      expect(code).toBe(0);
      expect(stdout).toBe(TABLE.replace('the last hour', 'the last day'));
      expect(received).toEqual(QUERIES.map((query) => ({ url: '/accounts/acct123/analytics_engine/sql', auth: 'Bearer token-xyz', body: query.sql('1d') })));
    } finally {
      server.close();
    }
  });

  it.each([
    ['no --since', [], {}, '--since is required'],
    ['a --since it does not know', ['--since', '2h'], {}, '--since must be 1h or 1d, got "2h"'],
    ['no account or token', ['--since', '1h'], {}, 'set CF_ACCOUNT_ID and CF_API_TOKEN'],
    ['a directory without the answers', ['--since', '1h', '--from-file', ROOT], {}, `no saved answer at ${join(ROOT, 'waits.json')}`],
  ] as [string, string[], Record<string, string>, string][])('refuses %s with a clear error and prints no table', async (_name, args, env, message) => {
    const { code, stdout, stderr } = await metrics(args, env);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`metrics: ${message}`);
  });
});

async function text(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) body += chunk;
  return body;
}
