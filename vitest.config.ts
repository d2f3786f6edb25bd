import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { TEST_BINDINGS } from './test/support/bindings.ts';

const pool = (vars: Record<string, string>) =>
  cloudflareTest({ wrangler: { configPath: './wrangler.toml' }, miniflare: { bindings: { ...TEST_BINDINGS, ...vars } } });
const defaultMode = pool({});
const hibernateMode = pool({ HIBERNATE: 'true' });
/** The suites that hold streams, run again with HIBERNATE=true (the worker relays the object's sockets). */
const BOTH_MODES = ['stream', 'retry', 'backend', 'races', 'departure', 'job-object', 'demo', 'security'].map((name) => `test/${name}.test.ts`);
const devServer = { environment: 'node', testTimeout: 60_000, hookTimeout: 90_000 } as const;

export default defineConfig({
  test: {
    silent: 'passed-only',
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        // Inside the Workers runtime (workerd), through the vitest plugin.
        plugins: [defaultMode],
        test: { name: 'workers', include: ['test/*.test.ts'] },
      },
      {
        plugins: [hibernateMode],
        test: { name: 'workers-hibernate', include: BOTH_MODES },
      },
      {
        // Tests that reset or break the runtime on purpose: `npm test` runs them through
        // test/support/run-faults.ts, which keeps the runtime's stack traces out of the main output.
        plugins: [defaultMode],
        test: { name: 'faults', include: ['test/faults/*.test.ts'] },
      },
      {
        plugins: [hibernateMode],
        test: { name: 'faults-hibernate', include: ['test/faults/*.test.ts'] },
      },
      {
        // Plain Node, no server: the browser client and the SDK against fakes.
        test: { name: 'client', include: ['test/client/**/*.test.ts'], environment: 'node' },
      },
      {
        // Against the real `wrangler dev`, which these tests start and stop themselves.
        test: { name: 'node', include: ['test/node/**/*.test.ts'], ...devServer },
      },
      {
        // The same, every server started with HIBERNATE=true (test/node/support/dev-server.ts).
        test: { name: 'node-hibernate', include: ['test/node/**/*.test.ts'], exclude: ['test/node/hibernation.test.ts'], env: { JOBCAST_TEST_HIBERNATE: 'true' }, ...devServer },
      },
      {
        // Debian Chromium driven by playwright-core against `wrangler dev`: `npm run test:e2e`.
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], ...devServer },
      },
      {
        test: { name: 'e2e-hibernate', include: ['test/e2e/**/*.test.ts'], env: { JOBCAST_TEST_HIBERNATE: 'true' }, ...devServer },
      },
    ],
  },
});
