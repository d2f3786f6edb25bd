/** Every setting the service reads, with the contract's defaults. Nothing else reads `env` directly. */
export interface Env {
  JOBS: DurableObjectNamespace;
  /** Workers Analytics Engine, dataset `jobcast` (src/metrics.ts); optional: unbound, nothing is written. */
  METRICS?: AnalyticsEngineDataset;
  API_TOKENS?: string;
  SIGNING_KEY?: string;
  ALLOWED_REDIRECT_ORIGINS?: string;
  ALLOWED_ORIGINS?: string;
  HEARTBEAT_MS?: string;
  STREAM_MAX_MS?: string;
  RECONNECT_MS?: string;
  MAX_SUBSCRIBERS_PER_JOB?: string;
  JOB_TTL_SECONDS?: string;
  RESULT_TTL_SECONDS?: string;
  LOG_LEVEL?: string;
  /** `true` (the default): the worker holds the browsers' streams and the job's object sleeps while they wait. */
  HIBERNATE?: string;
  /** `true` turns the demo backend on in a deployed worker; under `wrangler dev` it is always on. */
  DEMO_ENABLED?: string;
  /** Where jobcast tells the backend about its jobs (`job.vacated`, `job.expired`); unset: off. */
  WEBHOOK_URL?: string;
  WEBHOOK_SECRET?: string;
  /** The secret being retired while WEBHOOK_SECRET rotates: notifications carry a second signature with it. */
  WEBHOOK_SECRET_PREVIOUS?: string;
  VACATED_AFTER_MS?: string;
  /** Set only by the committed `.dev.vars`, which `wrangler dev` reads and `wrangler deploy` never uploads. */
  JOBCAST_LOCAL_DEV?: string;
}

export interface Config {
  apiTokens: string[];
  /** True when no API_TOKENS are set and the worker runs under `wrangler dev`: the dev token is accepted. */
  usingDevToken: boolean;
  signingKey: string | null;
  allowedRedirectOrigins: string[];
  allowedOrigins: string[];
  heartbeatMs: number;
  streamMaxMs: number;
  reconnectMs: number;
  maxSubscribersPerJob: number;
  jobTtlSeconds: number;
  resultTtlSeconds: number;
  logLevel: 'warn' | 'info' | 'debug';
  hibernate: boolean;
  demoEnabled: boolean;
  /** Backend notifications, or null when WEBHOOK_URL is unset. */
  webhook: { url: string; secret: string; previousSecret: string | null } | null;
  vacatedAfterMs: number;
}

/** Hono's typing of the worker: its bindings, and what middleware leaves for the handlers. */
export type AppEnv = { Bindings: Env; Variables: { config: Config; jobId?: string } };

export const DEV_API_TOKEN = 'dev-api-token';

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed <= 0) {
    throw new Error(`${name} must be a positive whole number, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

/** `true` or `false`, nothing else: a `yes` or `1` that silently meant off would hide a mistake. */
function flag(name: string, value: string | undefined, fallback: boolean): boolean {
  const text = (value ?? '').trim();
  if (text === '') return fallback;
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new Error(`${name} must be "true" or "false", got ${JSON.stringify(value)}`);
}

/** HMAC keys this short can be guessed; the error names the setting and never the value. */
export const MIN_SECRET_BYTES = 32;

function secret(name: string, value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  const bytes = new TextEncoder().encode(value).byteLength;
  if (bytes < MIN_SECRET_BYTES) throw new Error(`${name} must be at least ${MIN_SECRET_BYTES} bytes, got ${bytes}`);
  return value;
}

function origins(name: string, value: string | undefined, allowStar: boolean): string[] {
  return list(value).map((entry) => {
    if (entry === '*') {
      if (!allowStar) throw new Error(`${name} may be "*" only in open mode (without SIGNING_KEY)`);
      return entry;
    }
    let url: URL | null = null;
    if (/^https?:\/\/[^/@?#\\\s]+\/?$/i.test(entry)) {
      try {
        url = new URL(entry);
      } catch {
        // reported below
      }
    }
    if (!url) throw new Error(`${name} entries must be origins like https://app.example.com, got ${JSON.stringify(entry)}`);
    return url.origin;
  });
}

/** `https:` only, but for `http:` under `wrangler dev`, where receivers run on loopback. */
function webhook(env: Env, localDev: boolean): Config['webhook'] {
  const url = (env.WEBHOOK_URL ?? '').trim();
  const key = secret('WEBHOOK_SECRET', env.WEBHOOK_SECRET);
  const previousSecret = secret('WEBHOOK_SECRET_PREVIOUS', env.WEBHOOK_SECRET_PREVIOUS);
  if (url === '') return null;
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // reported below
  }
  const schemes = localDev ? ['https:', 'http:'] : ['https:'];
  if (!parsed || !schemes.includes(parsed.protocol)) {
    throw new Error(`WEBHOOK_URL must be an ${localDev ? 'http(s)' : 'https'} URL, got ${JSON.stringify(url)}`);
  }
  if (!key) throw new Error('WEBHOOK_SECRET must be set when WEBHOOK_URL is');
  return { url: parsed.href, secret: key, previousSecret };
}

const cache = new WeakMap<object, Config>();

/** Reads and checks the configuration once per `env` object; a malformed value throws with its name. */
export function readConfig(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const localDev = flag('JOBCAST_LOCAL_DEV', env.JOBCAST_LOCAL_DEV, false);
  const configuredTokens = list(env.API_TOKENS);
  const usingDevToken = configuredTokens.length === 0 && localDev;
  const logLevel = (env.LOG_LEVEL ?? 'info').trim() || 'info';
  if (logLevel !== 'warn' && logLevel !== 'info' && logLevel !== 'debug') {
    throw new Error(`LOG_LEVEL must be "warn", "info" or "debug", got ${JSON.stringify(env.LOG_LEVEL)}`);
  }
  const signingKey = secret('SIGNING_KEY', env.SIGNING_KEY);
  const config: Config = {
    apiTokens: usingDevToken ? [DEV_API_TOKEN] : configuredTokens,
    usingDevToken,
    signingKey,
    allowedRedirectOrigins: origins('ALLOWED_REDIRECT_ORIGINS', env.ALLOWED_REDIRECT_ORIGINS, false),
    allowedOrigins: origins('ALLOWED_ORIGINS', env.ALLOWED_ORIGINS, signingKey === null),
    heartbeatMs: positiveInt('HEARTBEAT_MS', env.HEARTBEAT_MS, 15_000),
    streamMaxMs: positiveInt('STREAM_MAX_MS', env.STREAM_MAX_MS, 60_000),
    reconnectMs: positiveInt('RECONNECT_MS', env.RECONNECT_MS, 1_000),
    maxSubscribersPerJob: positiveInt('MAX_SUBSCRIBERS_PER_JOB', env.MAX_SUBSCRIBERS_PER_JOB, 100),
    jobTtlSeconds: positiveInt('JOB_TTL_SECONDS', env.JOB_TTL_SECONDS, 86_400),
    resultTtlSeconds: positiveInt('RESULT_TTL_SECONDS', env.RESULT_TTL_SECONDS, 3_600),
    logLevel,
    hibernate: flag('HIBERNATE', env.HIBERNATE, true),
    demoEnabled: flag('DEMO_ENABLED', env.DEMO_ENABLED, false) || localDev,
    webhook: webhook(env, localDev),
    vacatedAfterMs: positiveInt('VACATED_AFTER_MS', env.VACATED_AFTER_MS, 30_000),
  };
  cache.set(env, config);
  return config;
}
