import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { TEST_BINDINGS } from './test/support/bindings.ts';

const workersPool = cloudflareTest({ wrangler: { configPath: './wrangler.toml' }, miniflare: { bindings: TEST_BINDINGS } });

export default defineConfig({
  test: {
    silent: 'passed-only',
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        // Inside the Workers runtime (workerd), through the vitest plugin.
        plugins: [workersPool],
        test: { name: 'workers', include: ['test/*.test.ts'] },
      },
      {
        // Tests that reset or break the runtime on purpose: `npm test` runs them through
        // test/support/run-faults.ts, which keeps the runtime's stack traces out of the main output.
        plugins: [workersPool],
        test: { name: 'faults', include: ['test/faults/*.test.ts'] },
      },
      {
        // Plain Node, no server: the browser client and the SDK against fakes.
        test: { name: 'client', include: ['test/client/**/*.test.ts'], environment: 'node' },
      },
      {
        // Against the real `wrangler dev`, which these tests start and stop themselves.
        test: { name: 'node', include: ['test/node/**/*.test.ts'], environment: 'node', testTimeout: 60_000, hookTimeout: 90_000 },
      },
      {
        // Debian Chromium driven by playwright-core against `wrangler dev`: `npm run test:e2e`.
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], environment: 'node', testTimeout: 60_000, hookTimeout: 90_000 },
      },
    ],
  },
});
