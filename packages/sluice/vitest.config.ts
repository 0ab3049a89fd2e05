import { defineConfig } from 'vitest/config'

export default defineConfig({
  // Workspace packages (sluice-server in the resilience tests, and its `sluice/protocol`) resolve from src.
  resolve: { conditions: ['sluice-source'] },
  ssr: { resolve: { conditions: ['sluice-source'] } },
  test: {
    include: ['test/**/*.test.ts'],
<<<<<<< HEAD
    // test/hardening/ is its own suite (vitest.hardening.config.ts): one file at a time, with gc.
    exclude: ['test/hardening/**', 'test/browser/**', '**/node_modules/**'],
=======
    // test/hardening/ and test/resilience/ are suites of their own (vitest.hardening.config.ts,
    // vitest.resilience.config.ts) that feed RELIABILITY.md.
    exclude: ['test/hardening/**', 'test/resilience/**', '**/node_modules/**'],
>>>>>>> main
    testTimeout: 20_000,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.test.json' },
  },
})
