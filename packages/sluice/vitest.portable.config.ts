/**
 * The portable suite (test/portable/) under vitest: project `node` runs it in Node, project
 * `chromium` in real Chromium through playwright, `node-h2` its resume scenarios in Node over HTTP/2. The browser is the system's (Debian's
 * `chromium`), found on PATH at run time; nothing is downloaded. Run one project with
 * `vitest run -c vitest.portable.config.ts --project node` (or `chromium`).
 */
import { fileURLToPath } from 'node:url'
import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vitest/config'
import { CHROMIUM_ARGS, systemChromium } from './test/browser/chromium.js'

const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url))

const chromium = systemChromium()
if (chromium === undefined) {
  console.warn(
    "vitest.portable.config.ts: no chromium on PATH; install Debian's chromium (scripts/bootstrap.sh does) or set CHROMIUM_PATH",
  )
}

const shared = {
  include: ['test/portable/entry.vitest.ts'],
  globalSetup: ['test/portable/global-setup.ts'],
  testTimeout: 20_000,
}

export default defineConfig({
  resolve: {
    // The suite imports the package by name, as users do; from inside the package that is its source.
    alias: [
      { find: /^sluice$/, replacement: src('index.ts') },
      { find: /^sluice\/protocol$/, replacement: src('protocol.ts') },
    ],
  },
  test: {
    projects: [
      { extends: true, test: { ...shared, name: 'node', environment: 'node' } },
      // The resume scenarios over HTTP/2: undici's fetch (allowH2) against the fixture server over TLS.
      {
        extends: true,
        test: { ...shared, include: ['test/portable/entry.node-h2.ts'], name: 'node-h2', environment: 'node' },
      },
      {
        extends: true,
        test: {
          ...shared,
          name: 'chromium',
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: { executablePath: chromium, args: CHROMIUM_ARGS },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
})
