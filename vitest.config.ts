import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { TEST_BINDINGS } from './test/support/bindings';


export default defineConfig({
  test: {
    projects: [
      {
        plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' }, miniflare: { bindings: TEST_BINDINGS } })],
        test: { name: 'workers', silent: 'passed-only',  include: ['test/**/*.test.ts'], exclude: ['test/node/**'] },
      },
      {
        test: { name: 'node', include: ['test/node/**/*.test.ts'], environment: 'node', testTimeout: 60_000, hookTimeout: 60_000 },
      },
    ],
  },
});
