import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { METRICS_BINDINGS, TEST_BINDINGS } from './test/support/bindings.ts';

const pool = (vars: Record<string, string>) =>
  cloudflareTest({ wrangler: { configPath: './wrangler.toml' }, miniflare: { bindings: { ...TEST_BINDINGS, ...vars } } });
// Each project says its waiting mode in its name. HIBERNATE=true is the default (the worker relays
// the object's sockets); the suites that hold streams run again with HIBERNATE=false (the object
// holds the streams).
const hibernateMode = pool({ HIBERNATE: 'true' });
const noHibernateMode = pool({ HIBERNATE: 'false' });
/** The suites that hold streams, which run in both waiting modes. */
const BOTH_MODES = ['stream', 'retry', 'backend', 'races', 'departure', 'job-object', 'demo', 'security', 'billing', 'vacancy', 'migration'].map((name) => `test/${name}.test.ts`);
const devServer = { environment: 'node', testTimeout: 60_000, hookTimeout: 90_000 } as const;
/**
 * The metrics suites (test/metrics), which bind METRICS to a recorder themselves
 * (test/support/metrics-recorder.ts): notifications on, sent to a receiver that fails each one once
 * (test/support/webhook-receiver.js), and room for 1,000 streams on one job.
 */
const metricsPool = (hibernate: 'true' | 'false') =>
  cloudflareTest({
    wrangler: { configPath: './wrangler.toml' },
    miniflare: {
      bindings: { ...TEST_BINDINGS, ...METRICS_BINDINGS, HIBERNATE: hibernate },
      outboundService: 'webhook-receiver',
      workers: [{ name: 'webhook-receiver', modules: true, scriptPath: './test/support/webhook-receiver.js', compatibilityDate: '2026-10-01' }],
    },
  });

export default defineConfig({
  test: {
    silent: 'passed-only',
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        // Inside the Workers runtime (workerd), through the vitest plugin.
        plugins: [hibernateMode],
        test: { name: 'workers-hibernate', include: ['test/*.test.ts'] },
      },
      {
        plugins: [noHibernateMode],
        test: { name: 'workers-no-hibernate', include: BOTH_MODES },
      },
      {
        plugins: [metricsPool('true')],
        test: { name: 'workers-metrics-hibernate', include: ['test/metrics/*.test.ts'], testTimeout: 30_000 },
      },
      {
        plugins: [metricsPool('false')],
        test: { name: 'workers-metrics-no-hibernate', include: ['test/metrics/*.test.ts'], testTimeout: 30_000 },
      },
      {
        // Tests that reset or break the runtime on purpose: `npm test` runs them through
        // test/support/run-faults.ts, which keeps the runtime's stack traces out of the main output.
        plugins: [hibernateMode],
        test: { name: 'faults-hibernate', include: ['test/faults/*.test.ts'] },
      },
      {
        plugins: [noHibernateMode],
        test: { name: 'faults-no-hibernate', include: ['test/faults/*.test.ts'] },
      },
      {
        // Plain Node, no server: the browser client and the SDK against fakes.
        test: { name: 'client', include: ['test/client/**/*.test.ts'], environment: 'node' },
      },
      {
        // Against the real `wrangler dev`, which these tests start and stop themselves, with no
        // --var HIBERNATE: what `npm run dev` runs.
        test: { name: 'node-hibernate', include: ['test/node/**/*.test.ts'], ...devServer },
      },
      {
        // The same, every server started with HIBERNATE=false (test/node/support/dev-server.ts).
        // hibernation.test.ts starts a server of each mode itself; deploy-config.test.ts and
        // metrics-cli.test.ts start none.
        test: { name: 'node-no-hibernate', include: ['test/node/**/*.test.ts'], exclude: ['test/node/hibernation.test.ts', 'test/node/deploy-config.test.ts', 'test/node/metrics-cli.test.ts'], env: { JOBCAST_TEST_HIBERNATE: 'false' }, ...devServer },
      },
      {
        // Debian Chromium driven by playwright-core against `wrangler dev`: `npm run test:e2e`.
        test: { name: 'e2e-hibernate', include: ['test/e2e/**/*.test.ts'], ...devServer },
      },
      {
        // The README's and docs/api.md's code blocks, and the random walk over tabs (the client does
        // not know the mode), run once, in the default mode.
        test: { name: 'e2e-no-hibernate', include: ['test/e2e/**/*.test.ts'], exclude: ['test/e2e/snippets.test.ts', 'test/e2e/tabs-random.test.ts'], env: { JOBCAST_TEST_HIBERNATE: 'false' }, ...devServer },
      },
    ],
  },
});
