import { defineConfig } from 'vitest/config'

// The hardening suite (test/hardening/: fuzzing, hostile servers, soak, leaks), apart from the unit
// tests so its cost shows on its own line of `npm test`, and so its memory figures are taken with
// a real `gc` and one file at a time (no other file's garbage in the heap being sampled).
// SLUICE_FUZZ_RUNS and SLUICE_SOAK_FAULTS lengthen it (scripts/reliability.mjs --long).
export default defineConfig({
  resolve: { conditions: ['sluice-source'] },
  ssr: { resolve: { conditions: ['sluice-source'] } },
  test: {
    include: ['test/hardening/**/*.test.ts'],
    testTimeout: 60_000,
    execArgv: ['--expose-gc'],
    fileParallelism: false,
  },
})
