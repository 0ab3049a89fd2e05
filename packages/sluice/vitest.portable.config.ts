/**
 * The portable suite (test/portable/) under vitest: project `node` runs it in Node, project
 * `chromium` in real Chromium through playwright, `node-h2` its resume scenarios in Node over HTTP/2. The browser is the system's (Debian's
 * `chromium`), found on PATH at run time; nothing is downloaded. Run one project with
 * `vitest run -c vitest.portable.config.ts --project node` (or `chromium`).
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vitest/config'

const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url))

/** The system Chromium: $CHROMIUM_PATH, else the first of these names on PATH. */
function systemChromium(): string | undefined {
  if (process.env['CHROMIUM_PATH']) return process.env['CHROMIUM_PATH']
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim()
    } catch {
      // not on PATH: try the next name
    }
  }
  console.warn(
    "vitest.portable.config.ts: no chromium on PATH; install Debian's chromium (scripts/bootstrap.sh does) or set CHROMIUM_PATH",
  )
  return undefined
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
              launchOptions: {
                executablePath: systemChromium(),
                args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
              },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
})
