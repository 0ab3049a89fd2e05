import { defineConfig } from 'vitest/config'

// Resolve `sluice` (and `sluice/protocol`) from its src through the `source` export condition, so
// the tests need no build. Setting conditions replaces Vite's defaults, so they are listed too.
const defaults = ['module', 'development|production']

export default defineConfig({
  resolve: { conditions: ['sluice-source', ...defaults, 'browser'] },
  ssr: { resolve: { conditions: ['sluice-source', ...defaults, 'node'] } },
  test: {
    include: ['test/**/*.test.ts'],
    // The whole-stack suite (real nginx over TLS, Chromium, Postgres) runs on its own: vitest.stack.config.ts;
    // the feed suite (real redis-server, three instances behind nginx): vitest.feeds.config.ts.
    exclude: ['test/stack/**', 'test/feeds/**', '**/node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
