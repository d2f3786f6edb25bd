#!/usr/bin/env node
// The jobcast CLI: the backend SDK for scripts and debugging. Prints the answer as JSON and exits 0;
// anything else is one line on stderr and exit 1, never a stack trace.
import { parseArgs } from 'node:util';
import { JobcastApiError, JobcastClient, mintSubscribeToken, type CompleteRequest } from './client.ts';

const DEFAULT_URL = 'http://127.0.0.1:8787';

/** Every option, with what `--help` shows for it. */
const OPTIONS = {
  'move-url': { type: 'string', value: 'U', help: 'where the page goes: a path, or an http(s) URL on an allowed origin' },
  progress: { type: 'string', value: 'P', help: 'how far the job is, from 0 to 1' },
  message: { type: 'string', value: 'M', help: 'a short text shown with the progress' },
  data: { type: 'string', value: 'JSON', help: 'a JSON object handed to the page with the result' },
  error: { type: 'string', value: 'E', help: 'why the job failed' },
  ttl: { type: 'string', value: 'S', help: 'seconds until an unfinished job fails as expired' },
  'signing-key': { type: 'string', value: 'K', help: "the service's SIGNING_KEY (or JOBCAST_SIGNING_KEY)" },
  expires: { type: 'string', value: 'T', help: "the token's expiry in Unix seconds (default: in an hour)" },
  url: { type: 'string', value: 'BASE', help: `where jobcast runs (or JOBCAST_URL; default ${DEFAULT_URL})` },
  token: { type: 'string', value: 'T', help: 'an API token (or JOBCAST_TOKEN)' },
  help: { type: 'boolean', short: 'h', value: '', help: 'this help' },
} as const;
type Option = keyof typeof OPTIONS;
type Flags = Partial<Record<Option, string>>;

const SERVICE: Option[] = ['url', 'token'];
const COMMANDS: Record<string, { summary: string; options: Option[]; required?: Option[] }> = {
  register: { summary: 'register a job (idempotent); prints its subscribeUrl and token', options: ['ttl', ...SERVICE] },
  progress: { summary: 'report progress', options: ['progress', 'message', ...SERVICE], required: ['progress'] },
  complete: { summary: 'complete a job: its pages move to --move-url', options: ['move-url', 'data', ...SERVICE], required: ['move-url'] },
  fail: { summary: 'fail a job', options: ['error', 'move-url', ...SERVICE] },
  status: { summary: 'print a job\'s state', options: SERVICE },
  delete: { summary: 'delete a job and end its streams', options: SERVICE },
  token: { summary: 'mint a job\'s subscribe token locally, with no request', options: ['signing-key', 'expires'] },
};

/** A problem with what was asked: reported as one line. */
class CliError extends Error {}

function usage(command?: string): string {
  const names = command ? [command] : Object.keys(COMMANDS);
  const synopsis = (name: string) => {
    const { options, required = [] } = COMMANDS[name];
    return options.map((o) => (required.includes(o) ? ` --${o} ${OPTIONS[o].value}` : ` [--${o} ${OPTIONS[o].value}]`)).join('');
  };
  const commands = names.map((name) => `  jobcast ${name} <id>${synopsis(name)}\n      ${COMMANDS[name].summary}`);
  const used = Object.keys(OPTIONS).filter((o) => o === 'help' || names.some((name) => COMMANDS[name].options.includes(o as Option))) as Option[];
  const options = used.map((o) => `  ${`${o === 'help' ? '-h, --help' : `--${o} ${OPTIONS[o].value}`}`.padEnd(17)}${OPTIONS[o].help}`);
  return [
    `usage: jobcast ${command ?? '<command>'} <id> [options]`,
    '',
    ...commands,
    '',
    'options:',
    ...options,
    '',
    'Prints the answer as JSON. Anything that fails is one line on stderr and exit code 1.',
    '',
  ].join('\n');
}

function parse(argv: string[]): { command?: string; id?: string; flags: Flags; help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    const unknown = /^Unknown option '([^']+)'/.exec(text);
    if (unknown) throw new CliError(`unknown option ${unknown[1]} (jobcast --help lists the options)`);
    const option = /^Option '(-[^ ']*)/.exec(text)?.[1];
    throw new CliError(option ? `${option} needs a value (one starting with "-" goes as ${option}=-…)` : text.split('\n')[0]);
  }
  const [command, id, ...extra] = parsed.positionals;
  const { help = false, ...flags } = parsed.values;
  if (command === 'help') return { command: id, flags: {}, help: true };
  if (extra.length > 0) throw new CliError(`unexpected argument ${JSON.stringify(extra[0])} (put a value with spaces in quotes)`);
  return { command, id, flags, help };
}

