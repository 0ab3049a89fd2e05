import { defineConfig } from 'vitest/config'

export default defineConfig({
  // Workspace packages (sluice-server in the resilience tests, and its `sluice/protocol`) resolve from src.
  resolve: { conditions: ['sluice-source'] },
  ssr: { resolve: { conditions: ['sluice-source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    // test/hardening/ and test/resilience/ are suites of their own (vitest.hardening.config.ts,
    // vitest.resilience.config.ts) that feed RELIABILITY.md; test/browser/ runs in Chromium
    // (vitest.live-ui.config.ts).
    exclude: ['test/hardening/**', 'test/resilience/**', 'test/browser/**', '**/node_modules/**'],
    testTimeout: 20_000,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.test.json' },
  },
})
