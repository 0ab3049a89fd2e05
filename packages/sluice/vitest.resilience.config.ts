import { defineConfig } from 'vitest/config'

// The resilience suite (test/resilience/): ndjson()/sse() against a chaos server injecting hundreds of
// random faults, and a server process killed and restarted mid-stream. Its figures go to RELIABILITY.md
// (scripts/reliability.mjs); apart from the unit tests so `npm run test:quick` stays fast.
export default defineConfig({
  resolve: { conditions: ['sluice-source'] },
  ssr: { resolve: { conditions: ['sluice-source'] } },
  test: {
    include: ['test/resilience/**/*.test.ts'],
    testTimeout: 20_000,
  },
})