function checked(command: string | undefined, id: string | undefined, flags: Flags): { command: string; id: string } {
  if (command === undefined) throw new CliError('a command is needed (jobcast --help lists them)');
  const spec = COMMANDS[command];
  if (!spec) throw new CliError(`unknown command ${JSON.stringify(command)} (jobcast --help lists them)`);
  if (id === undefined) throw new CliError(`${command} needs a job id: jobcast ${command} <id>`);
  const foreign = Object.keys(flags).find((name) => !spec.options.includes(name as Option));
  if (foreign) throw new CliError(`${command} takes no --${foreign} (jobcast ${command} --help lists its options)`);
  const missing = spec.required?.find((name) => flags[name] === undefined);
  if (missing) throw new CliError(`${command} needs --${missing}`);
  return { command, id };
}

function number(name: Option, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) throw new CliError(`--${name} must be a number, got ${JSON.stringify(value)}`);
  return parsed;
}

function jsonObject(value: string | undefined): CompleteRequest['data'] {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new CliError(`--data is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliError('--data must be a JSON object, like \'{"invoice":"A-1"}\'');
  return parsed as CompleteRequest['data'];
}

function serviceUrl(flags: Flags): string {
  const url = flags.url ?? process.env.JOBCAST_URL ?? DEFAULT_URL;
  let protocol = '';
  try {
    protocol = new URL(url).protocol;
  } catch {
    // reported below
  }
  if (protocol !== 'http:' && protocol !== 'https:') throw new CliError(`--url must be an http(s) URL, got ${JSON.stringify(url)}`);
  return url;
}

async function run(command: string, id: string, flags: Flags): Promise<unknown> {
  if (command === 'token') {
    const key = flags['signing-key'] ?? process.env.JOBCAST_SIGNING_KEY;
    if (!key) throw new CliError('token needs --signing-key or JOBCAST_SIGNING_KEY');
    const expiresAt = number('expires', flags.expires) ?? Math.floor(Date.now() / 1000) + 3600;
    return { token: await mintSubscribeToken(key, id, expiresAt), expiresAt };
  }
  const baseUrl = serviceUrl(flags);
  let tried = baseUrl;
  const client = new JobcastClient({
    baseUrl,
    token: flags.token ?? process.env.JOBCAST_TOKEN ?? '',
    fetch: (input, init) => {
      tried = String(input);
      return fetch(input, init);
    },
  });
  const ttlSeconds = number('ttl', flags.ttl);
  const calls: Record<string, () => Promise<unknown>> = {
    register: () => client.register(id, ttlSeconds === undefined ? {} : { ttlSeconds }),
    progress: () => client.progress(id, number('progress', flags.progress)!, flags.message),
    complete: () => client.complete(id, { moveUrl: flags['move-url']!, data: jsonObject(flags.data) }),
    fail: () => client.fail(id, { moveUrl: flags['move-url'], error: flags.error }),
    status: () => client.status(id),
    delete: () => client.remove(id).then(() => ({ deleted: id })),
  };
  try {
    return await calls[command]();
  } catch (error) {
    if (error instanceof TypeError && error.message === 'fetch failed') throw new CliError(`could not reach ${tried}: ${networkCause(error.cause)}`);
    throw error;
  }
}

/** What undici's "fetch failed" hides in its cause: ECONNREFUSED, ENOTFOUND, a certificate error… */
function networkCause(cause: unknown): string {
  const { code, message, errors } = (cause ?? {}) as { code?: string; message?: string; errors?: unknown[] };
  if (message) return message;
  if (errors?.length) return networkCause(errors[0]);
  return code ?? 'no answer';
}

async function main(argv: string[]): Promise<number> {
  try {
    const { command, id, flags, help } = parse(argv);
    if (help) {
      if (command !== undefined && !COMMANDS[command]) throw new CliError(`unknown command ${JSON.stringify(command)} (jobcast --help lists them)`);
      process.stdout.write(usage(command));
      return 0;
    }
    const args = checked(command, id, flags);
    console.log(JSON.stringify(await run(args.command, args.id, flags), null, 2));
    return 0;
  } catch (error) {
    if (error instanceof JobcastApiError) console.error(`jobcast: ${error.status} ${error.code}: ${error.message}`);
    else console.error(`jobcast: ${oneLine(error instanceof Error ? error.message : String(error))}`);
    return 1;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

process.exitCode = await main(process.argv.slice(2));
