import { defineConfig } from 'vitest/config'

// Feeds (issue 12, test/feeds/): the Feed contract on memoryFeed and on a real redis-server,
// feedResponse over loopback HTTP, and three instances (child processes) behind a real nginx with
// kill -9 of an instance and of Redis. Files run one at a time: each starts real processes, and
// the machine has two cores. Resolution as vitest.config.ts.
const defaults = ['module', 'development|production']

export default defineConfig({
  resolve: { conditions: ['sluice-source', ...defaults, 'browser'] },
  ssr: { resolve: { conditions: ['sluice-source', ...defaults, 'node'] } },
  test: {
    include: ['test/feeds/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
