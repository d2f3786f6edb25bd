import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { TEST_BINDINGS } from './test/support/bindings.ts';

export default defineConfig({
  test: {
    silent: 'passed-only',
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' }, miniflare: { bindings: TEST_BINDINGS } })],
        test: { name: 'workers', include: ['test/**/*.test.ts'], exclude: ['test/node/**', 'test/e2e/**'] },
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
