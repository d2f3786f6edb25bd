#!/usr/bin/env node
// jobcast <register|progress|complete|fail|status|delete|token> <id> [--move-url U] [--progress P]
//   [--message M] [--data JSON] [--error E] [--ttl S] [--url BASE] [--token T] [--signing-key K]
// JOBCAST_URL, JOBCAST_TOKEN and JOBCAST_SIGNING_KEY stand in for --url, --token and --signing-key.
// Prints the answer as JSON; exits 1 with the server's error message, 2 on a usage error.
import { JobcastApiError, JobcastClient, mintSubscribeToken } from './client.ts';

const USAGE = 'usage: jobcast <register|progress|complete|fail|status|delete|token> <id> [--move-url U] [--progress P] [--message M] [--data JSON] [--error E] [--ttl S] [--url BASE] [--token T] [--signing-key K]';

function parse(argv: string[]) {
  const [command, id, ...rest] = argv;
  const flags: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 2) {
    if (!rest[i].startsWith('--') || rest[i + 1] === undefined) throw new Error(`expected --flag value, got ${rest[i]}`);
    flags[rest[i].slice(2)] = rest[i + 1];
  }
  if (!command || !id) throw new Error('a command and a job id are needed');
  return { command, id, flags };
}

async function main(): Promise<number> {
  let args;
  try {
    args = parse(process.argv.slice(2));
  } catch (error) {
    console.error(`jobcast: ${error instanceof Error ? error.message : error}\n${USAGE}`);
    return 2;
  }
  const { command, id, flags } = args;
  const baseUrl = flags.url ?? process.env.JOBCAST_URL ?? 'http://127.0.0.1:8787';
  const token = flags.token ?? process.env.JOBCAST_TOKEN ?? '';
  const client = new JobcastClient({ baseUrl, token });
  const data = flags.data === undefined ? undefined : JSON.parse(flags.data);
  const commands: Record<string, () => Promise<unknown>> = {
    register: () => client.register(id, flags.ttl === undefined ? {} : { ttlSeconds: Number(flags.ttl) }),
    progress: () => client.progress(id, Number(flags.progress), flags.message),
    complete: () => client.complete(id, { moveUrl: flags['move-url'], data }),
    fail: () => client.fail(id, { moveUrl: flags['move-url'], error: flags.error }),
    status: () => client.status(id),
    delete: () => client.remove(id).then(() => ({ deleted: id })),
    token: async () => {
      const key = flags['signing-key'] ?? process.env.JOBCAST_SIGNING_KEY;
      if (!key) throw new Error('token needs --signing-key or JOBCAST_SIGNING_KEY');
      const expiresAt = Number(flags.expires ?? Math.floor(Date.now() / 1000) + 3600);
      return { token: await mintSubscribeToken(key, id, expiresAt), expiresAt };
    },
  };
  const run = commands[command];
  if (!run) {
    console.error(`jobcast: unknown command ${command}\n${USAGE}`);
    return 2;
  }
  try {
    console.log(JSON.stringify(await run(), null, 2));
    return 0;
  } catch (error) {
    if (error instanceof JobcastApiError) console.error(`jobcast: ${error.status} ${error.code}: ${error.message}`);
    else console.error(`jobcast: ${error instanceof Error ? error.message : error}`);
    return 1;
  }
}

process.exitCode = await main();
