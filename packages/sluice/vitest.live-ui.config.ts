/**
 * The live UI suites (issue 15) in real Chromium, the system's (Debian's `chromium`):
 * - project `react`: test/browser/react.test.ts in vitest browser mode (a page of Chromium)
 * - project `tabs`: test/browser/tabs.test.ts in Node, driving several pages of one browser context
 *   through playwright against a loopback server.
 * - project `persist`: test/browser/persist.test.ts in Node, reloading one page mid-stream (issue 14).
 * Run one with `vitest run -c vitest.live-ui.config.ts --project react` (or `tabs`).
 */
import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vitest/config'
import { CHROMIUM_ARGS, systemChromium } from './test/browser/chromium.js'

export default defineConfig({
  // React is pre-bundled before the page loads: a late optimisation would reload the page mid-test.
  optimizeDeps: { include: ['react', 'react-dom/client'] },
  test: {
    testTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'tabs', environment: 'node', include: ['test/browser/tabs.test.ts'] } },
      // issue 14: `persist` across a page reload (playwright drives one page from Node).
      { extends: true, test: { name: 'persist', environment: 'node', include: ['test/browser/persist.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'react',
          include: ['test/browser/react.test.ts'],
          globalSetup: ['test/browser/global-setup.ts'],
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: systemChromium(), args: CHROMIUM_ARGS } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
})
