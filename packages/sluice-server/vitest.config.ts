import { defineConfig } from 'vitest/config'

// Resolve `sluice` (and `sluice/protocol`) from its src through the `source` export condition, so
// the tests need no build. Setting conditions replaces Vite's defaults, so they are listed too.
const defaults = ['module', 'development|production']

export default defineConfig({
  resolve: { conditions: ['sluice-source', ...defaults, 'browser'] },
  ssr: { resolve: { conditions: ['sluice-source', ...defaults, 'node'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
