import { defineConfig } from 'vitest/config'

// The whole chain with real parts (test/stack/): nginx terminating TLS with http2, Chromium opening
// many streams to one origin, a Postgres cursor streamed through sluice-server. Files run one at a
// time: each starts heavy processes, and the machine has two cores. Resolution as vitest.config.ts.
const defaults = ['module', 'development|production']

export default defineConfig({
  resolve: { conditions: ['sluice-source', ...defaults, 'browser'] },
  ssr: { resolve: { conditions: ['sluice-source', ...defaults, 'node'] } },
  test: {
    include: ['test/stack/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
})
