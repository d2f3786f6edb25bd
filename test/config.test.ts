import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { app } from '../src/app';
import { readConfig, type Env } from '../src/config';
import { newJobId } from './support/http';
import { expectRetryAnswer } from './support/retry';

const base = { JOBS: env.JOBS } as Env;

describe('readConfig', () => {
  it('has the contract defaults', () => {
    expect(readConfig({ ...base })).toEqual({
      apiTokens: [],
      usingDevToken: false,
      signingKey: null,
      allowedRedirectOrigins: [],
      allowedOrigins: [],
      heartbeatMs: 15_000,
      streamMaxMs: 60_000,
      reconnectMs: 1_000,
      maxSubscribersPerJob: 100,
      jobTtlSeconds: 86_400,
      resultTtlSeconds: 3_600,
      logLevel: 'info',
      hibernate: true,
      demoEnabled: false,
      webhook: null,
      vacatedAfterMs: 30_000,
    });
  });

  it('reads lists with spaces and empty items', () => {
    const config = readConfig({ ...base, API_TOKENS: ' a, b ,,', ALLOWED_REDIRECT_ORIGINS: 'https://x.example' });
    expect(config.apiTokens).toEqual(['a', 'b']);
    expect(config.allowedRedirectOrigins).toEqual(['https://x.example']);
  });

  it('accepts the dev token only when local and no tokens are set', () => {
    expect(readConfig({ ...base, JOBCAST_LOCAL_DEV: 'true' }).apiTokens).toEqual(['dev-api-token']);
    expect(readConfig({ ...base, JOBCAST_LOCAL_DEV: 'true', API_TOKENS: 'real' }).apiTokens).toEqual(['real']);
    expect(readConfig({ ...base }).apiTokens).toEqual([]);
  });

  const bad: [string, Partial<Env>][] = [
    ['HEARTBEAT_MS', { HEARTBEAT_MS: 'abc' }],
    ['STREAM_MAX_MS', { STREAM_MAX_MS: '0' }],
    ['MAX_SUBSCRIBERS_PER_JOB', { MAX_SUBSCRIBERS_PER_JOB: '-5' }],
    ['JOB_TTL_SECONDS', { JOB_TTL_SECONDS: '1.5' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['HIBERNATE', { HIBERNATE: 'yes' }],
    ['HIBERNATE', { HIBERNATE: '1' }],
    ['DEMO_ENABLED', { DEMO_ENABLED: 'yes' }],
    ['DEMO_ENABLED', { DEMO_ENABLED: 'TRUE' }],
    ['JOBCAST_LOCAL_DEV', { JOBCAST_LOCAL_DEV: 'on' }],
    ['RECONNECT_MS', { RECONNECT_MS: '1e3x' }],
    ['RESULT_TTL_SECONDS', { RESULT_TTL_SECONDS: 'an hour' }],
    ['SIGNING_KEY', { SIGNING_KEY: '8-bytes!' }],
    ['SIGNING_KEY', { SIGNING_KEY: 'x'.repeat(31) }],
    ['VACATED_AFTER_MS', { VACATED_AFTER_MS: '30s' }],
    ['WEBHOOK_SECRET', { WEBHOOK_URL: 'https://backend.example/hooks', WEBHOOK_SECRET: 'short' }],
    ['WEBHOOK_SECRET', { WEBHOOK_URL: 'https://backend.example/hooks' }],
    ['WEBHOOK_URL', { WEBHOOK_URL: 'http://backend.example/hooks', WEBHOOK_SECRET: 'w'.repeat(32) }],
    ['WEBHOOK_URL', { WEBHOOK_URL: 'backend.example', WEBHOOK_SECRET: 'w'.repeat(32) }],
    ['WEBHOOK_SECRET_PREVIOUS', { WEBHOOK_SECRET_PREVIOUS: 'short', WEBHOOK_URL: 'https://backend.example/hooks', WEBHOOK_SECRET: 'w'.repeat(32) }],
  ];
  for (const [name, vars] of bad) {
    it(`names ${name} when it is ${JSON.stringify(Object.values(vars)[0])}`, () => {
      expect(() => readConfig({ ...base, ...vars })).toThrow(name);
    });
  }

  it('reads flags as true or false, and an unset flag as its default', () => {
    expect(readConfig({ ...base, HIBERNATE: 'false' }).hibernate).toBe(false);
    expect(readConfig({ ...base, HIBERNATE: ' true ' }).hibernate).toBe(true);
    expect(readConfig({ ...base, HIBERNATE: '' }).hibernate).toBe(true);
    expect(readConfig({ ...base, DEMO_ENABLED: 'true' }).demoEnabled).toBe(true);
    expect(readConfig({ ...base, DEMO_ENABLED: 'false' }).demoEnabled).toBe(false);
  });

  it('takes a SIGNING_KEY of 32 bytes, counted in UTF-8', () => {
    expect(readConfig({ ...base, SIGNING_KEY: 'k'.repeat(32) }).signingKey).toBe('k'.repeat(32));
    // 16 characters, 32 bytes.
    expect(readConfig({ ...base, SIGNING_KEY: 'é'.repeat(16) }).signingKey).toBe('é'.repeat(16));
  });

  it('reads the webhook, http: only under wrangler dev', () => {
    const secret = 'w'.repeat(32);
    expect(readConfig({ ...base, WEBHOOK_URL: 'https://backend.example/hooks', WEBHOOK_SECRET: secret }).webhook).toEqual({ url: 'https://backend.example/hooks', secret, previousSecret: null });
    expect(readConfig({ ...base, WEBHOOK_URL: 'http://127.0.0.1:9000/hooks', WEBHOOK_SECRET: secret, JOBCAST_LOCAL_DEV: 'true' }).webhook?.url).toBe('http://127.0.0.1:9000/hooks');
    expect(readConfig({ ...base, VACATED_AFTER_MS: '5000' }).vacatedAfterMs).toBe(5000);
    const previous = 'p'.repeat(32);
    expect(readConfig({ ...base, WEBHOOK_URL: 'https://backend.example/hooks', WEBHOOK_SECRET: secret, WEBHOOK_SECRET_PREVIOUS: previous }).webhook?.previousSecret).toBe(previous);
  });

  it('never puts a secret into its error', () => {
    const key = 'short-secret';
    expect(() => readConfig({ ...base, SIGNING_KEY: key })).toThrow(/^(?!.*short-secret).*SIGNING_KEY must be at least 32 bytes/);
  });
});

describe('LOG_LEVEL=warn', () => {
  it('writes no line per backend call, for operators who pay per log line', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    try {
      const quiet = { ...env, LOG_LEVEL: 'warn' } as unknown as Env;
      expect(readConfig(quiet).logLevel).toBe('warn');
      const response = await app.request(`/jobs/${newJobId()}`, { method: 'PUT', headers: { Authorization: 'Bearer test-token-a' } }, quiet);
      expect(response.status).toBe(201);
      expect(lines.filter((line) => line.includes('backend call'))).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('configuration at the edge of the worker', () => {
  it('fails closed with 503 not_configured when deployed without API_TOKENS', async () => {
    const response = await app.request(`/jobs/${newJobId()}`, { method: 'PUT', headers: { Authorization: 'Bearer dev-api-token' } }, { ...base });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: 'not_configured' });
  });

  it('accepts the dev token under wrangler dev with no API_TOKENS', async () => {
    const response = await app.request(`/jobs/${newJobId()}`, { method: 'PUT', headers: { Authorization: 'Bearer dev-api-token' } }, { ...base, JOBCAST_LOCAL_DEV: 'true' });
    expect(response.status).toBe(201);
  });

  const unreadable: [string, Partial<Env>][] = [
    ['DEMO_ENABLED=yes', { DEMO_ENABLED: 'yes' }],
    ['HIBERNATE=1', { HIBERNATE: '1' }],
    ['an 8-byte SIGNING_KEY', { SIGNING_KEY: 'eightbyt' }],
  ];
  for (const [name, vars] of unreadable) {
    it(`answers 503 not_configured on every route but the stream's with ${name}, and logs the setting's name`, async () => {
      const lines: string[] = [];
      const spy = vi.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
      vi.spyOn(console, 'warn').mockImplementation((line: string) => void lines.push(line));
      try {
        const env = { ...base, API_TOKENS: 'a-token', ...vars };
        for (const [path, init] of [['/healthz', {}], [`/jobs/${newJobId()}`, { method: 'PUT', headers: { Authorization: 'Bearer a-token' } }], [`/jobs/${newJobId()}`, {}]] as const) {
          const response = await app.request(path, init, env);
          expect(response.status).toBe(503);
          expect(await response.json()).toMatchObject({ error: 'not_configured' });
        }
        // A 503 would stop a spec EventSource for good; the page is told to come back instead.
        await expectRetryAnswer(await app.request(`/sse/connect/${newJobId()}`, {}, env), 'not_configured', [7500, 15_000]);
        const setting = Object.keys(vars)[0];
        expect(lines.some((line) => JSON.parse(line).error.includes(setting))).toBe(true);
        expect(lines.join('\n')).not.toContain('eightbyt');
      } finally {
        spy.mockRestore();
        vi.restoreAllMocks();
      }
    });
  }

  it('answers 503 not_configured, without the bad value, when a setting cannot be read', async () => {
    const response = await app.request('/healthz', {}, { ...base, HEARTBEAT_MS: 'soon' });
    expect(response.status).toBe(503);
    const body = await response.json();
    expect(body).toMatchObject({ error: 'not_configured' });
    expect(JSON.stringify(body)).not.toContain('soon');
  });
});
