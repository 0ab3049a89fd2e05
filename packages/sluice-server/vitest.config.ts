import { defineConfig } from 'vitest/config'

export default defineConfig({
  // Resolve `sluice` (and `sluice/protocol`) from its src through the `source` export condition,
  // so the tests need no build.
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
